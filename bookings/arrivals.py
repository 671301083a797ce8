"""The arrival guarantee: before each upcoming stay's check-in (24 h and 2 h before, per the property's policy) its
codes are checked on every lock of the unit; unconfirmed ones are sent again, and at the last check a lock that still
has not confirmed gets an offline password covering the stay (the lock checks those by itself), with an alert.

`check_arrivals` runs every minute (locks/periodic.py) and costs what is due: stays entering the window that have no
`Arrival` yet (index `stay(status, check_in)`), and arrivals whose `next_check_at` has come (partial index
`arrival_due`). Each arrival is checked under its row lock taken with SKIP LOCKED, so two workers never check the same
arrival at once, and a lock that already has a fallback for the stay never gets a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from bookings.models import Arrival, BookingPolicy, StayMessage
from locks import alerts, codes, operations, words
from locks.models import AccessCode, Alert, Lock, LockKind, LockOperation
from locks.words import Moment, Words
from tenants.models import Property, Stay

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
# A code issued this recently and not failed is still on its way (a few seconds normally): a check that finds one
# waits this long instead of calling the arrival at risk, so a stay booked an hour before check-in is not given a
# fallback for a code that was about to confirm.
GRACE = timedelta(minutes=5)
# Between checks, and after one that found a problem: a code confirmed later turns the arrival ready within this.
RECHECK = timedelta(minutes=10)
# A scheduled check never sleeps longer than this, so a stay whose check-in was moved earlier is re-planned soon.
MAX_SLEEP = HOUR
BATCH = 200  # arrivals per run; the next run (a minute later) takes the rest


def policy_of(prop: Property) -> BookingPolicy:
    """The property's policy, or the defaults (not saved: reading one does not create it)."""
    try:
        return prop.booking_policy
    except BookingPolicy.DoesNotExist:
        return BookingPolicy(property=prop)


def _horizon() -> timedelta:
    """How far ahead any property checks arrivals: the largest check hour of any policy (the default 24)."""
    largest = max(BookingPolicy.DEFAULT_ARRIVAL_CHECK_HOURS)
    for hours in BookingPolicy.objects.exclude(arrival_check_hours=[]).values_list("arrival_check_hours", flat=True):
        largest = max([largest, *(int(hour) for hour in hours)])
    return largest * HOUR


def check_arrivals(now: datetime | None = None) -> int:
    """The periodic job: start the guarantee of stays entering their window, and run every check that is due.
    Returns how many arrivals were checked."""
    now = now or timezone.now()
    _start_new_arrivals(now)
    due = list(
        Arrival.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("stay_id", flat=True)[:BATCH]
    )
    return sum(1 for stay_id in due if check_arrival(stay_id, now=now))


def _start_new_arrivals(now: datetime) -> int:
    """An `Arrival` due now for each booked stay within its property's largest check hour that has none yet."""
    entering = (
        Stay.objects.filter(
            status=Stay.Status.BOOKED, check_in__gt=now, check_in__lte=now + _horizon(), arrival__isnull=True
        )
        .select_related("unit__property__booking_policy")
        .order_by("check_in")[:BATCH]
    )
    new = [
        Arrival(stay=stay, next_check_at=now)
        for stay in entering
        if stay.check_in - max(policy_of(stay.unit.property).check_hours()) * HOUR <= now
    ]
    Arrival.objects.bulk_create(new, ignore_conflicts=True)  # a second worker's rows are the same rows
    return len(new)


# --- one arrival ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockCheck:
    """One lock of the unit, and where the stay's code on it stands."""

    lock: Lock
    code: AccessCode | None  # the stay's live code on this lock, if any

    @property
    def confirmed(self) -> bool:
        return self.code is not None and self.code.status == AccessCode.Status.SET

    def young(self, now: datetime) -> bool:
        """Issued moments ago and not failed: give it a moment before worrying. (Its creation, not its last change:
        a code retried every minute by its backoff changes all the time and would never count as late.)"""
        code = self.code
        return code is not None and code.status != AccessCode.Status.FAILED and code.created_at > now - GRACE

    def problem(self) -> Words:
        lock = self.lock.name
        if self.code is None:
            return Words(gettext_noop("%(lock)s: no code for this stay"), {"lock": lock})
        reason = self.code.failure  # the cloud's or the worker's words, read in the reader's language
        if self.code.status == AccessCode.Status.FAILED:
            if reason is None:
                return Words(gettext_noop("%(lock)s: the code failed (no reason given)"), {"lock": lock})
            return Words(gettext_noop("%(lock)s: the code failed (%(reason)s)"), {"lock": lock, "reason": reason})
        if reason:
            not_yet = gettext_noop("%(lock)s: the code is not confirmed on the lock yet (%(reason)s)")
            return Words(not_yet, {"lock": lock, "reason": reason})
        return Words(gettext_noop("%(lock)s: the code is not confirmed on the lock yet"), {"lock": lock})


