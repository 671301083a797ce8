"""Issue 14's "done means", the whole way round: a landlord pastes a unit's calendar link on the Calendar feeds page,
and from then on the stay, its code, the fallback and the guest's message happen with nobody at the dashboard. Real
RQ workers do the work against the simulated cloud over HTTP; the periodic jobs (`check_arrivals`,
`send_due_messages`) are called as the periodic table calls them, with the hour they would run at passed in. The
lock is offline, so its code never confirms: the arrival ends on the fallback. Then the desk sees it at a glance,
and the guest's link shows the code and the fallback. The property is in New York, the server in UTC."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import arrivals, messages
from bookings.models import Arrival, CalendarFeed, FeedEvent, StayMessage
from locks.models import AccessCode, Alert, LockOperation
from tenants.models import Property, Stay
from tests.bookings.conftest import CalendarServer, calendar, timed
from tests.locks.conftest import run_workers

pytestmark = pytest.mark.django_db(transaction=True)
HOUR = timedelta(hours=1)


def test_a_pasted_calendar_link_books_codes_falls_back_and_tells_the_guest_by_itself(
    client: Any,
    owner: Any,
    make_lock: Any,
    unit: Any,
    world: Any,
    calendar_server: CalendarServer,
    outbox: Path,
    settings: Any,
) -> None:
    settings.SIM_ISSUE_PASSWORD_INTERVAL = 0
    settings.PUBLIC_BASE_URL = "http://testserver"
    Property.objects.filter(pk=unit.property_id).update(kind=Property.Kind.RENTAL, time_zone="America/New_York")
    lock = make_lock("zigbee")
    world.online(lock.device_id, False)  # its gateway cannot reach it: the code will never be confirmed

    # The guest arrives in 20 hours (the guest page is open from 24 h before), for three nights.
    start = (timezone.now() + 20 * HOUR).replace(second=0, microsecond=0)
    reservation = timed("jane-1@vrbo.com", start, start + 72 * HOUR, "Reserved - Jane D")
    url = calendar_server.serve("/vrbo.ics", calendar(reservation + "\nDESCRIPTION:Email: jane.d@example.com"))

    # The landlord's only step: paste the link on the property's Calendar feeds page.
    client.force_login(owner)
    form = {"unit": unit.pk, "url": url, "name": "Vrbo", "every_minutes": 15, "blocked": "ignore"}
    answer = client.post(reverse("bookings:feed-add", args=[unit.property_id]), form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    client.logout()

    run_workers()  # the feed's first read (enqueued when it was added), then the code it booked
    stay = Stay.objects.get()
    assert (stay.guest.name, stay.guest.email, stay.check_in) == ("Jane D", "jane.d@example.com", start)
    assert FeedEvent.objects.get(feed=CalendarFeed.objects.get()).stay == stay
    code = AccessCode.objects.get(stay=stay)
    assert code.status != AccessCode.Status.SET

    # The guarantee's checks, at the hours the periodic table runs them: now (the 24 h check is due), then 2 h before.
    arrivals.check_arrivals(now=timezone.now())
    assert Arrival.objects.get(stay=stay).state == Arrival.State.AT_RISK
    run_workers()  # the resend: the lock is still unreachable
    assert messages.send_due_messages(now=timezone.now()) == 0  # no message before the door is sure to open
    arrivals.check_arrivals(now=stay.check_in - 2 * HOUR)
    arrival = Arrival.objects.get(stay=stay)
    assert arrival.state == Arrival.State.FALLBACK
    run_workers()  # the offline password, computed by the cloud for a lock that checks it by itself
    [fallback] = arrival.fallback_operations.all()
    fallback.refresh_from_db()
    assert fallback.status == LockOperation.Status.DONE, fallback.failure_reason
    assert Alert.objects.filter(kind=Alert.Kind.ARRIVAL_AT_RISK, lock=lock, resolved_at__isnull=True).count() == 1

    # The guest's message goes once, with the fallback and the guest page's link.
    assert messages.send_due_messages(now=stay.check_in - 2 * HOUR) == 1
    assert messages.send_due_messages(now=stay.check_in - HOUR) == 0
    [sent] = (outbox / "email").iterdir()
    text = sent.read_text()
    assert "To: jane.d@example.com" in text
    assert fallback.secret in text
    assert StayMessage.objects.get(stay=stay).status == StayMessage.Status.SENT

    # The desk sees the arrival on fallback at a glance.
    client.force_login(owner)
    page = client.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert "On fallback" in page
    assert fallback.secret not in page  # the page shows no secret unasked
    client.logout()

    # The guest's page (no sign-in) shows the fallback; the code still being set up is never shown as a PIN.
    link = re.search(r"http://testserver(/g/[\w-]+/)", text)
    assert link is not None
    guest_page = client.get(link.group(1)).content.decode()
    assert fallback.secret in guest_page
    assert code.pin not in guest_page
