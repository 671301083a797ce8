"""A booked stay's guest follows the name the calendar gives them ("Reserved" → "Reserved - Jane D", a Vrbo name
corrected), through the real sync over HTTP; but a name a person typed, a guest a person added and a guest on another
stay keep theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from bookings import feed_sync
from bookings.models import CalendarFeed, FeedEvent
from locks.models import Lock
from tenants.models import Guest, Stay
from tests.bookings.conftest import CalendarServer, calendar, event

pytestmark = pytest.mark.django_db
AIRBNB_DESCRIPTION = "DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMJANE4242"


def sync(feed: CalendarFeed) -> str:
    result = feed_sync.sync_feed(feed.pk)
    feed.refresh_from_db()
    return result


def guest_of(feed: CalendarFeed, uid: str) -> Guest:
    stay = FeedEvent.objects.get(feed=feed, uid=uid).stay
    assert stay is not None
    return Guest.objects.get(pk=stay.guest_id)


def test_airbnbs_reserved_becomes_the_guests_name_and_a_correction_follows(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    url = calendar_server.serve("/a.ics", calendar(event("res-1", 3, 6, "Reserved", AIRBNB_DESCRIPTION)))
    feed = make_feed(url)
    assert sync(feed) == "1 booked"
    guest = guest_of(feed, "res-1")
    assert guest.name == "Airbnb guest HMJANE4242"
    stay_id = FeedEvent.objects.get(uid="res-1").stay_id

    calendar_server.serve("/a.ics", calendar(event("res-1", 3, 6, "Reserved - Jane D", AIRBNB_DESCRIPTION)))
    assert sync(feed) == "1 changed, 1 unchanged"
    assert guest_of(feed, "res-1").pk == guest.pk  # the same guest and stay, renamed
    assert Guest.objects.get(pk=guest.pk).name == "Jane D"
    assert FeedEvent.objects.get(uid="res-1").summary == "Reserved - Jane D"
    assert FeedEvent.objects.get(uid="res-1").stay_id == stay_id
    renamed = AuditEvent.objects.get(action="guest.rename")
    assert renamed.summary.startswith("Airbnb guest HMJANE4242 → Jane D, as the calendar feed Airbnb")

    calendar_server.serve("/a.ics", calendar(event("res-1", 3, 6, "Reserved - Jane Doe", AIRBNB_DESCRIPTION)))
    sync(feed)
    assert Guest.objects.get(pk=guest.pk).name == "Jane Doe"  # Vrbo-style correction of the name
    assert sync(feed) == "unchanged"  # the same calendar again writes nothing
    assert AuditEvent.objects.filter(action="guest.rename").count() == 2


def test_a_name_a_person_typed_is_kept(calendar_server: CalendarServer, make_feed, flat_lock: Lock) -> None:
    url = calendar_server.serve("/v.ics", calendar(event("vrbo-1", 3, 6, "Reserved - Jane D")))
    feed = make_feed(url, name="Vrbo")
    sync(feed)
    guest = guest_of(feed, "vrbo-1")
    assert guest.name == "Jane D"
    Guest.objects.filter(pk=guest.pk).update(name="Jane Dupont (room 2 last year)")  # the desk knows her

    calendar_server.serve("/v.ics", calendar(event("vrbo-1", 3, 6, "Reserved - Jane Doe")))
    sync(feed)
    assert Guest.objects.get(pk=guest.pk).name == "Jane Dupont (room 2 last year)"
    assert FeedEvent.objects.get(uid="vrbo-1").summary == "Reserved - Jane Doe"  # the event itself follows
    assert not AuditEvent.objects.filter(action="guest.rename").exists()


def test_a_guest_a_person_added_or_on_another_stay_keeps_the_name(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock, owner
) -> None:
    body = calendar(event("vrbo-2", 3, 6, "Reserved - Sam K"), event("vrbo-3", 8, 10, "Reserved - Kim L"))
    feed = make_feed(calendar_server.serve("/v.ics", body), name="Vrbo")
    assert sync(feed) == "2 booked"
    added = guest_of(feed, "vrbo-2")
    Guest.objects.filter(pk=added.pk).update(created_by=owner)  # as if the desk had added this guest
    shared = guest_of(feed, "vrbo-3")
    later = timezone.now() + timedelta(days=20)
    Stay.objects.create(unit=feed.unit, guest=shared, check_in=later, check_out=later + timedelta(days=2))

    body = calendar(event("vrbo-2", 3, 6, "Reserved - Samuel K"), event("vrbo-3", 8, 10, "Reserved - Kimberly L"))
    calendar_server.serve("/v.ics", body)
    sync(feed)
    assert (Guest.objects.get(pk=added.pk).name, Guest.objects.get(pk=shared.pk).name) == ("Sam K", "Kim L")
