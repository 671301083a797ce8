"""The arrivals board: today's and tomorrow's arrivals in each property's own day, with their guarantee's state in
words, scoped to the member (a front desk limited to one property sees only its arrivals); the desk's page shows it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import Arrival
from bookings.selectors import arrivals_board
from tenants import selectors as desk
from tenants import services
from tenants.models import Guest, Membership, Organisation, Property, Stay, Unit
from tests.bookings.conftest import attach_lock

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def guest_named(org: Organisation, key: str) -> Guest:
    return Guest.objects.create(organisation=org, name=f"Guest arriving {key}")


def stay_at(guest: Guest, unit: Unit, check_in, state: str | None = None, problem: str = "") -> Stay:  # noqa: ANN001
    """A stay in a room of its own (named after its check-in), with a lock, and its arrival's state if given."""
    room = Unit.objects.create(property=unit.property, name=f"Room {check_in:%d%H%M%S}")
    attach_lock(room)
    stay = services.book_stay(unit=room, guest=guest, check_in=check_in, check_out=check_in + 30 * HOUR)
    if state is not None:
        Arrival.objects.create(stay=stay, state=state, problem=problem)
    return stay


@pytest.fixture
def scene(org: Organisation, unit: Unit) -> dict[str, Stay]:
    """In Amsterdam: one arriving today (ready), one tomorrow (at risk), one after that, one cancelled today; in
    another property of the organisation (New York), one arriving today there."""
    now = timezone.now()
    start, end = desk.local_day(unit.property, now)
    other_prop = Property.objects.create(organisation=org, name="Hudson Lofts", time_zone="America/New_York")
    other_room = Unit.objects.create(property=other_prop, name="Loft 3")  # its stay gets a room "Room <time>" in it
    other_start, other_end = desk.local_day(other_prop, now)
    scene = {
        "today": stay_at(
            guest_named(org, "today"), unit, max(start + HOUR, now + timedelta(minutes=1)), Arrival.State.READY
        ),
        "tomorrow": stay_at(
            guest_named(org, "tomorrow"), unit, end + 40 * HOUR - 30 * HOUR, Arrival.State.AT_RISK, "Room door: no code"
        ),
        "later": stay_at(guest_named(org, "later"), unit, end + 48 * HOUR),
        "cancelled": stay_at(guest_named(org, "cancelled"), unit, end - HOUR / 2),
        "elsewhere": stay_at(
            guest_named(org, "elsewhere"), other_room, max(other_start + HOUR, now + timedelta(minutes=1))
        ),
    }
    if scene["today"].check_in >= end:  # the test runs in the last hour of the day there
        pytest.skip("no time left today in Amsterdam for an arrival")
    services.cancel_stay(scene["cancelled"])
    assert scene["elsewhere"].check_in < other_end
    return scene


def test_the_board_lists_today_then_tomorrow_with_each_state_in_words(
    owner: AbstractUser, scene: dict[str, Stay]
) -> None:
    membership = Membership.objects.get(user=owner)
    rows = arrivals_board(membership)
    found = {row.stay.pk: (row.day, row.chip.label, row.chip.problem) for row in rows}
    assert found[scene["today"].pk] == ("today", "Ready", "")
    assert found[scene["tomorrow"].pk] == ("tomorrow", "At risk", "Room door: no code")
    assert found[scene["elsewhere"].pk][1] == "Not checked yet"
    assert scene["later"].pk not in found
    assert scene["cancelled"].pk not in found


def test_a_desk_limited_to_one_property_sees_only_its_arrivals(
    front_desk: AbstractUser, scene: dict[str, Stay], client: Client
) -> None:
    membership = Membership.objects.get(user=front_desk)
    membership.limited_to_properties = True
    membership.save()
    membership.properties.add(scene["elsewhere"].unit.property)
    assert [row.stay.pk for row in arrivals_board(membership)] == [scene["elsewhere"].pk]
    client.force_login(front_desk)
    page = client.get(reverse("desk:today")).content.decode()
    assert "Guest arriving elsewhere" in page
    assert "Guest arriving today" not in page
    assert "Guest arriving tomorrow" not in page


def test_the_front_desk_page_shows_the_chips_today_and_tomorrow(
    front_desk: AbstractUser, scene: dict[str, Stay], client: Client
) -> None:
    client.force_login(front_desk)
    page = client.get(reverse("desk:today")).content.decode()
    assert "Arrivals tomorrow" in page
    assert '<span class="chip arrival-ready">Ready</span>' in page
    assert '<span class="chip arrival-at_risk">At risk</span> <span class="reason">Room door: no code</span>' in page
    assert '<span class="chip arrival-not_checked">Not checked yet</span>' in page
    services.check_in_stay(scene["today"])  # the guest is in: the guarantee is over
    page = client.get(reverse("desk:today")).content.decode()
    assert '<span class="chip arrival-arrived">Arrived</span>' in page