def lock_checks(stay: Stay) -> list[LockCheck]:
    """Every lock of the stay's unit with the stay's live code on it (by lock name)."""
    live = {code.lock_id: code for code in stay.access_codes.exclude(desired=AccessCode.Desired.REMOVED).order_by("pk")}
    return [
        LockCheck(lock, live.get(lock.pk)) for lock in stay.unit.locks.select_related("organisation").order_by("name")
    ]


@words.in_english
def check_arrival(stay_id: int, *, now: datetime | None = None) -> bool:
    """Check one arrival if it is due and no other worker holds it; False when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        arrival = Arrival.objects.select_for_update(skip_locked=True).filter(pk=stay_id, next_check_at__lte=now).first()
        if arrival is None:
            return False
        stay = Stay.objects.select_related("unit__property", "guest").get(pk=stay_id)
        _check(arrival, stay, now)
        arrival.last_checked_at = now
        arrival.save()
    return True


def _check(arrival: Arrival, stay: Stay, now: datetime) -> None:
    if stay.status != Stay.Status.BOOKED or stay.check_in <= now:
        # Cancelled, checked in, or the time has come: the guarantee is over; its alerts are no longer news.
        arrival.next_check_at = None
        if stay.status == Stay.Status.BOOKED:
            _settle_if_confirmed(arrival, stay, lock_checks(stay))
        if stay.status != Stay.Status.BOOKED or arrival.state == Arrival.State.READY:
            _resolve_alerts(stay)
        return
    hours = policy_of(stay.unit.property).check_hours()
    due = [hour for hour in hours if hour not in arrival.checks_done and stay.check_in - hour * HOUR <= now]
    checks = lock_checks(stay)
    unconfirmed = [check for check in checks if not check.confirmed]
    if due and unconfirmed and any(check.young(now) for check in unconfirmed) and now + GRACE < stay.check_in:
        arrival.next_check_at = now + GRACE  # a code on its way: look again in a moment, counting nothing yet
        return
    if due:
        arrival.checks_done = sorted({*arrival.checks_done, *due}, reverse=True)
        if not unconfirmed:
            _ready(arrival, stay)
        else:
            _send_again(unconfirmed)
            arrival.state = Arrival.State.AT_RISK
            problem = words.joined([check.problem() for check in unconfirmed], "; ")
            if min(hours) in due:  # the last check
                without = _fall_back(arrival, stay, unconfirmed, now)
                if without:
                    no_fallback_on = gettext_noop("No fallback possible on %(locks)s")
                    problem = words.joined([problem, Words(no_fallback_on, {"locks": ", ".join(without)})], ". ")
                else:
                    arrival.state = Arrival.State.FALLBACK
            arrival.problem, arrival.problem_words = words.columns(problem)
    else:
        _settle_if_confirmed(arrival, stay, checks)
    arrival.next_check_at = _next_check(arrival, stay, hours, now)


def _next_check(arrival: Arrival, stay: Stay, hours: list[int], now: datetime) -> datetime | None:
    remaining = [stay.check_in - hour * HOUR for hour in hours if hour not in arrival.checks_done]
    moments = [moment for moment in remaining if moment > now]
    if arrival.state != Arrival.State.READY:
        moments.append(now + RECHECK)  # watch for the code confirming later
    if not moments:
        return None
    return min([*moments, now + MAX_SLEEP, stay.check_in])


def _settle_if_confirmed(arrival: Arrival, stay: Stay, checks: list[LockCheck]) -> None:
    """A later look: every code confirmed now turns a problem arrival ready (a fallback stays listed as issued)."""
    if arrival.state in (Arrival.State.AT_RISK, Arrival.State.FALLBACK) and all(c.confirmed for c in checks):
        _ready(arrival, stay)


def _ready(arrival: Arrival, stay: Stay) -> None:
    if arrival.state in (Arrival.State.AT_RISK, Arrival.State.FALLBACK):
        _resolve_alerts(stay)
    arrival.state = Arrival.State.READY
    arrival.problem, arrival.problem_words = words.columns(None)


def _send_again(unconfirmed: list[LockCheck]) -> None:
    """A failed code is sent again from the start; a Zigbee gateway is asked to resend what it still holds; codes
    still being sent are already retried by the codes' own backoff."""
    for check in unconfirmed:
        code = check.code
        try:
            if code is not None and code.status == AccessCode.Status.FAILED:
                codes.resend_access_code(code)
            elif code is not None and check.lock.kind == LockKind.ZIGBEE:
                operations.sync_pending_codes(lock=check.lock)
        except ValidationError as error:  # the window ended, or the gateway was asked a minute ago: said in words
            logger.info("arrival check: %s not sent again (%s)", check.lock.pk, " ".join(error.messages))


