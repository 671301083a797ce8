"""Door codes: issue (on one lock, or on a stay's locks with one PIN), change, freeze, unfreeze, remove, resend.

A door code is driven by its `desired` state. These change `desired` (and the wanted PIN/window) in a
transaction and enqueue `jobs.converge_access_code` after commit; locks/convergence.py then moves the lock one
confirmed step at a time, and its sweeper re-enqueues whatever a lost enqueue left behind.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from audit.services import audit
from locks import queues
from locks.display import DAY_NAMES, day_and_time, hours_text
from locks.models import AccessCode, Lock, LockKind
from locks.pins import check_pin, generate_pin, pins_in_use
from tenants.models import Actor, Guest, Stay, user_of

Status = AccessCode.Status
Desired = AccessCode.Desired


@dataclass(frozen=True)
class WeeklySchedule:
    """On these days (Python weekdays, Monday = 0), from start to end minute, in the property's time zone."""

    days: frozenset[int]
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not self.days:
            raise ValidationError({"schedule_days": gettext("Choose at least one day.")})
        if not 0 <= self.start_minute < self.end_minute <= 1440:
            raise ValidationError(
                {"schedule_end": gettext("The end time must be after the start time on the same day.")}
            )


FEW_OCCURRENCES = 4  # fewer openings than this inside its validity and a weekly code is probably a mistake
WEEKLY_DEFAULT_VALIDITY = timedelta(days=91)  # what the issue form proposes for a weekly code: about three months


def weekly_openings(
    schedule: WeeklySchedule, starts_at: datetime, ends_at: datetime, zone_name: str, *, limit: int = FEW_OCCURRENCES
) -> list[datetime]:
    """The schedule's first openings (local start of each day's window) that overlap the validity, up to `limit`.

    Counted on the property's calendar: the lock keeps local hours, so "Monday 09:00" is Monday in that zone."""
    zone = zoneinfo.ZoneInfo(zone_name)
    day, last = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    openings: list[datetime] = []
    while day <= last and len(openings) < limit:
        if day.weekday() in schedule.days:
            midnight = datetime.combine(day, datetime.min.time(), tzinfo=zone)
            opens = midnight + timedelta(minutes=schedule.start_minute)
            closes = midnight + timedelta(minutes=schedule.end_minute)
            if opens < ends_at and closes > starts_at:
                openings.append(opens)
        day += timedelta(days=1)
    return openings


def _validate_openings(
    schedule: WeeklySchedule, starts_at: datetime, ends_at: datetime, zone_name: str, *, field: str
) -> None:
    """A weekly code whose validity holds none of its days would be "on the lock" and never open: refuse it."""
    if weekly_openings(schedule, starts_at, ends_at, zone_name, limit=1):
        return

    zone = zoneinfo.ZoneInfo(zone_name)
    days = ", ".join(str(DAY_NAMES[d]) for d in sorted(schedule.days))
    hours = hours_text(schedule.start_minute, schedule.end_minute)
    start, end = (day_and_time(timezone.localtime(moment, zone), year=True) for moment in (starts_at, ends_at))
    never = gettext(
        "From %(start)s to %(end)s (%(zone)s) there is no %(days)s %(hours)s: this code could never open. "
        "Make it valid for longer or choose other days."
    )
    raise ValidationError(
        {field: never % {"start": start, "end": end, "zone": zone_name, "days": days, "hours": hours}}
    )


def openings_note(code: AccessCode) -> str:
    """For a weekly code that opens only a few times inside its validity: how many, and when; else ''."""
    schedule = _weekly_schedule_of(code)
    if schedule is None:
        return ""
    openings = weekly_openings(schedule, max(code.starts_at, timezone.now()), code.ends_at, code.time_zone)
    if not openings or len(openings) >= FEW_OCCURRENCES:
        return ""
    when = ", ".join(day_and_time(moment, year=False) for moment in openings)
    few = ngettext(
        "“%(label)s” opens only %(count)s time before it ends (%(when)s): is its validity long enough?",
        "“%(label)s” opens only %(count)s times before it ends (%(when)s): is its validity long enough?",
        len(openings),
    )
    return few % {"label": code.label, "count": len(openings), "when": when}


def _weekly_schedule_of(code: AccessCode) -> WeeklySchedule | None:
    if code.kind != AccessCode.Kind.WEEKLY or code.schedule_start_minute is None or code.schedule_end_minute is None:
        return None
    return WeeklySchedule(frozenset(code.schedule_days), code.schedule_start_minute, code.schedule_end_minute)


