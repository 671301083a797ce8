"""tenants.selectors called directly: the desk's reads, scoped as its pages are (another organisation's stays
invisible, a front desk limited to some properties sees only theirs), in the shapes the views rely on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from locks.models import AccessCode
from tenants import selectors
from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.tenants.conftest import book, offline_lock

pytestmark = pytest.mark.django_db


def member(org: Organisation, user: Any) -> Membership:
    return Membership.objects.get(user=user, organisation=org)


@pytest.fixture
def lisbon(org: Organisation) -> Unit:
    prop = Property.objects.create(organisation=org, name="Lisbon Flat", kind=Property.Kind.RENTAL,
                                   time_zone="Europe/Lisbon")  # fmt: skip
    room = Unit.objects.create(property=prop, name="Flat 1")
    offline_lock(org, room, "Flat door")
    return room


@pytest.fixture
def limited_desk(org: Organisation, front_desk: Any, lisbon: Unit) -> Membership:
    """The front desk, limited to the Lisbon flat."""
    membership = member(org, front_desk)
    membership.limit_to([lisbon.property])
    return membership


def test_stays_and_their_codes_are_scoped(
    org: Organisation,
    owner: Any,
    stay: Stay,
    other_stay: Stay,
    lisbon: Unit,
    limited_desk: Membership,
    django_user_model: Any,
) -> None:
    flat_stay = book(lisbon, Guest.objects.create(organisation=org, name="Grace"))
    mine = member(org, owner)
    assert set(selectors.stays(mine)) == {stay, flat_stay}
    assert set(selectors.stays(limited_desk)) == {flat_stay}
    assert set(selectors.properties(limited_desk)) == {lisbon.property}
    assert set(selectors.stay_codes(mine)) == set(AccessCode.objects.filter(stay__in=[stay, flat_stay]))
    assert set(selectors.stay_codes(limited_desk)) == set(flat_stay.access_codes.all())
    stranger = Membership.objects.create(
        user=django_user_model.objects.create_user("harbour-owner"),
        organisation=other_stay.unit.property.organisation,
        role=Role.OWNER,
    )
    assert list(selectors.stays(stranger)) == [other_stay]
    assert set(selectors.stay_codes(stranger)) == set(other_stay.access_codes.all())


def test_today_lists_arrivals_departures_and_zones(
    org: Organisation, owner: Any, stay: Stay, lisbon: Unit, limited_desk: Membership
) -> None:
    mine = member(org, owner)
    arriving = selectors.today(mine, now=stay.check_in)
    assert stay in arriving.arrivals
    assert arriving.zones == ["Europe/Amsterdam", "Europe/Lisbon"]
    assert [c.pk for c in arriving.arrivals[0].access_codes.all()] == [c.pk for c in stay.access_codes.all()]
    assert stay in selectors.today(mine, now=stay.check_out).departures
    desk = selectors.today(limited_desk, now=stay.check_in)
    assert (desk.arrivals, desk.departures, desk.zones) == ([], [], ["Europe/Lisbon"])
    Stay.objects.filter(pk=stay.pk).update(status=Stay.Status.CANCELLED)
    assert stay not in selectors.today(mine, now=stay.check_in).arrivals


def test_local_day_is_the_propertys_midnight_to_midnight(unit: Unit) -> None:
    start, end = selectors.local_day(unit.property, timezone.now())
    assert (start.hour, start.minute, end - start in (timedelta(hours=h) for h in (23, 24, 25))) == (0, 0, True)


def test_free_rooms_and_the_pickers_zone(org: Organisation, unit: Unit, lisbon: Unit, stay: Stay) -> None:
    units = Unit.objects.select_related("property").order_by("property__name", "name")
    assert selectors.picker_zone(units) == "Europe/Amsterdam"  # the first room on offer
    assert selectors.picker_zone(units, lisbon.pk) == "Europe/Lisbon"  # the chosen one
    assert selectors.picker_zone(units.none()) == settings.TIME_ZONE  # no room on offer: the server's
    overlapping = selectors.units_taken_until(units, stay.check_in + timedelta(hours=1), stay.check_out)
    assert overlapping == {unit.pk: stay.check_out}
    assert selectors.units_taken_until(units, stay.check_out, stay.check_out + timedelta(days=1)) == {}


def test_stay_list_by_when_and_search(
    org: Organisation, owner: Any, lock: Any, unit: Unit, guest: Guest, lisbon: Unit
) -> None:
    mine = member(org, owner)
    now = timezone.now()
    current = book(unit, guest)
    upcoming = book(lisbon, Guest.objects.create(organisation=org, name="Grace Hopper"), hours=(48, 72))
    past = Stay.objects.create(unit=unit, guest=guest, check_in=now - timedelta(days=3), check_out=now - timedelta(2))
    assert list(selectors.stay_list(mine, "current", now=now)) == [current]
    assert list(selectors.stay_list(mine, "upcoming", now=now)) == [upcoming]
    assert list(selectors.stay_list(mine, "past", now=now)) == [past]
    assert list(selectors.stay_list(mine, "upcoming", "hopper", now=now)) == [upcoming]
    assert list(selectors.stay_list(mine, "current", "flat", now=now)) == []
    assert set(selectors.WHEN) == {"current", "upcoming", "past"}


def test_stay_page_says_who_may_see_the_pins(org: Organisation, owner: Any, stay: Stay, viewer: Any) -> None:
    page = selectors.stay_page(owner, stay)
    assert page.codes == list(stay.access_codes.order_by("lock__name", "pk"))
    assert page.codes
    assert (page.may_see_pins, page.live_codes, page.removal_confirmed) == (True, True, False)
    assert all(code.may_see for code in page.codes)  # type: ignore[attr-defined]
    looker = Membership.objects.get(organisation=org, role=Role.VIEWER).user
    assert selectors.stay_page(looker, stay).may_see_pins is False
    stay.access_codes.update(status=AccessCode.Status.REMOVED, desired=AccessCode.Desired.REMOVED)
    after = selectors.stay_page(owner, stay)
    assert (after.live_codes, after.removal_confirmed) == (False, True)