def alert_key(stay: Stay, lock: Lock) -> str:
    return f"arrival:stay:{stay.pk}:lock:{lock.pk}"


def _fall_back(arrival: Arrival, stay: Stay, unconfirmed: list[LockCheck], now: datetime) -> list[str]:
    """The last check found codes still unconfirmed: an offline password covering the stay on each such lock that
    can take one (never a second one for the same lock), and an alert for the desk on each. Returns the names of
    the locks that got none."""
    issued = {operation.lock_id for operation in arrival.fallback_operations.all()}
    without: list[str] = []
    for check in unconfirmed:
        lock = check.lock
        if lock.kind not in operations.OFFLINE_KINDS:
            without.append(lock.name)
            no_fallback = gettext_noop(
                "%(problem)s. A %(kind)s has no offline passwords, so no fallback was possible: give the guest "
                "another way in (a key, someone at the door)."
            )
            _alert(stay, lock, Words(no_fallback, {"problem": check.problem(), "kind": _kind_words(lock)}), now)
            continue
        if lock.pk not in issued:
            try:
                operation = operations.request_offline_password(
                    lock=lock,
                    kind="multiple",
                    label=f"Fallback: {stay.guest.name}"[:100],
                    starts_at=stay.check_in,
                    ends_at=stay.check_out,
                )
            except ValidationError as error:
                without.append(lock.name)
                not_issued = gettext_noop("%(problem)s. The fallback could not be issued: %(refusal)s")
                _alert(
                    stay, lock, Words(not_issued, {"problem": check.problem(), "refusal": words.of_error(error)}), now
                )
                continue
            arrival.fallback_operations.add(operation)
            issued.add(lock.pk)
        already_told = StayMessage.objects.filter(
            stay=stay, kind=StayMessage.Kind.CODE, status=StayMessage.Status.SENT
        ).exists()
        if already_told:
            issued_on_it = gettext_noop(
                "%(problem)s. An offline password covering the stay was issued on it; the code message had already "
                "gone, so send it again from the stay page: it now carries the password."
            )
        else:
            issued_on_it = gettext_noop(
                "%(problem)s. An offline password covering the stay was issued on it; the guest's code message will "
                "carry it."
            )
        _alert(stay, lock, Words(issued_on_it, {"problem": check.problem()}), now)
    return without


def _kind_words(lock: Lock) -> Words:
    return Words(str(lock.get_kind_display()))  # English here (check_arrival), so the reader's catalogue finds it


def _alert(stay: Stay, lock: Lock, what: Words, now: datetime) -> Alert:
    prop = stay.unit.property
    return alerts.raise_alert(
        organisation_id=lock.organisation_id,
        kind=Alert.Kind.ARRIVAL_AT_RISK,
        key=alert_key(stay, lock),
        message=gettext_noop("%(unit)s: %(guest)s arrives %(when)s (%(zone)s). %(what)s"),
        message_args={
            "unit": stay.unit.name,
            "guest": stay.guest.name,
            "when": Moment(stay.check_in, prop.time_zone),
            "zone": prop.time_zone,
            "what": what,
        },
        lock=lock,
        at=now,
        add=0,  # a later look at the same arrival is the same incident, not another one
    )


def _resolve_alerts(stay: Stay) -> None:
    for lock in stay.unit.locks.all():
        alerts.resolve_alert(organisation_id=lock.organisation_id, key=alert_key(stay, lock))


def fallback_operations(arrival: Arrival) -> list[LockOperation]:
    """The offline passwords issued for the stay, by lock name."""
    return list(arrival.fallback_operations.select_related("lock").order_by("lock__name", "pk"))
