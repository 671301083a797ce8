"""bookings/feed_sync.py: a unit's stays follow its calendar feeds over real HTTP (a calendar server on 127.0.0.1).

Booked once, moved, cancelled, never cut short while the guest is in, never double-booked, and the same calendar
again writes nothing but the feed's own sync times. A feed that fails keeps its stays and says why."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_rq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from bookings import feed_sync
from bookings.models import BookingPolicy, CalendarFeed, FeedEvent
from locks.models import AccessCode, Alert, Lock
from tenants import services
from tenants.models import Guest, Organisation, Property, Stay, Unit
from tests.bookings.conftest import ZONE, CalendarServer, calendar, event, ics, timed, today
from tests.tenants.conftest import offline_lock

pytestmark = pytest.mark.django_db
State = FeedEvent.State
AMSTERDAM = Property(time_zone=ZONE).tz


def at(offset: int, hour: int) -> datetime:
    return datetime.combine(today() + timedelta(days=offset), time(hour), tzinfo=AMSTERDAM)


def sync(feed: CalendarFeed) -> str:
    result = feed_sync.sync_feed(feed.pk)
    feed.refresh_from_db()
    return result


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def the_stay(feed: CalendarFeed, uid: str) -> Stay:
    found = FeedEvent.objects.select_related("stay").get(feed=feed, uid=uid).stay
    assert found is not None
    return found


def open_alerts(kind: str) -> list[Alert]:
    return list(Alert.objects.filter(kind=kind, resolved_at__isnull=True))


# --- booking, and the same calendar again -------------------------------------------------------------------------


def test_first_sync_books_and_the_same_calendar_again_writes_nothing(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    feed = make_feed(calendar_server.serve("/airbnb.ics", ics("airbnb.ics"), etag='"a1"'))
    assert sync(feed) == "1 booked"
    stay = the_stay(feed, "1418fb94e984-b2d9d0b5e7b8f2bd2d2e7b2b0a0d1a1e@airbnb.com")
    assert (stay.check_in, stay.check_out, stay.status) == (at(3, 15), at(6, 11), Stay.Status.BOOKED)
    assert stay.kind == Stay.Kind.HOTEL
    assert stay.guest.name == "Airbnb guest HMABC12345"
    assert "Phone number ends in 1234." in stay.guest.notes
    assert "https://www.airbnb.com/hosting/reservations/details/HMABC12345" in stay.guest.notes
    (code,) = stay.access_codes.all()
    assert (code.lock, code.starts_at, code.ends_at) == (flat_lock, stay.check_in, stay.check_out)
    states = sorted(FeedEvent.objects.filter(feed=feed).values_list("state", flat=True))
    assert states == [State.BOOKED, State.IGNORED, State.IGNORED]  # Airbnb's "Not available": not guests
    assert (feed.events_found, feed.etag, feed.failing_since, feed.last_error) == (3, '"a1"', None, "")
    assert feed.next_sync_at == feed.last_success_at + timedelta(minutes=feed.every_minutes)
    assert AuditEvent.objects.filter(action="stay.book").count() == 1
    assert AuditEvent.objects.get(action="feed.sync").summary == "Calendar feed Airbnb: 1 booked"

    # The server says 304: only the feed's own row is written (its lease, then its sync times).
    with CaptureQueriesContext(connection) as queries:
        assert sync(feed) == "not modified"
    assert len(writes(queries)) == 2
    assert all('"bookings_calendarfeed"' in sql for sql in writes(queries))
    assert calendar_server.requests[-1][1]["if-none-match"] == '"a1"'

    # No ETag, and the export stamped anew (DTSTAMP): the same bookings, still nothing but the feed's row.
    calendar_server.serve("/airbnb.ics", ics("airbnb.ics", stamp=timezone.now() + timedelta(hours=1)))
    updated = Stay.objects.get().updated_at
    with CaptureQueriesContext(connection) as queries:
        assert sync(feed) == "unchanged"
    assert len(writes(queries)) == 2
    assert all('"bookings_calendarfeed"' in sql for sql in writes(queries))
    assert Stay.objects.get().updated_at == updated
    assert AccessCode.objects.count() == 1
    assert AuditEvent.objects.filter(action__in=["stay.book", "stay.change", "feed.sync"]).count() == 2


def test_a_new_body_with_the_same_bookings_changes_no_stay_code_or_event(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    url = calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6), event("r2", 9, 12)))
    feed = make_feed(url)
    assert sync(feed) == "2 booked"
    calendar_server.serve("/cal.ics", calendar(event("r2", 9, 12), event("r1", 3, 6), "UID:x\nSUMMARY:no dates"))
    with CaptureQueriesContext(connection) as queries:
        assert sync(feed) == "2 unchanged"
    touched = {sql.split('"')[1] for sql in writes(queries)}
    assert touched == {"bookings_calendarfeed", "bookings_feedevent"}  # the feed's times; the events' last_seen_at
    assert not [sql for sql in writes(queries) if "bookings_feedevent" in sql and "last_seen_at" not in sql]
    assert "has no start" in feed.last_error


def test_vrbo_guest_by_name_and_blocks_booked_as_owner_blocks(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    feed = make_feed(calendar_server.serve("/vrbo.ics", ics("vrbo.ics")), name="Vrbo", blocked="block")
    assert sync(feed) == "2 booked"
    stay = Stay.objects.get()
    assert (stay.guest.name, stay.guest.email) == ("Jane D", "jane.d@example.com")
    block = FeedEvent.objects.get(feed=feed, summary="Blocked")
    assert (block.state, block.stay) == (State.BOOKED, None)
    assert AccessCode.objects.count() == 1  # the block has no code


def test_a_booking_com_feed_set_to_book_its_entries_gets_its_guests_codes(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    """Booking.com marks its reservations "CLOSED - Not available": ignored by default, guests when told so."""
    url = calendar_server.serve("/booking.ics", ics("booking.ics"))
    ignoring = make_feed(url, name="Booking.com")
    assert sync(ignoring) == "nothing to do"
    assert not Stay.objects.exists()
    ignoring.delete()
    booking = make_feed(url, name="Booking.com", blocked="book")
    assert sync(booking) == "1 booked"
    stay = Stay.objects.get()
    assert stay.guest.name.startswith("Booking.com guest")
    assert AccessCode.objects.filter(stay=stay).count() == 1


def test_google_calendar_books_timed_and_repeating_events(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    feed = make_feed(calendar_server.serve("/google.ics", ics("google.ics")), name="Google")
    assert sync(feed) == "5 booked"
    jan = Stay.objects.get(guest__name="Jan Jansen")
    assert jan.guest.email == "jan.jansen@example.com"
    assert Stay.objects.filter(guest__name="Weekly consultant").count() == 3


def test_a_guest_the_calendar_does_not_name_is_named_by_code_or_by_date(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    url = "DESCRIPTION:Reservation URL: https://channel.example/bookings/ZX81ABCD"
    odd = event("odd", 11, 12, "Reserved", "DESCRIPTION:Email: ann@mail..example")  # an e-mail that is none: left out
    body = calendar(event("plain", 3, 5), event("coded", 7, 9, "Reserved", url), odd)
    feed = make_feed(calendar_server.serve("/cal.ics", body), name="")  # no name: the URL's host names the feed
    assert sync(feed) == "3 booked"
    names = sorted(Guest.objects.values_list("name", flat=True))
    assert names == sorted(
        [f"127.0.0.1 guest {today() + timedelta(days=3):%Y-%m-%d}", "127.0.0.1 guest ZX81ABCD",
         f"127.0.0.1 guest {today() + timedelta(days=11):%Y-%m-%d}"]
    )  # fmt: skip
    assert Guest.objects.get(name__endswith="ZX81ABCD").notes.endswith("https://channel.example/bookings/ZX81ABCD")
    assert set(Guest.objects.values_list("email", flat=True)) == {""}


def test_a_long_stay_at_a_rental_is_a_lease(calendar_server: CalendarServer, make_feed, flat_lock: Lock) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("month", 2, 32, "Reserved - Ann B"))))
    sync(feed)
    assert Stay.objects.get().kind == Stay.Kind.LONG_TERM


# --- changes, cancellations, disappearances -----------------------------------------------------------------------


def test_new_dates_move_the_stay_and_its_codes(calendar_server: CalendarServer, make_feed, flat_lock: Lock) -> None:
    url = calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6)))
    feed = make_feed(url)
    sync(feed)
    calendar_server.serve("/cal.ics", calendar(event("r1", 4, 9)))
    assert sync(feed) == "1 changed"
    stay = the_stay(feed, "r1")
    assert (stay.check_in, stay.check_out) == (at(4, 15), at(9, 11))
    (code,) = stay.access_codes.all()
    assert (code.starts_at, code.ends_at) == (at(4, 15), at(9, 11))
    row = FeedEvent.objects.get(feed=feed, uid="r1")
    assert (row.starts_at, row.ends_at, row.state) == (at(4, 15), at(9, 11), State.BOOKED)
    assert AuditEvent.objects.filter(action="stay.change").count() == 1


def test_cancelled_in_the_calendar_cancels_the_stay_and_its_codes(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6), event("r2", 9, 12))))
    sync(feed)
    calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6, "Reserved", "STATUS:CANCELLED"), event("r2", 9, 12)))
    assert sync(feed) == "1 cancelled, 1 unchanged"
    stay = the_stay(feed, "r1")
    assert stay.status == Stay.Status.CANCELLED
    assert [c.desired for c in stay.access_codes.all()] == [AccessCode.Desired.REMOVED]
    assert FeedEvent.objects.get(feed=feed, uid="r1").state == State.CANCELLED
    assert the_stay(feed, "r2").status == Stay.Status.BOOKED


def test_gone_from_the_calendar_cancels_a_stay_not_begun(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6), event("r2", 9, 12))))
    sync(feed)
    calendar_server.serve("/cal.ics", calendar(event("r2", 9, 12)))
    assert sync(feed) == "1 cancelled, 1 unchanged"
    assert the_stay(feed, "r1").status == Stay.Status.CANCELLED
    assert AuditEvent.objects.filter(action="stay.cancel").count() == 1


def test_gone_while_the_guest_is_in_is_flagged_never_cut_short(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    now = timezone.now()
    begun = timed("in", now - timedelta(hours=20), now + timedelta(days=2), "Reserved - Ida")
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(begun, event("r2", 9, 12))))
    assert sync(feed) == "2 booked"
    stay = the_stay(feed, "in")
    assert stay.status == Stay.Status.CHECKED_IN  # booked already begun: the guest is in
    check_out = stay.check_out
    calendar_server.serve("/cal.ics", calendar(event("r2", 9, 12)))
    assert sync(feed) == "1 need a person, 1 unchanged"
    stay.refresh_from_db()
    assert (stay.status, stay.check_out) == (Stay.Status.CHECKED_IN, check_out)
    assert stay.access_codes.get().desired != AccessCode.Desired.REMOVED
    row = FeedEvent.objects.get(feed=feed, uid="in")
    assert row.state == State.NEEDS_ATTENTION
    assert "while the guest is in" in row.problem
    (alert,) = open_alerts(Alert.Kind.STAY_NEEDS_ATTENTION)
    assert alert.lock == flat_lock
    assert "Ida" in alert.text
    # Read again (another change in the calendar): no second alert, nothing cut.
    calendar_server.serve("/cal.ics", calendar(event("r2", 9, 12), event("r3", 20, 22)))
    assert sync(feed) == "1 booked, 1 unchanged"
    assert Alert.objects.get(kind=Alert.Kind.STAY_NEEDS_ATTENTION).count == 1


def test_a_booking_back_in_the_calendar_is_followed_again_and_its_alert_resolved(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    now = timezone.now()
    begun = timed("in", now - timedelta(hours=20), now + timedelta(days=2), "Reserved - Ida")
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(begun, event("r2", 9, 12))))
    sync(feed)
    calendar_server.serve("/cal.ics", calendar(event("r2", 9, 12)))
    assert sync(feed) == "1 need a person, 1 unchanged"
    calendar_server.serve("/cal.ics", calendar(begun, event("r2", 9, 12)))  # the channel's hiccup is over
    assert sync(feed) == "2 unchanged"
    assert FeedEvent.objects.get(feed=feed, uid="in").state == State.BOOKED
    assert not open_alerts(Alert.Kind.STAY_NEEDS_ATTENTION)
    # The guest stays longer: followed, though the guest is in (only the end moves).
    longer = timed("in", now - timedelta(hours=20), now + timedelta(days=4), "Reserved - Ida")
    calendar_server.serve("/cal.ics", calendar(longer, event("r2", 9, 12)))
    assert sync(feed) == "1 changed, 1 unchanged"
    stay = the_stay(feed, "in")
    assert stay.check_out == (now + timedelta(days=4)).replace(microsecond=0)
    assert stay.access_codes.get().ends_at == stay.check_out


def test_a_move_that_cannot_be_followed_while_the_guest_is_in_is_flagged_once_and_ends_when_undone(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    now = timezone.now()
    staying = timed("in", now - timedelta(hours=20), now + timedelta(days=2), "Reserved - Ida")
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(staying)))
    sync(feed)
    stay = the_stay(feed, "in")
    moved = calendar(timed("in", now + timedelta(days=5), now + timedelta(days=7), "Reserved - Ida"))
    calendar_server.serve("/cal.ics", moved)
    assert sync(feed) == "1 need a person"
    row = FeedEvent.objects.get(uid="in")
    assert row.state == State.NEEDS_ATTENTION
    assert "cannot be followed" in row.problem
    assert (row.starts_at, row.ends_at) == (stay.check_in, stay.check_out)  # the dates its stay follows
    after_flag = the_stay(feed, "in")
    assert (after_flag.check_in, after_flag.check_out, after_flag.status) == (
        stay.check_in, stay.check_out, Stay.Status.CHECKED_IN,
    )  # fmt: skip
    calendar_server.serve("/cal.ics", moved + b"\r\n")  # read again (a new body): said already, nothing written
    assert sync(feed) == "1 unchanged"
    assert Alert.objects.get(kind=Alert.Kind.STAY_NEEDS_ATTENTION).count == 1
    calendar_server.serve("/cal.ics", calendar(staying))  # the channel undoes it
    assert sync(feed) == "1 unchanged"
    assert FeedEvent.objects.get(uid="in").state == State.BOOKED
    assert not open_alerts(Alert.Kind.STAY_NEEDS_ATTENTION)


def test_owner_blocks_follow_their_dates_and_go_when_they_go(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("b1", 3, 6, "Blocked"))), blocked="block")
    assert sync(feed) == "1 booked"
    calendar_server.serve("/cal.ics", calendar(event("b1", 3, 8, "Blocked")))
    assert sync(feed) == "1 changed"
    calendar_server.serve("/cal.ics", calendar(event("r1", 20, 22)))
    assert sync(feed) == "1 booked, 1 cancelled"
    assert FeedEvent.objects.get(uid="b1").state == State.CANCELLED


def test_a_calendar_whose_every_event_is_broken_cancels_nothing(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6))))
    sync(feed)
    calendar_server.serve("/cal.ics", calendar("DTSTART;VALUE=DATE:20300101\nSUMMARY:No UID"))
    assert sync(feed).startswith("failed: The calendar came back empty")
    assert the_stay(feed, "r1").status == Stay.Status.BOOKED


def test_a_stay_that_is_over_is_left_alone(calendar_server: CalendarServer, make_feed, flat_lock: Lock) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6), event("r2", 9, 12))))
    sync(feed)
    stay = the_stay(feed, "r1")
    services.check_out_stay(stay)  # the desk ended it early
    calendar_server.serve("/cal.ics", calendar(event("r2", 9, 12)))
    assert sync(feed) == "1 unchanged"
    stay.refresh_from_db()
    assert stay.status == Stay.Status.CHECKED_OUT
    assert FeedEvent.objects.get(feed=feed, uid="r1").state == State.BOOKED


def test_an_event_that_ended_is_never_booked(calendar_server: CalendarServer, make_feed, flat_lock: Lock) -> None:
    now = timezone.now()
    ended = timed("old", now - timedelta(hours=10), now - timedelta(hours=2))
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(ended)))
    sync(feed)
    row = FeedEvent.objects.get(feed=feed)
    assert (row.state, row.stay) == (State.IGNORED, None)
    assert "ended before" in row.problem
    assert not Stay.objects.exists()


# --- double bookings and refusals ---------------------------------------------------------------------------------


def test_an_overlap_across_two_feeds_books_one_and_alerts_once(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    airbnb = make_feed(calendar_server.serve("/airbnb.ics", calendar(event("a1", 3, 6))), name="Airbnb")
    vrbo = make_feed(calendar_server.serve("/vrbo.ics", calendar(event("v1", 5, 8, "Reserved - Bo"))), name="Vrbo")
    assert sync(airbnb) == "1 booked"
    assert sync(vrbo) == "1 double bookings"
    assert Stay.objects.count() == 1
    row = FeedEvent.objects.get(feed=vrbo)
    assert (row.state, row.stay) == (State.CONFLICT, None)
    assert row.problem.startswith("It overlaps Airbnb's booking")
    (alert,) = open_alerts(Alert.Kind.DOUBLE_BOOKING)
    assert alert.lock == flat_lock
    assert "Vrbo" in alert.text
    assert "Airbnb" in alert.text
    # Read again with another change: the same pair is the same alert, counted once.
    calendar_server.serve("/vrbo.ics", calendar(event("v1", 5, 8, "Reserved - Bo"), event("v2", 30, 33)))
    assert sync(vrbo) == "1 booked, 1 double bookings"
    assert Alert.objects.get(kind=Alert.Kind.DOUBLE_BOOKING).count == 1
    # Airbnb's guest cancels: Vrbo's calendar is read again (same body) and books; the alert is resolved.
    calendar_server.serve("/airbnb.ics", calendar(event("a2", 40, 42)))
    assert sync(airbnb) == "1 booked, 1 cancelled"
    vrbo.refresh_from_db()
    assert vrbo.content_hash == ""
    assert sync(vrbo) == "1 booked, 1 unchanged"
    assert FeedEvent.objects.get(feed=vrbo, uid="v1").state == State.BOOKED
    assert not open_alerts(Alert.Kind.DOUBLE_BOOKING)


def test_new_dates_onto_another_feeds_booking_are_not_followed(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    airbnb = make_feed(calendar_server.serve("/airbnb.ics", calendar(event("a1", 3, 6))), name="Airbnb")
    vrbo = make_feed(calendar_server.serve("/vrbo.ics", calendar(event("v1", 10, 12, "Reserved - Bo"))), name="Vrbo")
    sync(airbnb)
    sync(vrbo)
    calendar_server.serve("/vrbo.ics", calendar(event("v1", 5, 8, "Reserved - Bo")))
    assert sync(vrbo) == "1 double bookings"
    stay = the_stay(vrbo, "v1")
    assert (stay.check_in, stay.check_out) == (at(10, 15), at(12, 11))  # kept its dates
    row = FeedEvent.objects.get(feed=vrbo)
    assert row.state == State.BOOKED
    assert "It overlaps Airbnb's booking" in row.problem
    assert row.problem.endswith("the stay keeps its dates.")
    (alert,) = open_alerts(Alert.Kind.DOUBLE_BOOKING)
    assert "“Reserved - Bo” was not moved. New dates" in alert.text
    # The channel puts it back: followed (nothing to move), and the alert is resolved.
    calendar_server.serve("/vrbo.ics", calendar(event("v1", 14, 16, "Reserved - Bo")))
    assert sync(vrbo) == "1 changed"
    assert not open_alerts(Alert.Kind.DOUBLE_BOOKING)
    assert FeedEvent.objects.get(feed=vrbo).problem == ""


def test_an_owner_block_of_another_feed_counts_as_taken(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    blocks = make_feed(calendar_server.serve("/b.ics", ics("booking.ics")), name="Booking.com", blocked="block")
    airbnb = make_feed(calendar_server.serve("/a.ics", calendar(event("a1", 9, 11))), name="Airbnb")
    assert sync(blocks) == "1 booked"
    assert sync(airbnb) == "1 double bookings"
    assert "Booking.com's block" in FeedEvent.objects.get(feed=airbnb).problem


def test_an_overlap_with_a_desk_booking_is_a_conflict(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock, rental: Unit, org: Organisation
) -> None:
    desk = services.book_stay(
        unit=rental,
        guest=Guest.objects.create(organisation=org, name="Walk In"),
        check_in=at(4, 15),
        check_out=at(5, 11),
    )
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("a1", 3, 6))))
    assert sync(feed) == "1 double bookings"
    row = FeedEvent.objects.get(feed=feed)
    assert row.state == State.CONFLICT
    assert "Walk In's stay" in row.problem
    assert "booked at the desk" in row.problem
    assert list(Stay.objects.all()) == [desk]
    assert len(open_alerts(Alert.Kind.DOUBLE_BOOKING)) == 1


def test_a_double_booking_freed_by_any_path_is_read_again_once(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock
) -> None:
    """Another feed's block removed by the feed's removal (no sync of it ran): the held-up feed reads its calendar
    again at the next periodic look; if that read fails, it goes back to its own pace rather than every minute."""
    blocks = make_feed(calendar_server.serve("/b.ics", ics("booking.ics")), name="Booking.com", blocked="block")
    airbnb = make_feed(calendar_server.serve("/a.ics", calendar(event("a1", 9, 11))), name="Airbnb")
    assert sync(blocks) == "1 booked"
    assert sync(airbnb) == "1 double bookings"
    assert feed_sync.read_again_where_freed() == 0  # still blocked
    blocks.delete()
    assert feed_sync.read_again_where_freed() == 1
    airbnb.refresh_from_db()
    assert (airbnb.content_hash, airbnb.next_sync_at <= timezone.now()) == ("", True)
    calendar_server.serve("/a.ics", b"down", status=503)
    assert sync(airbnb).startswith("failed")
    assert feed_sync.read_again_where_freed() == 0  # waits for its own next time, already set
    calendar_server.serve("/a.ics", calendar(event("a1", 9, 11)))
    assert sync(airbnb) == "1 booked"
    assert not open_alerts(Alert.Kind.DOUBLE_BOOKING)


def test_a_hotel_refuses_its_own_overlap_and_a_unit_without_lock_is_refused(
    calendar_server: CalendarServer, make_feed, org: Organisation
) -> None:
    hotel = Property.objects.create(organisation=org, name="Canal Hotel", kind=Property.Kind.HOTEL, time_zone=ZONE)
    room = Unit.objects.create(property=hotel, name="Room 3")
    url = calendar_server.serve("/cal.ics", calendar(event("h1", 3, 6), event("h2", 5, 7)))
    feed = make_feed(url, unit=room)
    assert sync(feed) == "2 need a person"
    assert {row.state for row in FeedEvent.objects.all()} == {State.REFUSED}
    assert "attach a lock" in FeedEvent.objects.first().problem
    offline_lock(org, room)
    feed.content_hash = ""
    feed.save()
    assert sync(feed) == "1 booked, 1 need a person"
    refused = FeedEvent.objects.get(uid="h2")
    assert refused.state == State.REFUSED
    assert refused.problem == "Not booked: Canal Hotel · Room 3 is already booked for part of that time."


# --- feeds that fail ----------------------------------------------------------------------------------------------

BAD_BODIES = {
    "html": (b"<!DOCTYPE html><html><body><form>Log in</form></body></html>", "web page (perhaps a sign-in page)"),
    "truncated": (calendar(event("r1", 3, 6))[:60], "cut off"),
    "empty calendar": (calendar(), "came back empty while 1 of its bookings are still ahead"),
}


@pytest.mark.parametrize("kind", ["html", "truncated", "enormous", "server error", "private address", "empty calendar"])
def test_a_broken_feed_keeps_its_stays_and_says_why(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock, settings, kind: str
) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6))))
    sync(feed)
    stay = the_stay(feed, "r1")
    if kind in BAD_BODIES:
        body, words = BAD_BODIES[kind]
        calendar_server.serve("/cal.ics", body)
    elif kind == "enormous":
        settings.FEED_MAX_BYTES = 256 * 1024
        calendar_server.serve("/cal.ics", b"", repeat_bytes=20 * 1024 * 1024)
        words = "larger than 0.25 MB"
    elif kind == "server error":
        calendar_server.serve("/cal.ics", b"down", status=500)
        words = "The calendar server answered 500 Internal Server Error."
    else:
        settings.FEED_ALLOW_PRIVATE_URLS = False
        words = "127.0.0.1 is a private or local address"
    assert sync(feed).startswith("failed:")
    assert words in feed.last_error
    assert feed.failing_since is not None
    stay.refresh_from_db()
    assert (stay.status, stay.check_in, stay.check_out) == (Stay.Status.BOOKED, at(3, 15), at(6, 11))
    assert FeedEvent.objects.get(feed=feed).state == State.BOOKED
    assert stay.access_codes.get().desired != AccessCode.Desired.REMOVED


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("DTSTART;VALUE=DATE:{d5}\nDTEND;VALUE=DATE:{d7}\nSUMMARY:No UID", "without a UID"),
        ("UID:back\nDTSTART;VALUE=DATE:{d9}\nDTEND;VALUE=DATE:{d7}\nSUMMARY:Back", "ends before it starts"),
        ("UID:mars\nDTSTART;TZID=Mars/Base:{d9}T100000\nDTEND;TZID=Mars/Base:{d10}T100000", "Mars/Base"),
    ],
)
def test_a_bad_event_is_skipped_in_words_and_the_rest_followed(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock, bad: str, words: str
) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6))))
    sync(feed)
    days = {f"d{n}": (today() + timedelta(days=n)).strftime("%Y%m%d") for n in (5, 7, 9, 10)}
    calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6), bad.format(**days), event("r2", 12, 14)))
    assert sync(feed) == "1 booked, 1 unchanged"
    assert words in feed.last_error
    assert feed.failing_since is None
    assert the_stay(feed, "r1").status == Stay.Status.BOOKED
    assert Stay.objects.count() == 2


def test_failing_longer_than_the_policy_says_is_an_alert_resolved_when_it_works(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock, rental: Unit
) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6))))
    sync(feed)
    calendar_server.serve("/cal.ics", b"", status=503)
    sync(feed)
    assert not open_alerts(Alert.Kind.FEED_FAILING)  # failing for a moment only
    BookingPolicy.objects.filter(property=rental.property).update(feed_alert_after_hours=2)
    CalendarFeed.objects.filter(pk=feed.pk).update(failing_since=timezone.now() - timedelta(hours=3))
    sync(feed)
    (alert,) = open_alerts(Alert.Kind.FEED_FAILING)
    assert alert.lock == flat_lock
    assert "503 Service Unavailable" in alert.text
    assert "Airbnb" in alert.text
    calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6)))
    assert sync(feed) == "unchanged"  # the same calendar as before it failed: no stay touched
    assert (feed.failing_since, feed.last_error) == (None, "")
    assert not open_alerts(Alert.Kind.FEED_FAILING)
    assert Alert.objects.get(kind=Alert.Kind.FEED_FAILING).resolved_at is not None


# --- the periodic look-up, the lease, the workers ------------------------------------------------------------------


def test_a_feed_being_synced_is_not_synced_twice(calendar_server: CalendarServer, make_feed, flat_lock: Lock) -> None:
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 3, 6))))
    CalendarFeed.objects.filter(pk=feed.pk).update(sync_claimed_at=timezone.now())
    assert feed_sync.sync_feed(feed.pk) == "busy or gone"
    assert calendar_server.hits("/cal.ics") == 0
    CalendarFeed.objects.filter(pk=feed.pk).update(sync_claimed_at=timezone.now() - timedelta(minutes=16))
    assert feed_sync.sync_feed(feed.pk) == "1 booked"  # a lease left by a dead worker lapses


def test_due_feeds_are_enqueued_once_in_due_order(make_feed, queues, org: Organisation) -> None:
    now = timezone.now()
    late = make_feed("https://example.com/late.ics", next_sync_at=now - timedelta(minutes=5))
    new = make_feed("https://example.com/new.ics")
    make_feed("https://example.com/later.ics", next_sync_at=now + timedelta(minutes=5))
    make_feed("https://example.com/off.ics", enabled=False)
    assert feed_sync.due_feed_ids(now) == [new.pk, late.pk]
    assert feed_sync.sync_due_feeds() == 2
    assert feed_sync.sync_due_feeds() == 0  # still waiting: not queued again
    jobs = django_rq.get_queue("sync").get_jobs()
    assert sorted(job.args[0] for job in jobs) == sorted([new.pk, late.pk])
    assert {job.func_name for job in jobs} == {"bookings.feed_sync.sync_feed"}
