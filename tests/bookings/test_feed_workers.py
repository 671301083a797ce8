"""The whole way round, with real workers and the simulator over HTTP: the periodic look-up queues the due feed,
a worker reads the calendar and books the stay, the stay's code reaches the lock and opens it; the calendar moves the
stay, and the lock's password follows."""

from __future__ import annotations

import django_rq
import pytest
from rq.registry import FailedJobRegistry

from bookings import feed_sync
from bookings.models import FeedEvent
from locks.models import AccessCode
from tenants.models import Stay
from tests.bookings.conftest import CalendarServer, calendar, event
from tests.locks.conftest import run_workers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_feed_books_through_the_workers_and_its_code_opens_the_door(
    calendar_server: CalendarServer, make_feed, make_lock, unit, world
) -> None:
    lock = make_lock("wifi")
    feed = make_feed(calendar_server.serve("/cal.ics", calendar(event("r1", 0, 3, "Reserved - Ada L"))), unit=unit)
    assert feed_sync.sync_due_feeds() == 1
    run_workers()  # the sync job, then the converge job its booking enqueued
    run_workers()
    assert FailedJobRegistry(queue=django_rq.get_queue("sync")).count == 0
    stay = Stay.objects.get()
    assert (stay.guest.name, FeedEvent.objects.get().stay) == ("Ada L", stay)
    code = AccessCode.objects.get()
    assert code.status == AccessCode.Status.SET
    assert world.opens(lock.device_id, code.pin)

    calendar_server.serve("/cal.ics", calendar(event("r1", 0, 5, "Reserved - Ada L")))
    assert feed_sync.sync_feed(feed.pk) == "1 changed"
    run_workers()
    code.refresh_from_db()
    stay.refresh_from_db()
    assert (code.status, code.ends_at) == (AccessCode.Status.SET, stay.check_out)
    (stored,) = world.passwords(lock.device_id)
    assert stored["invalid_time"] == int(stay.check_out.timestamp())
