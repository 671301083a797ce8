"""The lock and property pages as a new user met them (issue 11, D.18): no empty "Lock tools", a word for healthy
locks, no Show PIN for a code on its way off the lock, an offline password's window after issuing, years shown
when they are not this year."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from locks.models import AccessCode, LockOperation
from tenants.models import Membership, Role
from tests.locks.test_weekly_validity import make_lock

pytestmark = pytest.mark.django_db
AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")


def member(client: Client, lock: Any, role: str, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user(role, password=f"pw-{role}-1")
    Membership.objects.create(user=user, organisation=lock.organisation, role=role)
    client.force_login(user)
    return client


def code_on(lock: Any, **fields: Any) -> AccessCode:
    now = timezone.now()
    values = {"label": "Ada", "pin": "482913", "time_zone": "Europe/Amsterdam"}
    values |= {"starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(days=1), **fields}
    return AccessCode.objects.create(organisation=lock.organisation, lock=lock, **values)


def test_the_property_pages_codes_column_speaks_for_healthy_locks(client: Client, django_user_model: Any) -> None:
    lock = make_lock()
    owner = member(client, lock, Role.OWNER, django_user_model)
    url = reverse("locks:property", args=[lock.unit.property_id])
    assert "No codes" in owner.get(url).content.decode()
    code_on(lock, status=AccessCode.Status.SET)
    code_on(lock, status=AccessCode.Status.SET, pin="739164")
    html = owner.get(url).content.decode()
    assert "2 on the lock" in html
    assert "No codes" not in html


def test_no_empty_lock_tools_heading_for_someone_with_no_tool(client: Client, django_user_model: Any) -> None:
    lock = make_lock()
    viewer = member(client, lock, Role.VIEWER, django_user_model)
    url = reverse("locks:lock", args=[lock.pk])
    assert "Lock tools" not in viewer.get(url).content.decode()
    LockOperation.objects.create(organisation=lock.organisation, lock=lock, kind="dynamic", status="done")
    assert "Lock tools" in viewer.get(url).content.decode()  # now there is something under it


def test_a_manager_sees_lock_tools(client: Client, django_user_model: Any) -> None:
    lock = make_lock()
    manager = member(client, lock, Role.MANAGER, django_user_model)
    assert "Lock tools" in manager.get(reverse("locks:lock", args=[lock.pk])).content.decode()


def test_a_code_on_its_way_off_the_lock_offers_no_show_pin(client: Client, django_user_model: Any) -> None:
    lock = make_lock()
    owner = member(client, lock, Role.OWNER, django_user_model)
    code = code_on(lock, status=AccessCode.Status.SET)
    url = reverse("locks:lock", args=[lock.pk])
    assert "Show PIN" in owner.get(url).content.decode()
    AccessCode.objects.filter(pk=code.pk).update(desired=AccessCode.Desired.REMOVED, status="removing")
    assert "Show PIN" not in owner.get(url).content.decode()


def test_an_issued_offline_password_shows_its_rounded_window_in_the_propertys_zone(
    client: Client, django_user_model: Any
) -> None:
    lock = make_lock()
    owner = member(client, lock, Role.OWNER, django_user_model)
    start = (timezone.now() + timedelta(days=1)).astimezone(AMS).replace(hour=14, minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=4)
    LockOperation.objects.create(
        organisation=lock.organisation,
        lock=lock,
        kind="offline",
        label="Plumber",
        status="done",
        params={"type": "multiple", "effective_time": int(start.timestamp()), "invalid_time": int(end.timestamp())},
        result={"password_id": "9", "effective_time": int(start.timestamp()), "invalid_time": int(end.timestamp())},
    )
    html = client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert f"Valid {start:%a} {start.day} {start:%b} 14:00 – {end:%a} {end.day} {end:%b} 18:00" in html
    assert "rounded to whole hours" in html
    operation = LockOperation.objects.get()
    row = owner.get(reverse("locks:operation-row", args=[operation.pk])).content.decode()
    assert f"{start.day} {start:%b} 14:00" in row  # the polled row too, in Amsterdam's hours


def test_code_dates_on_the_lock_page_show_the_year_when_it_is_not_this_year(
    client: Client, django_user_model: Any
) -> None:
    lock = make_lock()
    owner = member(client, lock, Role.OWNER, django_user_model)
    lease_end = timezone.now() + timedelta(days=400)
    code_on(lock, ends_at=lease_end)
    html = owner.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    end = lease_end.astimezone(AMS)
    assert f"{end:%a} {end.day} {end:%b %Y %H:%M}" in html
    start = (timezone.now() - timedelta(hours=1)).astimezone(AMS)
    if start.year == timezone.now().astimezone(AMS).year:
        assert f"{start:%a} {start.day} {start:%b %H:%M}" in html
