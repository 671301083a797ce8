"""Fixtures for the front desk: the lifecycle fixtures of tests/locks, plus people of every role and a second
organisation whose ids must stay out of reach."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from locks.models import CloudAccount, Lock
from tenants import services
from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.locks.conftest import (  # noqa: F401  (fixtures, found by pytest through this module)
    account,
    front_desk,
    guest,
    make_lock,
    org,
    owner,
    owner_client,
    queues,
    sim_url,
    unit,
    world,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def offline_lock(organisation: Organisation, room: Unit, name: str = "Room door") -> Lock:
    """A lock whose cloud is never called: in these tests on_commit never runs, so no job is enqueued."""
    cloud, _ = CloudAccount.objects.get_or_create(
        organisation=organisation,
        name="Cloud",
        defaults={"endpoint": "http://127.0.0.1:9", "access_id": "x", "access_secret": "y"},
    )
    return Lock.objects.create(
        organisation=organisation, cloud_account=cloud, unit=room, device_id=f"dev-{room.pk}", name=name, kind="wifi"
    )


def book(room: Unit, person: Guest, hours: tuple[float, float] = (-1, 20)) -> Stay:
    now = timezone.now()
    return services.book_stay(
        unit=room, guest=person, check_in=now + timedelta(hours=hours[0]), check_out=now + timedelta(hours=hours[1])
    )


@pytest.fixture
def lock(org: Organisation, unit: Unit) -> Lock:  # noqa: F811
    return offline_lock(org, unit)


@pytest.fixture
def stay(lock: Lock, unit: Unit, guest: Guest) -> Stay:  # noqa: F811
    return book(unit, guest)


@pytest.fixture
def desk(client: Client, front_desk: Any) -> Client:  # noqa: F811
    client.force_login(front_desk)
    return client


@pytest.fixture
def viewer(org: Organisation, django_user_model: Any) -> Client:  # noqa: F811
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    Membership.objects.create(user=user, organisation=org, role=Role.VIEWER)
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def other_stay(db: None) -> Stay:
    """A stay of another organisation."""
    other = Organisation.objects.create(name="Harbour Inn", slug="harbour")
    prop = Property.objects.create(organisation=other, name="Harbour Inn", kind=Property.Kind.HOTEL)
    room = Unit.objects.create(property=prop, name="Room 1")
    offline_lock(other, room)
    return book(room, Guest.objects.create(organisation=other, name="Grace Hopper"))