def _validate_window(starts_at: datetime, ends_at: datetime, *, now: datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationError(gettext("Times must carry a time zone."))
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": gettext("The code must end after it starts.")})
    if ends_at <= now:
        raise ValidationError({"ends_at": gettext("This window has already ended; pick an end in the future.")})


RELATED = ["lock", "organisation", "guest", "stay", "created_by"]


@transaction.atomic
def issue_access_code(
    *,
    lock: Lock,
    label: str,
    starts_at: datetime,
    ends_at: datetime,
    kind: str = AccessCode.Kind.WINDOW,
    schedule: WeeklySchedule | None = None,
    pin: str | None = None,
    guest: Guest | None = None,
    stay: Stay | None = None,
    actor: Actor = None,
    ip: str | None = None,
    request_token: uuid.UUID | None = None,
) -> AccessCode:
    """Give someone a code for a window (or a weekly schedule inside it); it reaches the lock after commit.

    With a `request_token` (a form's one-time token) a repeated request returns the code the first one issued."""
    if request_token is not None:
        earlier = AccessCode.objects.filter(request_token=request_token, lock=lock).first()
        if earlier is not None:
            return earlier
    _validate_window(starts_at, ends_at, now=timezone.now())
    if kind == AccessCode.Kind.WEEKLY and schedule is None:
        raise ValidationError({"schedule_days": gettext("A weekly code needs its days and times.")})
    if kind == AccessCode.Kind.WEEKLY and schedule is not None:
        _validate_openings(schedule, starts_at, ends_at, lock.time_zone, field="schedule_days")
    if not label.strip():
        raise ValidationError({"label": gettext("Give the code a name, such as the guest's.")})
    if pin:
        check_pin(lock, pin)
    code = AccessCode(
        organisation_id=lock.organisation_id,
        lock=lock,
        guest=guest,
        stay=stay,
        label=label.strip()[:100],
        kind=kind,
        pin=pin or generate_pin(lock),
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=lock.time_zone,
        schedule_days=sorted(schedule.days) if schedule else [],
        schedule_start_minute=schedule.start_minute if schedule else None,
        schedule_end_minute=schedule.end_minute if schedule else None,
        created_by=user_of(actor),
        pending_op="create",
        next_attempt_at=timezone.now() + (queues.CODE_BATCH_FALLBACK if _batched() else timedelta(0)),
        request_token=request_token,
    )
    # The fields' own checks only: each constraint and each related row would cost a query per code (a burst of
    # check-ins pays them all), and none can fail here: the window is checked above, a new code has no cloud password
    # id for the unique one, and the related rows were passed in loaded.
    code.full_clean(exclude=["pin", "request_token", *RELATED], validate_constraints=False)
    code.save()
    audit("code.issue", actor=actor, organisation=lock.organisation, obj=code, summary=f"{code.label} on {lock}", ip=ip)
    if _batched():
        # It goes out with its account's other new codes in one batch job (locks/code_batches.py); should that job be
        # lost, the sweeper gives it a converge job of its own once CODE_BATCH_FALLBACK has passed.
        account_id = lock.cloud_account_id
        transaction.on_commit(lambda: queues.enqueue_code_batch(account_id))
    else:
        enqueue_after_commit(code)
    return code


def _batched() -> bool:
    """Workers that never wait for a lock inside a job send and confirm codes in batches per cloud account; those
    that wait (CODE_POLL_WINDOW_SECONDS > 0, the spec's Zigbee flow) take each code through its own converge job."""
    return settings.CODE_POLL_WINDOW_SECONDS <= 0


def _stale(code: AccessCode, version: int | None) -> None:
    if version is not None and version != code.version:
        raise ValidationError(gettext("This code changed while you were looking at it; reload and try again."))


def _lock_row(code: AccessCode) -> AccessCode:
    return AccessCode.objects.select_for_update().select_related("lock").get(pk=code.pk)


@transaction.atomic
def change_access_code(
    code: AccessCode,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    pin: str | None = None,
    version: int | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> AccessCode:
    """Move a code's window or change its PIN; the lock gets a modify, and the old values hold until then."""
    code = _lock_row(code)
    _stale(code, version)
    if code.desired == Desired.REMOVED:
        raise ValidationError(gettext("This code is being removed; issue a new one instead."))
    _refuse_erased(code)
    new_start, new_end = starts_at or code.starts_at, ends_at or code.ends_at
    _validate_window(new_start, new_end, now=timezone.now())
    schedule = _weekly_schedule_of(code)
    if schedule is not None:
        _validate_openings(schedule, new_start, new_end, code.time_zone, field="ends_at")
    if pin and pin != code.pin:
        if code.lock.kind in (LockKind.BLE, LockKind.BLE_GATEWAY):
            raise ValidationError(
                {"pin": gettext("Bluetooth locks cannot change a code's PIN; issue a new code instead.")}
            )
        check_pin(code.lock, pin, exclude=code)
        code.pin = pin
    code.starts_at, code.ends_at = new_start, new_end
    code.needs_modify = code.cloud_password_id is not None or code.status != Status.REQUESTED
    _touch(code)
    code.save()
    audit("code.modify", actor=actor, organisation=code.lock.organisation, obj=code, summary=code.label, ip=ip)
    enqueue_after_commit(code)
    return code


def _refuse_erased(code: AccessCode) -> None:
    """A code whose PIN was erased (30 days after it ended) cannot come back: there is no PIN to send, and the
    periodic work no longer looks at it (locks/models.py CODE_MAY_BE_ON_LOCK)."""
    if code.pin_purged_at is not None:
        raise ValidationError(gettext("This code ended long ago and its PIN was erased; issue a new code instead."))


def _set_desired(
    code: AccessCode, desired: str, action: str, *, version: int | None, actor: Actor, ip: str | None
) -> AccessCode:
    code = _lock_row(code)
    _stale(code, version)
    if code.desired == Desired.REMOVED and desired != Desired.REMOVED:
        raise ValidationError(gettext("This code is being removed; issue a new one instead."))
    if desired != Desired.REMOVED:
        _refuse_erased(code)
    if code.desired != desired:
        code.desired = desired
        _touch(code)
        code.save()
        audit(action, actor=actor, organisation=code.lock.organisation, obj=code, summary=code.label, ip=ip)
        enqueue_after_commit(code)
    return code


@transaction.atomic
def freeze_access_code(
    code: AccessCode, *, version: int | None = None, actor: Actor = None, ip: str | None = None
) -> AccessCode:
    """Suspend a code without removing it (Zigbee locks)."""
    if not code.lock.can_freeze:
        raise ValidationError(gettext("Only Zigbee locks can freeze a code; remove it instead."))
    return _set_desired(code, Desired.FROZEN, "code.freeze", version=version, actor=actor, ip=ip)


@transaction.atomic
def unfreeze_access_code(
    code: AccessCode, *, version: int | None = None, actor: Actor = None, ip: str | None = None
) -> AccessCode:
    return _set_desired(code, Desired.ACTIVE, "code.unfreeze", version=version, actor=actor, ip=ip)


@transaction.atomic
def remove_access_code(
    code: AccessCode, *, version: int | None = None, actor: Actor = None, ip: str | None = None
) -> AccessCode:
    """Take a code off the lock; it counts as gone only once the cloud confirms the lock deleted it."""
    return _set_desired(code, Desired.REMOVED, "code.delete", version=version, actor=actor, ip=ip)


@transaction.atomic
def resend_access_code(code: AccessCode, *, actor: Actor = None, ip: str | None = None) -> AccessCode:
    """Try a failed code again from the start, as a new operation (a new marker, so nothing is confused)."""
    code = _lock_row(code)
    if code.status != Status.FAILED:
        raise ValidationError(gettext("Only a code that failed can be sent again."))
    _refuse_erased(code)
    _validate_window(code.starts_at, code.ends_at, now=timezone.now())
    code.cloud_password_id, code.operation_id = None, uuid.uuid4()
    code.status, code.pending_op, code.desired, code.needs_modify = Status.REQUESTED, "create", Desired.ACTIVE, False
    _touch(code)
    code.save()
    audit("code.resend", actor=actor, organisation=code.lock.organisation, obj=code, summary=code.label, ip=ip)
    enqueue_after_commit(code)
    return code


def _touch(code: AccessCode) -> None:
    code.version += 1
    code.attempts = 0
    code.next_attempt_at = timezone.now()
    code.failure_code = None
    code.note_failure(None)


def enqueue_after_commit(code: AccessCode) -> None:
    """Converge the code once the transaction commits (the sweeper covers a lost enqueue)."""
    code_id = code.pk
    transaction.on_commit(lambda: queues.enqueue_converge(code_id))


# --- several locks, one code: a stay's doors -------------------------------------------------------------------


def issue_access_codes(
    *,
    locks: Iterable[Lock],
    label: str,
    starts_at: datetime,
    ends_at: datetime,
    guest: Guest | None = None,
    stay: Stay | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> list[AccessCode]:
    """One code per lock (a unit's front door and room, say), with the same PIN where the locks allow it: one
    number to remember. A lock whose PIN length differs, or where that PIN is taken, gets its own."""
    codes: list[AccessCode] = []
    pin: str | None = None
    for lock in locks:
        reuse = pin if pin and len(pin) == lock.pin_length and pin not in pins_in_use(lock) else None
        code = issue_access_code(
            lock=lock,
            label=label,
            starts_at=starts_at,
            ends_at=ends_at,
            pin=reuse,
            guest=guest,
            stay=stay,
            actor=actor,
            ip=ip,
        )
        pin = pin or code.pin
        codes.append(code)
    return codes
