"""The whole way round, with real workers and the simulator over HTTP: the periodic look-up queues the due feed,
a worker reads the calendar and books the stay, the stay's code reaches the lock and opens it; the calendar moves the
stay, and the lock's password follows."""

from __future__ import annotations

import threading
from datetime import timedelta

import django_rq
import pytest
from django.db import connection
from django.utils import timezone
from rq.registry import FailedJobRegistry

from bookings import feed_sync
from bookings.models import FeedEvent
from locks.models import AccessCode, Alert
from tenants import services
from tenants.models import Guest, Stay
from tests.bookings.conftest import CalendarServer, calendar, event
from tests.locks.conftest import run_workers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_feed_books_through_the_workers_and_its_code_opens_the_door(
    calendar_server: CalendarServer, make_feed, make_lock, unit, world
) -> None:
    lock = make_lock("wifi")
    # From yesterday: the stay has begun at whatever hour the test runs (from today it would begin at today's check-in
    # time in the property's zone, still ahead before then, and a code is refused by the lock before its window).
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", -1, 3, "Reserved - Ada L"))), unit=unit)
    assert feed_sync.sync_due_feeds() == 1
    run_workers()  # the sync job, then the converge job its booking enqueued
    run_workers()
    assert FailedJobRegistry(queue=django_rq.get_queue("sync")).count == 0
    stay = Stay.objects.get()
    assert (stay.guest.name, FeedEvent.objects.get().stay) == ("Ada L", stay)
    code = AccessCode.objects.get()
    assert code.status == AccessCode.Status.SET
    assert world.opens(lock.device_id, code.pin)

    calendar_server.serve("/cal.ics", calendar(event("r1", -1, 5, "Reserved - Ada L")))
    assert feed_sync.sync_feed(feed.pk) == "1 changed"
    run_workers()
    code.refresh_from_db()
    stay.refresh_from_db()
    assert (code.status, code.ends_at) == (AccessCode.Status.SET, stay.check_out)
    (stored,) = world.passwords(lock.device_id)
    assert stored["invalid_time"] == int(stay.check_out.timestamp())


def test_a_desk_stay_cancelled_frees_the_feeds_double_booking(
    calendar_server: CalendarServer, make_feed, make_lock, unit, org, world
) -> None:
    """The desk's stay held the room, so the feed's reservation was a double booking, not booked. Cancelled at the
    desk (tenants.services, which knows nothing of feeds), the next periodic run reads the feed again, although its
    calendar has not changed and its time has not come: the reservation is booked and the alert resolved."""
    make_lock("wifi")
    now = timezone.now()
    walk_in = Guest.objects.create(organisation=org, name="Walk In")
    desk = services.book_stay(
        unit=unit, guest=walk_in, check_in=now + timedelta(days=3), check_out=now + timedelta(days=4)
    )
    make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 2, 6, "Reserved - Ada L"))), unit=unit)
    assert feed_sync.sync_due_feeds() == 1
    run_workers()
    (held,) = FeedEvent.objects.all()
    assert (held.state, held.stay) == (FeedEvent.State.CONFLICT, None)
    (alert,) = Alert.objects.filter(kind=Alert.Kind.DOUBLE_BOOKING, resolved_at__isnull=True)
    assert feed_sync.sync_due_feeds() == 0  # still taken: the feed waits for its own time
    assert calendar_server.hits("/cal.ics") == 1

    services.cancel_stay(desk)
    assert feed_sync.sync_due_feeds() == 1
    run_workers()
    run_workers()  # the converge job its booking enqueued
    assert FailedJobRegistry(queue=django_rq.get_queue("sync")).count == 0
    booked = FeedEvent.objects.get()
    assert booked.state == FeedEvent.State.BOOKED
    assert booked.stay is not None
    assert booked.stay.guest.name == "Ada L"
    assert booked.stay.status == Stay.Status.BOOKED
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert feed_sync.sync_due_feeds() == 0  # booked now: nothing more to read


def sync_at_once(feed_ids: list[int]) -> list[Exception]:
    """Each feed synced by a thread of its own, all let go at the same moment; the errors they raised."""
    start = threading.Barrier(len(feed_ids))
    errors: list[Exception] = []

    def run(feed_id: int) -> None:
        try:
            start.wait()
            feed_sync.sync_feed(feed_id)
        except Exception as error:  # noqa: BLE001  (reported by the caller)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(feed_id,)) for feed_id in feed_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks that make the second sync wait")
def test_two_feeds_synced_at_once_never_double_book(calendar_server: CalendarServer, make_feed, flat_lock) -> None:
    for attempt in range(5):
        Stay.objects.all().update(status=Stay.Status.CANCELLED)  # the unit free again for the next attempt
        feeds = [
            make_feed(
                calendar_server.serve(f"/{attempt}-{name}.ics", calendar(event(f"{name}-{attempt}", 3, 6 + n))),
                name=name,
            )  # fmt: skip
            for n, name in enumerate(("Airbnb", "Vrbo"))
        ]
        assert sync_at_once([feed.pk for feed in feeds]) == []
        assert Stay.objects.filter(status=Stay.Status.BOOKED).count() == 1
        states = FeedEvent.objects.filter(feed__in=feeds).values_list("state", flat=True)
        assert sorted(states) == [FeedEvent.State.BOOKED, FeedEvent.State.CONFLICT]
