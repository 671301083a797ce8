"""Reads of the bookings app for the pages, scoped by membership through tenants' selectors: the arrivals board
(today's and tomorrow's arrivals with the state of their guarantee), a stay's guest messages, a property's policy and
message templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from bookings.arrivals import policy_of
from bookings.models import Arrival, BookingPolicy, MessageTemplate, StayMessage
from tenants import selectors as desk
from tenants.models import Membership, Property, Stay

NOT_CHECKED = "not_checked"


@dataclass(frozen=True)
class ArrivalChip:
    """What the desk sees of one arrival: a state in words (never a colour alone) and why, when at risk."""

    state: str  # "ready", "at_risk", "fallback" or "not_checked"
    label: str
    problem: str = ""


ARRIVED = "arrived"


def chip_of(arrival: Arrival | None, stay: Stay | None = None) -> ArrivalChip:
    """The chip of an arrival; a guest already in (or gone) needs no guarantee any more, and is shown as arrived."""
    if stay is not None and stay.status in (Stay.Status.CHECKED_IN, Stay.Status.CHECKED_OUT):
        return ArrivalChip(ARRIVED, gettext("Arrived"))
    if arrival is None or arrival.state == Arrival.State.PENDING:
        return ArrivalChip(NOT_CHECKED, gettext("Not checked yet"), arrival.problem_text if arrival else "")
    return ArrivalChip(arrival.state, arrival.get_state_display(), arrival.problem_text)


@dataclass(frozen=True)
class BoardRow:
    stay: Stay
    day: str  # "today" or "tomorrow", in the property's own day
    chip: ArrivalChip


def _arrival_of(stay: Stay) -> Arrival | None:
    try:
        return stay.arrival
    except Arrival.DoesNotExist:
        return None


def arrivals_board(membership: Membership, now: datetime | None = None) -> list[BoardRow]:
    """Today's and tomorrow's arrivals (each property's own days) that the member reaches, not the cancelled, by
    check-in, each with its guarantee's state."""
    now = now or timezone.now()
    today, tomorrow = Q(pk__in=[]), Q(pk__in=[])
    for prop in desk.properties(membership):
        start, end = desk.local_day(prop, now)
        after = desk.local_day(prop, end + timedelta(hours=1))[1]  # the next midnight (23 or 25 hours at a change)
        today |= Q(unit__property=prop, check_in__gte=start, check_in__lt=end)
        tomorrow |= Q(unit__property=prop, check_in__gte=end, check_in__lt=after)
    rows = (
        desk.stays(membership)
        .filter(today | tomorrow)
        .exclude(status=Stay.Status.CANCELLED)
        .select_related("arrival")
        .prefetch_related(desk.codes_prefetch())  # the desk's table shows each stay's codes
        .order_by("check_in", "pk")
    )
    board = []
    for stay in rows:
        _, end = desk.local_day(stay.unit.property, now)
        board.append(BoardRow(stay, "today" if stay.check_in < end else "tomorrow", chip_of(_arrival_of(stay), stay)))
    return board


def chips_for(stays: list[Stay]) -> dict[int, ArrivalChip]:
    """The chip of each of these (already reached) stays, by stay id, in one query."""
    arrivals = {arrival.stay_id: arrival for arrival in Arrival.objects.filter(stay__in=[s.pk for s in stays])}
    return {stay.pk: chip_of(arrivals.get(stay.pk), stay) for stay in stays}


def arrival_of(stay: Stay) -> Arrival | None:
    """A reached stay's arrival guarantee, with its fallbacks, if it has started."""
    return Arrival.objects.prefetch_related("fallback_operations__lock").filter(pk=stay.pk).first()


def stay_messages(stay: Stay) -> QuerySet[StayMessage]:
    """The messages sent (or tried) to a reached stay's guest, newest first."""
    return StayMessage.objects.filter(stay=stay).select_related("created_by").order_by("-created_at", "-pk")


# --- a property's settings ----------------------------------------------------------------------------------


def managed_properties(membership: Membership) -> QuerySet[Property]:
    return desk.properties(membership)


def policy_for(prop: Property) -> BookingPolicy:
    return policy_of(prop)


def templates_of(prop: Property) -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(property=prop).order_by("kind", "language")
