"""Idle timeouts by role in the organisation a user works in (config.middleware.SessionTimeout), an owner's own
setting for their organisation on the set-up page, and what the middleware costs. Time moves the way
tests/config/test_security.py moves it: the session's times are set back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from config.middleware import SESSION_IDLE, SESSION_SEEN, SESSION_STARTED, SessionTimeout
from tenants.context import SESSION_KEY as ORGANISATION_KEY
from tenants.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db

PAGE = "/portfolio/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def org() -> Organisation:
    return Organisation.objects.create(name="Canal Hotel", slug="canal")


def member(django_user_model: Any, org: Organisation, role: str, name: str | None = None) -> Any:
    user = django_user_model.objects.create_user(name or role, password="correct-horse-battery")
    Membership.objects.create(user=user, organisation=org, role=role)
    return user


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    assert still_in(client)  # the first request starts the clock and works the timeout out
    return client


def idle_for(client: Client, seconds: int) -> None:
    session = client.session
    session[SESSION_SEEN] = int(time.time()) - seconds
    session.save()


def still_in(client: Client) -> bool:
    """Whether the session is alive: the page (or its 404, for a user with no organisation), not the sign-in form."""
    response = client.get(PAGE)
    assert response.status_code in (200, 302, 404)
    return not (response.status_code == 302 and response["Location"].startswith(reverse("login")))


@pytest.mark.parametrize(
    ("role", "minutes"), [(Role.FRONT_DESK, 15), (Role.OWNER, 30), (Role.MANAGER, 30), (Role.VIEWER, 60)]
)
def test_each_role_idles_out_after_its_own_default(
    django_user_model: Any, org: Organisation, role: str, minutes: int
) -> None:
    client = signed_in(member(django_user_model, org, role))
    idle_for(client, minutes * 60 - 30)
    assert still_in(client)
    idle_for(client, minutes * 60 + 1)
    assert not still_in(client)
    assert not still_in(client)  # signed out, not only sent away once


def test_the_front_desk_is_out_long_before_a_viewer(django_user_model: Any, org: Organisation) -> None:
    desk, viewer = (signed_in(member(django_user_model, org, role)) for role in (Role.FRONT_DESK, Role.VIEWER))
    for client in (desk, viewer):
        idle_for(client, 20 * 60)
    assert (still_in(desk), still_in(viewer)) == (False, True)


def test_a_user_with_no_membership_keeps_the_global_timeout(django_user_model: Any, settings: Any) -> None:
    admin = django_user_model.objects.create_superuser("root", password="correct-horse-battery")
    client = signed_in(admin)
    idle_for(client, settings.SESSION_IDLE_TIMEOUT_SECONDS - 60)
    assert still_in(client)
    idle_for(client, settings.SESSION_IDLE_TIMEOUT_SECONDS + 1)
    assert not still_in(client)


def test_the_defaults_are_settings(django_user_model: Any, org: Organisation, settings: Any) -> None:
    settings.SESSION_IDLE_TIMEOUT_FRONT_DESK_MINUTES = 6
    client = signed_in(member(django_user_model, org, Role.FRONT_DESK))
    idle_for(client, 7 * 60)
    assert not still_in(client)


def test_an_organisations_own_setting_applies_to_signed_in_members(django_user_model: Any, org: Organisation) -> None:
    desk = signed_in(member(django_user_model, org, Role.FRONT_DESK))
    viewer = signed_in(member(django_user_model, org, Role.VIEWER))
    Organisation.objects.filter(pk=org.pk).update(idle_minutes_front_desk=120, idle_minutes_viewer=5)
    idle_for(desk, 60 * 60)  # far past the default 15, within the organisation's 120
    idle_for(viewer, 6 * 60)  # within the default 60, past the organisation's 5
    assert (still_in(desk), still_in(viewer)) == (True, False)


def test_the_timeout_follows_the_organisation_switched_to(django_user_model: Any, org: Organisation) -> None:
    other = Organisation.objects.create(name="Zuid Flats", slug="zuid")
    user = member(django_user_model, org, Role.VIEWER, name="both")
    Membership.objects.create(user=user, organisation=other, role=Role.FRONT_DESK)
    client = signed_in(user)  # Canal Hotel first (by name): a viewer, 60 minutes
    assert client.session[SESSION_IDLE] == [None, 60 * 60]
    client.post(reverse("switch-organisation"), {"organisation": other.pk})
    client.get(PAGE)
    assert client.session[SESSION_IDLE] == [other.pk, 15 * 60]  # worked out again at once, not a minute later
    idle_for(client, 20 * 60)
    assert not still_in(client)


def test_a_changed_role_applies_within_a_minute(django_user_model: Any, org: Organisation) -> None:
    user = member(django_user_model, org, Role.VIEWER)
    client = signed_in(user)
    Membership.objects.filter(user=user).update(role=Role.FRONT_DESK)
    idle_for(client, 20 * 60)
    assert not still_in(client)


def test_polling_never_outlasts_the_absolute_timeout(django_user_model: Any, org: Organisation, settings: Any) -> None:
    client = signed_in(member(django_user_model, org, Role.VIEWER))
    session = client.session
    session[SESSION_STARTED] = int(time.time()) - settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS - 1
    session[SESSION_SEEN] = int(time.time()) - 5  # it kept polling
    session.save()
    response = client.get(PAGE, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


# --- what it costs ----------------------------------------------------------------------------------------------


def run_middleware(user: Any, session: SessionStore) -> HttpResponse:
    request: HttpRequest = RequestFactory().get(PAGE)
    request.user = user
    request.session = session
    return SessionTimeout(lambda r: HttpResponse("ok"))(request)


def test_no_query_until_a_minute_has_passed(
    django_user_model: Any, org: Organisation, django_assert_num_queries: Any
) -> None:
    user = member(django_user_model, org, Role.FRONT_DESK)
    now = int(time.time())
    session = SessionStore()
    session.update({SESSION_STARTED: now - 600, SESSION_SEEN: now - 30, SESSION_IDLE: [None, 900]})
    with django_assert_num_queries(0):
        assert run_middleware(user, session).status_code == 200
    session[SESSION_SEEN] = now - 61
    with django_assert_num_queries(1):  # the membership with its organisation, once a minute
        assert run_middleware(user, session).status_code == 200
    assert session[SESSION_SEEN] >= now
    assert session[SESSION_IDLE] == [None, 900]
    session[ORGANISATION_KEY] = org.pk  # another organisation chosen: worked out again now
    with django_assert_num_queries(1):
        run_middleware(user, session)
    assert session[SESSION_IDLE] == [org.pk, 900]


# --- the owner's setting on the set-up page ----------------------------------------------------------------------

SETTING = "/setup/idle-timeouts/"


def post_setting(client: Client, **minutes: Any) -> Any:
    data = {f"idle_minutes_{group}": minutes.get(group, "") for group in ("front_desk", "manager", "viewer")}
    return client.post(SETTING, data)


def test_an_owner_sets_the_timeouts_and_it_is_audited(django_user_model: Any, org: Organisation) -> None:
    client = signed_in(member(django_user_model, org, Role.OWNER))
    page = client.get(reverse("locks:setup")).content.decode()
    assert "Idle timeouts" in page
    assert 'placeholder="15"' in page
    response = post_setting(client, front_desk=10, viewer=90)
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.idle_minutes_front_desk, org.idle_minutes_manager, org.idle_minutes_viewer) == (10, None, 90)
    event = AuditEvent.objects.get(action="organisation.idle_timeouts")
    assert event.organisation_id == org.pk
    assert event.summary == "idle timeouts: front desk 10 min, owners and managers 30 min, viewers 90 min"
    assert post_setting(client).status_code == 302  # all empty: back to the defaults
    org.refresh_from_db()
    assert org.idle_minutes_front_desk is None


@pytest.mark.parametrize("minutes", [4, 721, -1, "ten"])
def test_out_of_range_is_refused_beside_the_field(django_user_model: Any, org: Organisation, minutes: Any) -> None:
    client = signed_in(member(django_user_model, org, Role.OWNER))
    response = post_setting(client, front_desk=minutes)
    assert response.status_code == 400
    assert 'aria-labelledby="timeouts-heading"' in response.content.decode()
    org.refresh_from_db()
    assert org.idle_minutes_front_desk is None
    assert not AuditEvent.objects.filter(action="organisation.idle_timeouts").exists()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FRONT_DESK, Role.VIEWER])
def test_only_owners_set_them(django_user_model: Any, org: Organisation, role: str) -> None:
    client = signed_in(member(django_user_model, org, role))
    assert post_setting(client, front_desk=600).status_code == 403
    org.refresh_from_db()
    assert org.idle_minutes_front_desk is None
    if role == Role.MANAGER:
        assert "Idle timeouts" not in client.get(reverse("locks:setup")).content.decode()


def test_an_owner_sets_only_their_own_organisation(django_user_model: Any, org: Organisation) -> None:
    other = Organisation.objects.create(name="Zuid Flats", slug="zuid")
    client = signed_in(member(django_user_model, org, Role.OWNER))
    session = client.session
    session[ORGANISATION_KEY] = other.pk  # not theirs: the current organisation stays their own
    session.save()
    assert post_setting(client, front_desk=600).status_code == 302
    other.refresh_from_db()
    org.refresh_from_db()
    assert (other.idle_minutes_front_desk, org.idle_minutes_front_desk) == (None, 600)


@pytest.mark.parametrize(("value", "ok"), [("4", False), ("721", False), ("5", True), ("720", True)])
def test_settings_refuse_a_default_out_of_range(value: str, ok: bool) -> None:
    env = {**os.environ, "SESSION_IDLE_TIMEOUT_VIEWER_MINUTES": value, "DJANGO_SETTINGS_MODULE": "config.settings"}
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert (run.returncode == 0) == ok, run.stderr[-500:]
    if not ok:
        assert f"SESSION_IDLE_TIMEOUT_VIEWER_MINUTES must be from 5 to 720, got {value}" in run.stderr
