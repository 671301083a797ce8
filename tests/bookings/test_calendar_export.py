"""Each unit's calendar export (`/calendar/<token>.ics`): RFC 5545 read back with icalendar, what it carries (when a
room is taken, never by whom, no PINs), conditional GETs, and the owners' and managers' buttons that hand it out."""

# ruff: noqa: F811  (the fixtures imported below are parameters of the tests)
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from audit.models import AuditEvent
from bookings import calendar_export
from bookings.models import CalendarFeed, FeedEvent, UnitCalendarExport
from locks.models import AccessCode, Lock
from tenants import services
from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.locks.conftest import front_desk, guest, org, owner, owner_client, queues, unit  # noqa: F401
from tests.tenants.conftest import book, desk, lock, other_stay, viewer  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_budget(queues: None, settings: Any) -> None:
    """Empty Redis (the rate limit's counters) and fast hashing for every test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def guest_with_contacts(org: Organisation) -> Guest:
    return Guest.objects.create(organisation=org, name="Ada Lovelace", email="ada@example.com", phone="+31612345678")


def url_of(unit: Unit) -> str:
    return reverse("guest:unit-calendar", kwargs={"token": calendar_export.export_for(unit).token})


def events_of(body: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_the_export_parses_back_with_stays_and_owner_blocks(
    client: Client, lock: Lock, unit: Unit, guest_with_contacts: Guest, org: Organisation
) -> None:
    now = timezone.now()
    current = book(unit, guest_with_contacts, (-2, 20))
    upcoming = book(unit, guest_with_contacts, (48, 96))
    cancelled = book(unit, guest_with_contacts, (120, 140))
    services.cancel_stay(cancelled)
    left = Stay.objects.create(
        unit=unit,
        guest=guest_with_contacts,
        status=Stay.Status.CHECKED_OUT,
        check_in=now - timedelta(days=10),
        check_out=now - timedelta(days=9),
    )
    long_ago = Stay.objects.create(
        unit=unit, guest=guest_with_contacts, status=Stay.Status.CHECKED_OUT,
        check_in=now - timedelta(days=60), check_out=now - timedelta(days=58),
    )  # fmt: skip
    feed = CalendarFeed.objects.create(organisation=org, unit=unit, name="Airbnb", url="https://example.com/a.ics")
    block = FeedEvent.objects.create(
        feed=feed, uid="owner-1@airbnb", kind=FeedEvent.Kind.BLOCKED, state=FeedEvent.State.BOOKED,
        starts_at=now + timedelta(days=10), ends_at=now + timedelta(days=12), last_seen_at=now, summary="Owner stay",
    )  # fmt: skip
    FeedEvent.objects.create(  # an ignored block is not the unit's
        feed=feed, uid="ignored@airbnb", kind=FeedEvent.Kind.BLOCKED, state=FeedEvent.State.IGNORED,
        starts_at=now + timedelta(days=20), ends_at=now + timedelta(days=22), last_seen_at=now,
    )  # fmt: skip

    response = client.get(url_of(unit))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["ETag"].startswith('"')
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    events = events_of(response.content)
    host = "127.0.0.1"
    assert set(events) == {
        f"stay-{current.pk}@{host}",
        f"stay-{upcoming.pk}@{host}",
        f"stay-{cancelled.pk}@{host}",
        f"stay-{left.pk}@{host}",
        f"block-{block.pk}@{host}",
    }
    assert f"stay-{long_ago.pk}@{host}" not in events
    booked = events[f"stay-{upcoming.pk}@{host}"]
    assert str(booked["SUMMARY"]) == "Booked"
    assert str(booked["STATUS"]) == "CONFIRMED"
    assert booked.start == upcoming.check_in.replace(microsecond=0)
    assert booked.end == upcoming.check_out.replace(microsecond=0)
    assert booked.start.utcoffset() == timedelta(0)  # UTC
    assert booked["DTSTAMP"].dt
    assert booked["LAST-MODIFIED"].dt
    assert str(events[f"stay-{cancelled.pk}@{host}"]["STATUS"]) == "CANCELLED"
    assert str(events[f"block-{block.pk}@{host}"]["SUMMARY"]) == "Blocked"


def test_no_guest_name_contact_details_or_pins(
    client: Client, lock: Lock, unit: Unit, guest_with_contacts: Guest
) -> None:
    stay = book(unit, guest_with_contacts)
    body = client.get(url_of(unit)).content.decode()
    pins = [code.pin for code in AccessCode.objects.filter(stay=stay)]
    assert pins
    for private in ["Ada", "Lovelace", "ada@example.com", "+31612345678", "612345678", *pins]:
        assert private not in body
    assert "stay-" in body  # the body was read, and had the stay


def test_the_export_changes_when_a_stay_changes_and_answers_304_when_not(
    client: Client, lock: Lock, unit: Unit, guest: Guest
) -> None:
    stay = book(unit, guest)
    url = url_of(unit)
    first = client.get(url)
    again = client.get(url)
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    unchanged = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304
    assert not unchanged.content
    services.change_stay(stay, check_out=stay.check_out + timedelta(days=1))
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    (event,) = events_of(changed.content).values()
    stay.refresh_from_db()
    assert event.end == stay.check_out.replace(microsecond=0)


def test_unknown_token_is_404_and_a_new_link_kills_the_old(
    client: Client, owner_client: Client, lock: Lock, unit: Unit
) -> None:
    assert client.get(reverse("guest:unit-calendar", kwargs={"token": "n" * 32})).status_code == 404
    old = url_of(unit)
    assert client.get(old).status_code == 200
    response = owner_client.post(reverse("guest:calendar-export-new", args=[unit.pk]))
    assert response.status_code == 200
    token = UnitCalendarExport.objects.get(unit=unit).token
    assert f"/calendar/{token}.ics" in response.content.decode()
    assert client.get(old).status_code == 404
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    assert AuditEvent.objects.filter(action="calendar_export.link_renewed", object_id=str(unit.pk)).count() == 1


def test_the_owner_shows_the_link_from_the_property_page_by_post(owner_client: Client, lock: Lock, unit: Unit) -> None:
    prop_page = owner_client.get(reverse("locks:property", args=[unit.property_id])).content.decode()
    exports = reverse("guest:calendar-exports", args=[unit.property_id])
    assert exports in prop_page
    page = owner_client.get(exports).content.decode()
    assert "Room 12" in page
    assert "Show link" in page
    assert not UnitCalendarExport.objects.exists()  # a GET makes nothing
    response = owner_client.post(reverse("guest:calendar-export-show", args=[unit.pk]))
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    token = UnitCalendarExport.objects.get(unit=unit).token
    assert f"http://127.0.0.1:8000/calendar/{token}.ics" in response.content.decode()
    assert token not in owner_client.get(exports).content.decode()  # shown again only on request
    assert AuditEvent.objects.filter(action="calendar_export.link_shown", object_id=str(unit.pk)).count() == 1


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.VIEWER])
def test_only_owners_and_managers_hand_out_the_calendar(
    client: Client, django_user_model: Any, org: Organisation, lock: Lock, unit: Unit, role: str
) -> None:
    user = django_user_model.objects.create_user(f"user-{role}")
    Membership.objects.create(user=user, organisation=org, role=role)
    client.force_login(user)
    assert (
        reverse("guest:calendar-exports", args=[unit.property_id])
        not in client.get(reverse("locks:property", args=[unit.property_id])).content.decode()
    )
    assert client.get(reverse("guest:calendar-exports", args=[unit.property_id])).status_code == 403
    assert client.post(reverse("guest:calendar-export-show", args=[unit.pk])).status_code == 403
    assert client.post(reverse("guest:calendar-export-new", args=[unit.pk])).status_code == 403
    assert not UnitCalendarExport.objects.exists()


def test_another_organisations_unit_is_404(owner_client: Client, other_stay: Stay) -> None:
    other_unit = other_stay.unit
    assert owner_client.get(reverse("guest:calendar-exports", args=[other_unit.property_id])).status_code == 404
    assert owner_client.post(reverse("guest:calendar-export-show", args=[other_unit.pk])).status_code == 404
    assert owner_client.post(reverse("guest:calendar-export-new", args=[other_unit.pk])).status_code == 404
    assert not UnitCalendarExport.objects.exists()


def test_a_manager_of_the_organisation_may(
    client: Client, django_user_model: Any, org: Organisation, unit: Unit
) -> None:
    user = django_user_model.objects.create_user("manager")
    Membership.objects.create(user=user, organisation=org, role=Role.MANAGER)
    client.force_login(user)
    assert client.post(reverse("guest:calendar-export-show", args=[unit.pk])).status_code == 200
    assert UnitCalendarExport.objects.filter(unit=unit).exists()


def test_the_calendar_is_rate_limited_per_link(client: Client, settings: Any, unit: Unit) -> None:
    settings.GUEST_PAGE_RATE_LIMIT_PER_MINUTE = 2
    url = url_of(unit)
    assert [Client(REMOTE_ADDR=f"192.0.2.{n}").get(url).status_code for n in range(3)] == [200, 200, 429]
    refused = Client().get(url)
    assert refused.status_code == 429
    assert "try again in" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1
    # Another unit's calendar, from the same addresses, is not held up (channel managers share addresses).
    other = Unit.objects.create(property=unit.property, name="Room 14")
    assert Client(REMOTE_ADDR="192.0.2.0").get(url_of(other)).status_code == 200


def test_a_limited_desk_property_page_has_no_export(
    client: Client, front_desk: Any, unit: Unit, lock: Lock, org: Organisation
) -> None:
    Membership.objects.get(user=front_desk).limit_to([unit.property])
    client.force_login(front_desk)
    annex = Property.objects.create(organisation=org, name="Annex")
    assert client.get(reverse("guest:calendar-exports", args=[annex.pk])).status_code == 404


def test_the_queries_do_not_grow_with_the_stays(
    client: Client, unit: Unit, guest: Guest, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    for day in range(40):
        Stay.objects.create(
            unit=unit, guest=guest, check_in=now + timedelta(days=day), check_out=now + timedelta(days=day, hours=20)
        )
    url = url_of(unit)
    with django_assert_max_num_queries(3):  # the export, its stays, its owner blocks
        response = client.get(url)
    assert len(events_of(response.content)) == 40
