"""Reads of the front desk that its views, the admin and (soon) a public API share: stays, today's arrivals and
departures, the rooms free for some times, a stay's codes.

Everything starts from `properties(membership)`: the current organisation's properties, and for a front desk
limited to some properties only theirs, so another's stay or code is never returned. Selectors only read; a 404
for an id out of reach stays the view's answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from locks import pins as lock_pins
from locks.models import AccessCode
from tenants.models import Actor, Membership, Property, Stay, Unit
from tenants.services import OPEN

WHEN = {
    "current": pgettext_lazy("stays", "Current"),
    "upcoming": pgettext_lazy("stays", "Upcoming"),
    "past": pgettext_lazy("stays", "Past"),
}


def properties(membership: Membership) -> QuerySet[Property]:
    return Property.objects.for_membership(membership)


def stays(membership: Membership) -> QuerySet[Stay]:
    """The stays the member reaches, with their unit, property and guest."""
    return Stay.objects.filter(unit__property__in=properties(membership)).select_related("unit__property", "guest")


def stay_codes(membership: Membership) -> QuerySet[AccessCode]:
    """The door codes of the stays the member reaches, with their lock and stay."""
    return AccessCode.objects.filter(stay__in=stays(membership)).select_related("lock", "stay__unit__property")


def codes_prefetch() -> Prefetch[str, QuerySet[AccessCode]]:
    """A stay's codes with their lock, by lock name (for `stays(...).prefetch_related(...)`)."""
    return Prefetch("access_codes", queryset=AccessCode.objects.select_related("lock").order_by("lock__name", "pk"))


# --- the desk: today's arrivals and departures, free rooms ---------------------------------------------------


def local_day(prop: Property, now: datetime) -> tuple[datetime, datetime]:
    """Today where the property is, from its midnight to the next (23 or 25 hours at a clock change)."""
    day = timezone.localtime(now, prop.tz).date()
    start = datetime.combine(day, time.min, tzinfo=prop.tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=prop.tz)


@dataclass(frozen=True)
class Today:
    arrivals: list[Stay]  # checking in today in their property's zone, with their codes; not the cancelled
    departures: list[Stay]  # checking out today, likewise
    zones: list[str]  # the time zones of the member's properties, sorted


def today(membership: Membership, now: datetime | None = None) -> Today:
    now = now or timezone.now()
    arriving, leaving = Q(pk__in=[]), Q(pk__in=[])
    zones = set()
    for prop in properties(membership):
        start, end = local_day(prop, now)
        arriving |= Q(unit__property=prop, check_in__gte=start, check_in__lt=end)
        leaving |= Q(unit__property=prop, check_out__gte=start, check_out__lt=end)
        zones.add(prop.time_zone)
    rows = stays(membership).prefetch_related(codes_prefetch())
    arrivals = rows.filter(arriving).exclude(status__in=[Stay.Status.CANCELLED]).order_by("check_in", "pk")
    departures = rows.filter(leaving).exclude(status=Stay.Status.CANCELLED).order_by("check_out", "pk")
    return Today(list(arrivals), list(departures), sorted(zones))


def picker_zone(units: QuerySet[Unit], unit_id: int | None = None) -> str:
    """The zone times are typed in on the check-in form: the chosen room's, else the first room's on offer, else
    the server's."""
    chosen = units.filter(pk=unit_id).first() if unit_id is not None else None
    first = chosen or units.first()
    return first.property.time_zone if first else settings.TIME_ZONE


def units_taken_until(units: Iterable[Unit], check_in: datetime, check_out: datetime) -> dict[int, datetime]:
    """For the units booked for part of these times: the latest check-out of those stays, by unit id (the others
    are free)."""
    taken: dict[int, datetime] = {}
    overlapping = Stay.objects.filter(unit__in=units, status__in=OPEN, check_in__lt=check_out, check_out__gt=check_in)
    for unit_id, until in overlapping.values_list("unit_id", "check_out"):
        taken[unit_id] = max(until, taken.get(unit_id, until))
    return taken


# --- the list of stays, one stay ----------------------------------------------------------------------------


def stay_list(membership: Membership, when: str, search: str = "", now: datetime | None = None) -> QuerySet[Stay]:
    """Stays `when` ("current", "upcoming" or "past", as in WHEN), with their codes, searched by guest name or
    e-mail or room, in the order the list shows them."""
    now = now or timezone.now()
    rows = stays(membership).prefetch_related(codes_prefetch())
    is_open = Q(status__in=OPEN)
    if when == "current":
        rows = rows.filter(is_open, check_in__lte=now, check_out__gt=now).order_by("check_out", "pk")
    elif when == "upcoming":
        rows = rows.filter(is_open, check_in__gt=now).order_by("check_in", "pk")
    else:
        rows = rows.filter(~is_open | Q(check_out__lte=now)).order_by("-check_out", "-pk")
    if search:
        rows = rows.filter(
            Q(guest__name__icontains=search) | Q(unit__name__icontains=search) | Q(guest__email__icontains=search)
        )
    return rows


def removal_confirmed(stay: Stay) -> bool:
    """Whether every code of the stay is confirmed gone from its lock (what check-out promises)."""
    done = [AccessCode.Status.REMOVED, AccessCode.Status.EXPIRED]
    return not stay.access_codes.exclude(status__in=done).exists()


@dataclass(frozen=True)
class StayPage:
    codes: list[AccessCode]  # by lock name, each with `may_see` (this user may reveal its PIN) set
    may_see_pins: bool  # there are codes and the user may see every one
    live_codes: bool  # some code is still meant to be on its lock
    removal_confirmed: bool


def stay_page(user: Actor, stay: Stay) -> StayPage:
    """What the stay page shows of a stay the caller already reached."""
    codes = list(stay.access_codes.select_related("lock").order_by("lock__name", "pk"))
    may_see = [lock_pins.may_see_pins(user, code.lock) for code in codes]
    for code, allowed in zip(codes, may_see, strict=True):
        code.may_see = allowed  # type: ignore[attr-defined]
    return StayPage(
        codes=codes,
        may_see_pins=bool(codes) and all(may_see),
        live_codes=any(code.desired != AccessCode.Desired.REMOVED for code in codes),
        removal_confirmed=removal_confirmed(stay),
    )
