"""Business operations on locks and door codes. Views, the admin and jobs call these; nothing else writes.

A door code is driven by its `desired` state. Services change `desired` (and the wanted PIN/window)
in a transaction and enqueue `jobs.converge_access_code` after commit; the job moves the lock one
confirmed step at a time. Unsettled codes are also the outbox: the sweeper re-enqueues any that a
lost enqueue, a dead worker or a Redis outage left behind, so a committed request is never lost.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit
from locks import queues
from locks.cloud import port
from locks.cloud.tuya import client as cloud
from locks.display import DAY_NAMES, day_and_time, hours_text
from locks.models import AccessCode, CloudAccount, Lock, LockOperation
from locks.tuya import (
    TuyaAuthError,
    TuyaDeviceOfflineError,
    TuyaEndpointRefused,
    TuyaError,
    TuyaNetworkError,
    TuyaPermissionError,
    TuyaRateLimitedError,
    TuyaServerError,
    TuyaSignatureError,
    TuyaTimeoutError,
    TuyaTokenError,
)
from locks.tuya.api import Ack, CreatedPassword, LockApi, LockKind, PasswordUse
from locks.tuya.schedule import ScheduleEntry, weekdays_to_working_day
from tenants.models import (
    CODE_ROLES,
    Actor,
    Guest,
    Membership,
    Organisation,
    Stay,
    Unit,
    single_line,
    user_of,
)

logger = logging.getLogger(__name__)

Status = AccessCode.Status
Desired = AccessCode.Desired

# How a cloud error is handled everywhere: the account as a whole is refused (say so, stop), the call may succeed
# if tried again (retry), or this request was wrong (record the reason).
REFUSED = (TuyaAuthError, TuyaPermissionError, TuyaSignatureError, TuyaEndpointRefused)
TRANSIENT = (TuyaRateLimitedError, TuyaServerError, TuyaNetworkError, TuyaTokenError)  # timeouts are network errors

MAX_BACKOFF = timedelta(minutes=15)
BREAKER_THRESHOLD = 5  # consecutive failures on one lock before it is left alone for a while
BREAKER_PAUSE = timedelta(minutes=10)
LEASE = timedelta(seconds=90)  # longer than one converge run, shorter than a stuck worker's patience


# --- PINs ---------------------------------------------------------------------------------------------------


def is_trivial_pin(pin: str) -> bool:
    """Easy to guess: one digit repeated, or a run up or down (1234567, 654321)."""
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    return len(set(pin)) <= 2 or steps in ({1}, {-1}, {0})


def _pins_in_use(lock: Lock, exclude: AccessCode | None = None) -> set[str]:
    codes = lock.access_codes.exclude(status__in=[Status.REMOVED, Status.EXPIRED, Status.FAILED])
    if exclude is not None:
        codes = codes.exclude(pk=exclude.pk)
    return {code.pin for code in codes.only("pin")}  # decrypted one by one: a lock holds tens of codes


def generate_pin(lock: Lock) -> str:
    """A random PIN of the lock's length, not trivial, not already on the lock."""
    taken = _pins_in_use(lock)
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(lock.pin_length))
        if pin not in taken and not is_trivial_pin(pin):
            return pin


def _check_pin(lock: Lock, pin: str, exclude: AccessCode | None = None) -> None:
    if not pin.isascii() or not pin.isdigit() or len(pin) != lock.pin_length:
        raise ValidationError({"pin": f"This lock takes PINs of exactly {lock.pin_length} digits."})
    if is_trivial_pin(pin):
        raise ValidationError({"pin": "This PIN is too easy to guess; leave it empty to get a random one."})
    if pin in _pins_in_use(lock, exclude):
        raise ValidationError({"pin": "Another code on this lock already uses this PIN."})


# --- issuing and changing codes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WeeklySchedule:
    """On these days (Python weekdays, Monday = 0), from start to end minute, in the property's time zone."""

    days: frozenset[int]
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not self.days:
            raise ValidationError({"schedule_days": "Choose at least one day."})
        if not 0 <= self.start_minute < self.end_minute <= 1440:
            raise ValidationError({"schedule_end": "The end time must be after the start time on the same day."})


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
    days = " or ".join(DAY_NAMES[d] for d in sorted(schedule.days))
    hours = hours_text(schedule.start_minute, schedule.end_minute)
    start, end = (day_and_time(timezone.localtime(moment, zone), year=True) for moment in (starts_at, ends_at))
    raise ValidationError(
        {
            field: f"From {start} to {end} ({zone_name}) there is no {days} {hours}: this code could never open. "
            "Make it valid for longer or choose other days."
        }
    )


def openings_note(code: AccessCode) -> str:
    """For a weekly code that opens only a few times inside its validity: how many, and when; else ''."""
    schedule = _weekly_schedule_of(code)
    if schedule is None:
        return ""
    openings = weekly_openings(schedule, max(code.starts_at, timezone.now()), code.ends_at, code.time_zone)
    if not openings or len(openings) >= FEW_OCCURRENCES:
        return ""
    times = "time" if len(openings) == 1 else "times"
    when = ", ".join(day_and_time(moment, year=False) for moment in openings)
    return f"“{code.label}” opens only {len(openings)} {times} before it ends ({when}): is its validity long enough?"


def _weekly_schedule_of(code: AccessCode) -> WeeklySchedule | None:
    if code.kind != AccessCode.Kind.WEEKLY or code.schedule_start_minute is None or code.schedule_end_minute is None:
        return None
    return WeeklySchedule(frozenset(code.schedule_days), code.schedule_start_minute, code.schedule_end_minute)


def _validate_window(starts_at: datetime, ends_at: datetime, *, now: datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationError("Times must carry a time zone.")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The code must end after it starts."})
    if ends_at <= now:
        raise ValidationError({"ends_at": "This window has already ended; pick an end in the future."})


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
        raise ValidationError({"schedule_days": "A weekly code needs its days and times."})
    if kind == AccessCode.Kind.WEEKLY and schedule is not None:
        _validate_openings(schedule, starts_at, ends_at, lock.time_zone, field="schedule_days")
    if not label.strip():
        raise ValidationError({"label": "Give the code a name, such as the guest's."})
    if pin:
        _check_pin(lock, pin)
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
        next_attempt_at=timezone.now(),
        request_token=request_token,
    )
    code.full_clean(exclude=["pin", "request_token"])
    code.save()
    audit("code.issue", actor=actor, organisation=lock.organisation, obj=code, summary=f"{code.label} on {lock}", ip=ip)
    _enqueue_after_commit(code)
    return code


def _stale(code: AccessCode, version: int | None) -> None:
    if version is not None and version != code.version:
        raise ValidationError("This code changed while you were looking at it; reload and try again.")


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
        raise ValidationError("This code is being removed; issue a new one instead.")
    new_start, new_end = starts_at or code.starts_at, ends_at or code.ends_at
    _validate_window(new_start, new_end, now=timezone.now())
    schedule = _weekly_schedule_of(code)
    if schedule is not None:
        _validate_openings(schedule, new_start, new_end, code.time_zone, field="ends_at")
    if pin and pin != code.pin:
        if code.lock.kind in (LockKind.BLE, LockKind.BLE_GATEWAY):
            raise ValidationError({"pin": "Bluetooth locks cannot change a code's PIN; issue a new code instead."})
        _check_pin(code.lock, pin, exclude=code)
        code.pin = pin
    code.starts_at, code.ends_at = new_start, new_end
    code.needs_modify = code.tuya_password_id is not None or code.status != Status.REQUESTED
    _touch(code)
    code.save()
    audit("code.modify", actor=actor, organisation=code.lock.organisation, obj=code, summary=code.label, ip=ip)
    _enqueue_after_commit(code)
    return code


def _set_desired(
    code: AccessCode, desired: str, action: str, *, version: int | None, actor: Actor, ip: str | None
) -> AccessCode:
    code = _lock_row(code)
    _stale(code, version)
    if code.desired == Desired.REMOVED and desired != Desired.REMOVED:
        raise ValidationError("This code is being removed; issue a new one instead.")
    if code.desired != desired:
        code.desired = desired
        _touch(code)
        code.save()
        audit(action, actor=actor, organisation=code.lock.organisation, obj=code, summary=code.label, ip=ip)
        _enqueue_after_commit(code)
    return code


@transaction.atomic
def freeze_access_code(
    code: AccessCode, *, version: int | None = None, actor: Actor = None, ip: str | None = None
) -> AccessCode:
    """Suspend a code without removing it (Zigbee locks)."""
    if not code.lock.can_freeze:
        raise ValidationError("Only Zigbee locks can freeze a code; remove it instead.")
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


def _touch(code: AccessCode) -> None:
    code.version += 1
    code.attempts = 0
    code.next_attempt_at = timezone.now()
    code.failure_reason, code.failure_code = "", None


def _enqueue_after_commit(code: AccessCode) -> None:
    code_id = code.pk
    transaction.on_commit(lambda: queues.enqueue_converge(code_id))


# --- converging: moving the lock towards what we want -------------------------------------------------------


class _Retry(Exception):
    """Not now: try again after a backoff (lock offline, rate limited, outcome unknown)."""

    def __init__(self, reason: str, *, unknown: bool = False, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.unknown, self.code = reason, unknown, code


def _claim(code_id: int) -> bool:
    """Take the code for this worker, unless another worker holds it."""
    now = timezone.now()
    claimed = AccessCode.objects.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=code_id).update(
        lease_until=now + LEASE
    )
    return claimed == 1


def _release(code_id: int) -> None:
    AccessCode.objects.filter(pk=code_id).update(lease_until=None)


def _save(code: AccessCode, **fields: Any) -> None:
    """Persist a step's outcome at once: a worker killed after this line must not repeat the step blindly."""
    for name, value in fields.items():
        setattr(code, name, value)
    code.save(update_fields=[*fields, "updated_at"])


def converge_access_code(code_id: int) -> str:
    """Move one code's lock towards its desired state; returns its status. Safe to run twice or concurrently."""
    if not _claim(code_id):
        return "busy"
    poll_in = None
    try:
        code = AccessCode.objects.select_related("lock__cloud_account", "lock__organisation").get(pk=code_id)
        if code.status == code.wanted_status and not code.needs_modify:  # every wanted status is a settled one
            return code.status
        lock = code.lock
        if lock.paused_until and lock.paused_until > timezone.now():
            _save(code, next_attempt_at=lock.paused_until)
            return code.status
        api = cloud.api_for(lock.cloud_account)
        try:
            _converge(api, code)
        except _Pending:
            poll_in = _poll_later(code)
        except _Retry as retry:
            _back_off(code, retry)
        except REFUSED as error:
            # The whole cloud account is refused (credentials, permission, subscription): every lock of it
            # would fail the same way, so pause them all instead of hammering the cloud, and say why.
            _account_refused(lock.cloud_account, explain(error))
            if code.pending_op == "create" and code.tuya_password_id is None:
                code.status = Status.REQUESTED  # refused at the door: nothing reached the lock
            _back_off(code, _Retry(explain(error), code=error.code))
        except TuyaError as error:
            _fail(code, explain(error, lock), error.code)
        return code.status
    finally:
        _release(code_id)
        if poll_in is not None:
            queues.enqueue_converge(code_id, delay=poll_in)


class _Pending(Exception):
    """The lock has not confirmed yet and this job does not wait: the sweeper looks again shortly."""


# The spec's Zigbee flow polls a password's status for 25 s; after that, waiting slows down (backoff).
CONFIRMATION_WINDOW = timedelta(seconds=25)


def _converge(api: LockApi, code: AccessCode) -> None:
    window = settings.CODE_POLL_WINDOW_SECONDS
    deadline = time.monotonic() + window
    while _step(api, code):  # with no window, the first wait raises _Pending
        if window > 0 and time.monotonic() > deadline:
            raise _Retry("The lock has not confirmed yet; still waiting for it.")


def _poll_later(code: AccessCode) -> timedelta | None:
    """Free the worker while the lock takes its time; returns when to look again inside the confirmation
    window (a delayed job), None past it (the sweeper looks again after a backoff)."""
    started = code.op_started_at or code.updated_at
    if timezone.now() - started > CONFIRMATION_WINDOW:
        _back_off(code, _Retry("The lock has not confirmed yet; still waiting for it."))
        return None
    delay = timedelta(seconds=settings.CODE_POLL_SECONDS)
    # Also due for the sweeper, in case the delayed job is lost with Redis or a killed scheduler.
    _save(code, next_attempt_at=timezone.now() + delay)
    return delay


def _settle_expired(code: AccessCode) -> bool:
    if code.ends_at > timezone.now():
        return False
    _save(code, status=Status.EXPIRED, pending_op="")
    return True


def _step(api: LockApi, code: AccessCode) -> bool:
    """Do or check one thing; True when there is more to do right away."""
    lock = code.lock
    # Someone may have changed what we want while this job runs: act on the latest wish.
    code.refresh_from_db(fields=["desired", "needs_modify", "pin", "starts_at", "ends_at", "version"])
    if code.desired == Desired.REMOVED:
        return _step_remove(api, code)
    if code.tuya_password_id is None:
        return not _settle_expired(code) and _step_create(api, code)
    state = _read(api, code)
    if state.state == "pending":
        _wait(code)
        return True
    if state.state == "failed":
        if _resend_through_gateway(api, code, state):
            return True
        _fail(code, state.reason)
        return False
    if state.state == "removed":
        # Gone from the cloud (expired there, or deleted outside this app): a fresh create puts it back.
        if _settle_expired(code):
            return False
        _save(code, tuya_password_id=None, operation_id=uuid.uuid4(), pending_op="create", status=Status.SENDING)
        return True
    confirmed = Status.SET if state.state == "set" else Status.FROZEN
    if code.pending_op:
        _save(code, pending_op="", status=confirmed, attempts=0, failure_reason="", failure_code=None)
        _healthy(lock)
    now = timezone.now()
    password_id = code.tuya_password_id
    if code.needs_modify:
        _call(lambda: _modify(api, code), code)
        _save(code, needs_modify=False, pending_op="modify", status=Status.SENDING, op_started_at=now)
        _wait(code)
        return True
    if code.desired == Desired.FROZEN and confirmed == Status.SET:
        _call(lambda: api.passwords.freeze_temp_password(lock.device_id, password_id), code)
        _save(code, pending_op="freeze", status=Status.SENDING, op_started_at=now)
        _wait(code)
        return True
    if code.desired == Desired.ACTIVE and confirmed == Status.FROZEN:
        _call(lambda: api.passwords.unfreeze_temp_password(lock.device_id, password_id), code)
        _save(code, pending_op="unfreeze", status=Status.SENDING, op_started_at=now)
        _wait(code)
        return True
    if code.status != confirmed:
        _save(code, status=confirmed)
    return False


GATEWAY_RESENDS = 3


def _resend_through_gateway(api: LockApi, code: AccessCode, state: port.CloudPassword) -> bool:
    """A Zigbee gateway that gave up (the lock was unreachable) is asked to resend, a few times, at most once
    a minute per lock as Tuya allows; True when a resend is on its way."""
    if code.lock.kind != LockKind.ZIGBEE or state.reason != cloud.DELIVERY_FAILURES[3]:
        return False
    if code.attempts >= GATEWAY_RESENDS:
        return False
    try:
        _call(lambda: api.passwords.sync_passwords(code.lock.device_id, code.tuya_password_id), code)
    except TuyaError as error:
        if error.code != 1113:
            raise
        raise _Retry("The lock's gateway could not reach it; resending in a minute.", code=1113) from None
    _save(
        code,
        attempts=code.attempts + 1,
        status=Status.SENDING,
        failure_reason="The gateway could not reach the lock; resending.",
    )
    _wait(code)
    return True


def _step_create(api: LockApi, code: AccessCode) -> bool:
    lock = code.lock
    # A create whose reply was lost left a password named with our marker: adopt it instead of creating twice.
    # A code still "requested" was never sent (status turns "sending" before the call), so there is nothing
    # to look for and the listing call is saved.
    found = None
    if code.status != Status.REQUESTED:
        found = _call(lambda: cloud.find_by_marker(api, lock, code.cloud_marker), code)
    if found is not None:
        code.op_started_at = code.op_started_at or timezone.now()
        _save(
            code,
            tuya_password_id=found.password_id,
            status=Status.SENDING,
            pending_op="create",
            op_started_at=code.op_started_at,
        )
        return True  # it may have reached the lock long ago: read it now
    # Recorded before the call, so a crash after it is known to have possibly sent (status sending).
    _save(code, status=Status.SENDING, pending_op="create", op_started_at=timezone.now())
    created = _call(lambda: _create(api, code), code, outcome_unknown=True)
    _save(code, tuya_password_id=created.id)
    _wait(code)  # a fresh create is never on the lock yet: reading at once would only cost a call
    return True


def _step_remove(api: LockApi, code: AccessCode) -> bool:
    lock = code.lock
    if code.tuya_password_id is None:
        found = _call(lambda: cloud.find_by_marker(api, lock, code.cloud_marker), code)
        if found is None:
            _save(code, status=Status.REMOVED, pending_op="")
            return False
        _save(code, tuya_password_id=found.password_id)
    state = _read(api, code)
    if state.state == "removed":
        _save(code, status=Status.REMOVED, pending_op="", failure_reason="")
        _healthy(lock)
        return False
    if code.pending_op != "delete" or state.state in ("set", "frozen", "failed"):
        password_id = code.tuya_password_id
        assert password_id is not None  # found by its marker above, or read by _read
        _call(lambda: api.passwords.delete_temp_password(lock.device_id, password_id), code)
        _save(code, pending_op="delete", status=Status.REMOVING, op_started_at=timezone.now())
    _wait(code)
    return True


def _read(api: LockApi, code: AccessCode) -> port.CloudPassword:
    password_id = code.tuya_password_id
    assert password_id is not None
    return _call(lambda: cloud.read_password(api, code.lock, password_id), code)


def _wait(code: AccessCode) -> None:
    if settings.CODE_POLL_WINDOW_SECONDS <= 0:
        raise _Pending  # no waiting inside jobs: workers stay free for other codes (higher throughput)
    time.sleep(settings.CODE_POLL_SECONDS)


def _schedule_of(code: AccessCode) -> list[ScheduleEntry] | None:
    if code.kind != AccessCode.Kind.WEEKLY or code.schedule_start_minute is None or code.schedule_end_minute is None:
        return None
    mask = weekdays_to_working_day(code.schedule_days)
    return [ScheduleEntry(mask, code.schedule_start_minute, code.schedule_end_minute)]


def _create(api: LockApi, code: AccessCode) -> CreatedPassword:
    lock = code.lock
    return api.passwords.create_temp_password(
        lock.device_id,
        lock_kind=lock.kind,
        pin=code.pin,
        name=code.cloud_name,
        effective_time=code.starts_at,
        invalid_time=code.ends_at,
        type=PasswordUse.ONCE if code.kind == AccessCode.Kind.ONCE else PasswordUse.MULTIPLE,
        time_zone=code.time_zone if code.kind == AccessCode.Kind.WEEKLY else None,
        schedule=_schedule_of(code),
    )


def _modify(api: LockApi, code: AccessCode) -> Ack:
    lock = code.lock
    assert code.tuya_password_id is not None  # only codes on the lock are modified
    return api.passwords.modify_temp_password(
        lock.device_id,
        code.tuya_password_id,
        lock_kind=lock.kind,
        pin=code.pin,
        effective_time=code.starts_at,
        invalid_time=code.ends_at,
        type=PasswordUse.ONCE if code.kind == AccessCode.Kind.ONCE else PasswordUse.MULTIPLE,
        time_zone=code.time_zone if code.kind == AccessCode.Kind.WEEKLY else None,
        schedule=_schedule_of(code),
    )


T = TypeVar("T")


def _call(action: Callable[[], T], code: AccessCode, *, outcome_unknown: bool = False) -> T:
    """Run one cloud call, turning transient failures into a retry and unknown outcomes into `unknown`."""
    try:
        return action()
    except TuyaDeviceOfflineError as error:
        reason = unreachable(code.lock, "The lock is offline")
        raise _Retry(f"{reason.rstrip('.')}; the code will be sent when it can be reached.", code=error.code) from None
    except (TuyaRateLimitedError, TuyaTokenError) as error:
        raise _Retry("The cloud is busy; retrying shortly.", code=error.code) from None
    except (TuyaTimeoutError, TuyaServerError, TuyaNetworkError) as error:
        if outcome_unknown:
            raise _Retry(
                "The cloud did not answer; checking whether the code was created.", unknown=True, code=error.code
            ) from None
        raise _Retry("The cloud could not be reached; retrying shortly.", code=error.code) from None


def _backoff_delay(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=5 * 2 ** min(attempts, 10)))


def _back_off(code: AccessCode, retry: _Retry) -> None:
    attempts = code.attempts + 1
    status = Status.UNKNOWN if retry.unknown else code.status
    _save(
        code,
        attempts=attempts,
        next_attempt_at=timezone.now() + _backoff_delay(attempts),
        failure_reason=retry.reason,
        failure_code=retry.code,
        status=status,
    )
    if retry.code is not None:
        _unhealthy(code.lock)


def _fail(code: AccessCode, reason: str, error_code: int | None = None) -> None:
    # A code that failed to be removed is still wanted off the lock, so the sweeper keeps trying: after a
    # growing pause, not at every sweep (a refused delete would otherwise cost a cloud call every 5 s forever).
    attempts = code.attempts + 1
    _save(
        code,
        status=Status.FAILED,
        pending_op="",
        failure_reason=reason[:300],
        failure_code=error_code,
        attempts=attempts,
        next_attempt_at=timezone.now() + _backoff_delay(attempts),
    )


# Battery Wi-Fi locks sleep between uses: online for the cloud, but reachable only while awake.
SLEEPING_KINDS = frozenset({LockKind.WIFI.value, LockKind.WIFI_VIDEO.value})


def unreachable(lock: Lock | None, otherwise: str) -> str:
    """What "device offline" (Tuya 2001) means for this lock. The cloud's word is about the moment of the call;
    the lock's own last report (push, sync) says whether it has power, so "check its power" (`otherwise`) is
    for a lock we know offline only."""
    if lock is None:
        return otherwise
    state = Lock.objects.filter(pk=lock.pk).values_list("online", "kind").first()
    online, kind = state if state is not None else (lock.online, lock.kind)
    if not online:
        return otherwise
    if kind in SLEEPING_KINDS:
        return (
            "The lock is online but asleep: a battery Wi-Fi lock listens only while it is awake (someone rang or "
            "used it)."
        )
    return "The cloud could not reach the lock just now, although it reports online; try again in a moment."


def explain(error: TuyaError, lock: Lock | None = None) -> str:
    """A cloud error in plain words, with Tuya's code and what to do next (for the lock's real state, if given)."""
    hint = unreachable(lock, error.hint) if isinstance(error, TuyaDeviceOfflineError) else error.hint
    return f"{error.msg} (Tuya {error.code}). {hint}" if error.code is not None else f"{error.msg}. {hint}"


def _account_refused(account: CloudAccount, reason: str) -> None:
    CloudAccount.objects.filter(pk=account.pk).update(last_error=reason[:300])
    Lock.objects.filter(cloud_account=account).update(paused_until=timezone.now() + BREAKER_PAUSE)


def _healthy(lock: Lock) -> None:
    if lock.failure_streak or lock.paused_until:
        Lock.objects.filter(pk=lock.pk).update(failure_streak=0, paused_until=None)
    account = lock.cloud_account
    if account.last_error:  # the cloud answered again: the account's refusal (and its alert) is over
        CloudAccount.objects.filter(pk=account.pk).update(last_error="")
        account.last_error = ""


def _unhealthy(lock: Lock) -> None:
    streak = lock.failure_streak + 1
    paused = timezone.now() + BREAKER_PAUSE if streak >= BREAKER_THRESHOLD else None
    Lock.objects.filter(pk=lock.pk).update(failure_streak=streak, paused_until=paused)
    lock.failure_streak, lock.paused_until = streak, paused


# --- the sweeper: the outbox of unsettled codes -------------------------------------------------------------


def due_codes(now: datetime | None = None) -> Iterable[int]:
    """Codes that are not where we want them and whose next attempt is due."""
    now = now or timezone.now()
    unsettled = Q(status__in=[Status.REQUESTED, Status.SENDING, Status.REMOVING, Status.UNKNOWN])
    drifting = (
        Q(desired=Desired.REMOVED) & ~Q(status=Status.REMOVED)
        | Q(desired=Desired.FROZEN, status=Status.SET)
        | Q(desired=Desired.ACTIVE, status=Status.FROZEN)
        | Q(needs_modify=True)
    )
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return AccessCode.objects.filter((unsettled | drifting) & due).values_list("pk", flat=True)[:500]


def expire_codes(now: datetime | None = None) -> int:
    """Codes past their end are expired; the lock drops them by itself."""
    now = now or timezone.now()
    return AccessCode.objects.filter(status=Status.SET, ends_at__lte=now).update(status=Status.EXPIRED)


# --- cloud accounts and locks -------------------------------------------------------------------------------


def import_locks(account: CloudAccount, *, device_ids: Iterable[str] | None = None, actor: Actor = None) -> list[Lock]:
    """Bring in the project's locks (or just `device_ids`), updating the ones already known.

    A device that is already a lock of another organisation (or of another cloud account) is left out and counted
    in `account.import_refused`: one physical lock, one organisation (the `one_organisation_per_device` constraint
    holds it in the database too, should two imports race).
    """
    # Cloud first, database after: a transaction held across HTTP calls would block every other writer.
    api = cloud.api_for(account)
    uid = api.client.tokens.current().uid
    if device_ids is None:
        device_ids, last_id = [], None
        while True:
            page = api.device.list_project_devices(last_id=last_id, page_size=20)
            device_ids += [device.id for device in page if cloud.is_lock_category(device.category)]
            last_id = page.next_last_id
            if last_id is None:
                break
    device_ids = list(dict.fromkeys(device_ids))
    elsewhere = Lock.objects.filter(device_id__in=device_ids).exclude(cloud_account=account)
    held = dict(elsewhere.values_list("device_id", "organisation_id"))  # ours through another account: listed there
    refused = {device_id for device_id, organisation_id in held.items() if organisation_id != account.organisation_id}
    # Not even read: another organisation's lock details (its local key) have no business here.
    found = [api.device.get_device(device_id) for device_id in device_ids if device_id not in held]
    locks: list[Lock] = []
    with transaction.atomic():
        for details in found:
            try:
                with transaction.atomic():  # a savepoint: a race lost on the constraint skips this device only
                    lock = Lock.objects.update_or_create(
                        cloud_account=account,
                        device_id=details.id,
                        defaults={
                            "organisation": account.organisation,
                            "name": single_line(details.name),  # the cloud's name goes into one-line places too
                            "kind": cloud.kind_of(details),
                            "online": details.online,
                            "local_key": details.local_key,
                            "last_seen_at": timezone.now(),
                        },
                    )[0]
            except IntegrityError:  # taken meanwhile by another import
                refused.add(details.id)
            else:
                locks.append(lock)
        account.uid, account.last_error, account.import_refused = uid, "", len(refused)
        account.save(update_fields=["uid", "last_error", "import_refused"])
        summary = f"{len(locks)} locks" + (f", {len(refused)} left out (another organisation's)" if refused else "")
        audit("locks.import", actor=actor, organisation=account.organisation, obj=account, summary=summary)
    if refused:
        logger.warning("Cloud account %s: %d devices left out, locks of another organisation", account.pk, len(refused))
    return locks


# --- connecting a cloud project and putting its locks on doors ----------------------------------------------


@transaction.atomic
def connect_cloud_account(
    *,
    organisation: Organisation,
    name: str,
    endpoint: str,
    access_id: str,
    access_secret: str,
    actor: Actor = None,
    ip: str | None = None,
) -> CloudAccount:
    """Store a Tuya cloud project's credentials (the secret encrypted) and import its locks in a worker."""
    # The endpoint is checked by the model's clean() in full_clean below (endpoints.check_endpoint), before anything
    # is stored or called.
    if CloudAccount.objects.filter(organisation=organisation, endpoint=endpoint.strip(), access_id=access_id).exists():
        raise ValidationError({"access_id": "This cloud project is connected already."})
    account = CloudAccount(
        organisation=organisation,
        name=name.strip(),
        endpoint=endpoint.strip(),
        access_id=access_id.strip(),
        access_secret=access_secret.strip(),
    )
    account.full_clean()
    account.save()
    audit("cloud.connect", actor=actor, organisation=organisation, obj=account, summary=account.name, ip=ip)
    request_import(account, actor=actor, ip=ip)
    return account


@transaction.atomic
def request_import(account: CloudAccount, *, actor: Actor = None, ip: str | None = None) -> CloudAccount:
    """Ask a worker to bring in (or refresh) the project's locks."""
    account.import_requested_at = timezone.now()
    CloudAccount.objects.filter(pk=account.pk).update(import_requested_at=account.import_requested_at)
    audit("locks.import_requested", actor=actor, organisation=account.organisation, obj=account, ip=ip)
    account_id = account.pk
    transaction.on_commit(lambda: _enqueue_import(account_id))
    return account


def _enqueue_import(account_id: int) -> None:
    if not queues.enqueue_import(account_id):
        import_not_started(account_id)


IMPORT_AGAIN = "Check the region or URL and that this server can reach it, then bring in its locks again."


def import_failure(error: Exception) -> str:
    """Why an import ended without locks, and what to do: every failure says so on the page (none is left
    "bringing in its locks" for ever). An unexpected error's own text is not shown (it may quote the reply)."""
    if isinstance(error, TuyaError) and error.code is not None:  # the cloud answered: its code and what to do
        return explain(error)
    if isinstance(error, TuyaError):  # no answer, or not a Tuya one: our own words (Tuya's hints are about calls)
        return f"{error.msg.rstrip('.')}. {IMPORT_AGAIN}"
    return f"The cloud's reply could not be understood. {IMPORT_AGAIN}"


def import_not_started(account_id: int) -> None:
    """No worker will run the import (the queue was unavailable): end it with an error rather than wait for ever."""
    message = "The import could not be started: the job queue is unavailable. Try again in a minute."
    CloudAccount.objects.filter(pk=account_id).update(last_error=message, imported_at=timezone.now())


def run_import(account_id: int) -> str:
    """The worker's side of `request_import`: any failure is kept on the account, in plain words, and ends the
    import (the client already retried what was safe to; the owner can ask again from the page)."""
    account = CloudAccount.objects.select_related("organisation").filter(pk=account_id).first()
    if account is None or not account.import_pending:  # a late job still runs a lost import
        return "nothing to do"
    try:
        found = import_locks(account)
    except Exception as error:  # noqa: BLE001 - whatever it was, the page must stop waiting and say so
        if not isinstance(error, TuyaError):
            logger.exception("The lock import of cloud account %s failed", account_id)
        CloudAccount.objects.filter(pk=account_id).update(
            last_error=import_failure(error)[:300], imported_at=timezone.now()
        )
        return "refused" if isinstance(error, REFUSED) else "failed"
    CloudAccount.objects.filter(pk=account_id).update(imported_at=timezone.now())
    return f"{len(found)} locks"


@transaction.atomic
def attach_lock(lock: Lock, *, unit: Unit | None, actor: Actor = None, ip: str | None = None) -> Lock:
    """Put a lock on a unit's door (or take it off: unit None). Codes stay with the lock, so a lock that still
    carries live codes is not moved: they were given for the old door."""
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    if unit is not None and unit.property.organisation_id != lock.organisation_id:
        raise ValidationError({"unit": "That unit belongs to another organisation."})
    if (unit.pk if unit is not None else None) == lock.unit_id:
        return lock
    live = lock.access_codes.exclude(status__in=[Status.REMOVED, Status.EXPIRED, Status.FAILED])
    if live.exists():  # wanted on the lock, or still being removed from it
        raise ValidationError({"unit": "This lock still has codes for its current door: remove them first."})
    lock.unit = unit
    lock.save(update_fields=["unit"])
    where = str(unit) if unit is not None else "no unit"
    audit("lock.attach", actor=actor, organisation=lock.organisation, obj=lock, summary=f"{lock} → {where}", ip=ip)
    return lock


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
        reuse = pin if pin and len(pin) == lock.pin_length and pin not in _pins_in_use(lock) else None
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


PIN_RETENTION = timedelta(days=30)  # docs/reliability.md S7: a PIN outlives its code's end by 30 days, no more


def purge_old_pins(now: datetime | None = None) -> int:
    """Erase the PINs of codes that ended (and are off the lock or never reached it) over 30 days ago."""
    now = now or timezone.now()
    finished = [Status.REMOVED, Status.EXPIRED, Status.FAILED]
    old = AccessCode.objects.filter(ends_at__lt=now - PIN_RETENTION, status__in=finished, pin_purged_at__isnull=True)
    return old.update(pin="", pin_purged_at=now)


# --- PINs on screen, resending, reconciliation ---------------------------------------------------------------


def may_see_pins(user: Actor, lock: Lock) -> bool:
    """Owners and managers of the lock's organisation, and its front desk for their properties (never a lock on
    no door: it is on none of the properties a limited desk was given)."""
    if getattr(user, "is_superuser", False):
        return True
    membership = Membership.objects.filter(user=user_of(user), organisation_id=lock.organisation_id).first()
    if membership is None or membership.role not in CODE_ROLES:
        return False
    return membership.may_see_lock(lock)


def reveal_pin(code: AccessCode, *, actor: Actor, ip: str | None = None) -> str:
    """The code's PIN for someone allowed to see it; every look (and every refusal) is audited."""
    if not may_see_pins(actor, code.lock):
        audit("code.reveal_refused", actor=actor, organisation=code.lock.organisation, obj=code, ip=ip)
        raise PermissionDenied("Your role may not see door codes.")
    if code.pin_purged_at:
        raise ValidationError("This code ended more than 30 days ago and its PIN has been erased.")
    audit("code.reveal", actor=actor, organisation=code.lock.organisation, obj=code, summary=code.label, ip=ip)
    return code.pin


def reveal_operation_secret(operation: LockOperation, *, actor: Actor, ip: str | None = None) -> str:
    """The offline, dynamic or advanced password a lock operation produced, audited like a PIN."""
    lock = operation.lock
    if not may_see_pins(actor, lock):
        audit("lock.secret_reveal_refused", actor=actor, organisation=lock.organisation, obj=operation, ip=ip)
        raise PermissionDenied("Your role may not see door codes.")
    if not operation.secret:
        raise ValidationError("This operation has no code to show (yet).")
    audit(
        "lock.secret_reveal", actor=actor, organisation=lock.organisation, obj=operation, summary=operation.label, ip=ip
    )
    return operation.secret


@transaction.atomic
def resend_access_code(code: AccessCode, *, actor: Actor = None, ip: str | None = None) -> AccessCode:
    """Try a failed code again from the start, as a new operation (a new marker, so nothing is confused)."""
    code = _lock_row(code)
    if code.status != Status.FAILED:
        raise ValidationError("Only a code that failed can be sent again.")
    _validate_window(code.starts_at, code.ends_at, now=timezone.now())
    code.tuya_password_id, code.operation_id = None, uuid.uuid4()
    code.status, code.pending_op, code.desired, code.needs_modify = Status.REQUESTED, "create", Desired.ACTIVE, False
    _touch(code)
    code.save()
    audit("code.resend", actor=actor, organisation=code.lock.organisation, obj=code, summary=code.label, ip=ip)
    _enqueue_after_commit(code)
    return code


@dataclass(frozen=True)
class Reconciliation:
    foreign: list[dict[str, Any]]
    repaired: list[int]


def reconcile_lock(lock: Lock) -> Reconciliation:
    """Compare the lock's passwords in the cloud with the codes we want; repair ours, flag the rest."""
    api = cloud.api_for(lock.cloud_account)
    try:
        in_cloud = cloud.list_passwords(api, lock)
    except TuyaError as error:
        logger.info("reconcile %s: %s", lock.pk, error)
        return Reconciliation([], [])
    codes = list(lock.access_codes.all())
    by_id = {c.tuya_password_id: c for c in codes if c.tuya_password_id is not None}
    by_marker = {c.cloud_marker: c for c in codes}
    live_in_cloud = [pw for pw in in_cloud if pw.state != "removed"]
    foreign: list[dict[str, Any]] = []
    repair: dict[int, str] = {}
    for pw in live_in_cloud:
        code = by_id.get(pw.password_id) or by_marker.get(pw.name[-13:])
        if code is None:
            foreign.append({"password_id": pw.password_id, "name": pw.name, "state": pw.state})
        elif code.desired == Desired.REMOVED and code.status == Status.REMOVED:
            repair[code.pk] = Status.REMOVING  # removed here, still on the lock: delete it again
    present = {pw.password_id for pw in live_in_cloud}
    for code in codes:
        gone = code.tuya_password_id is not None and code.tuya_password_id not in present
        if code.status == Status.SET and gone and code.ends_at > timezone.now():
            repair[code.pk] = Status.SENDING  # we think it is on the lock, the cloud does not: put it back
    for pk, status in repair.items():
        AccessCode.objects.filter(pk=pk).update(status=status, next_attempt_at=timezone.now())
        _enqueue_after_commit(AccessCode(pk=pk))
    Lock.objects.filter(pk=lock.pk).update(foreign_codes=foreign, last_reconciled_at=timezone.now())
    return Reconciliation(foreign, sorted(repair))


# --- one-off lock operations: offline and dynamic passwords, advanced passwords, hotel clear, sync ----------

HOUR = timedelta(hours=1)
OFFLINE_KINDS = frozenset(
    {
        LockKind.WIFI,
        LockKind.ZIGBEE,
        LockKind.BLE,
        LockKind.BLE_GATEWAY,
        LockKind.WIFI_KEEPALIVE,
        LockKind.ACCESS_CONTROL,
    }
)
DYNAMIC_KINDS = frozenset({LockKind.WIFI, LockKind.ZIGBEE, LockKind.BLE, LockKind.BLE_GATEWAY})
OFFLINE_TYPES = ("multiple", "once", "clear_one", "clear_all")


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def offline_window(
    kind: str, *, now: datetime, starts_at: datetime | None, ends_at: datetime | None
) -> tuple[datetime, datetime]:
    """The window the lock will really honour, by the spec's hour rounding (shown before issuing)."""
    this_hour = _floor_hour(now)
    if kind == "once":
        return this_hour, this_hour + 6 * HOUR
    if kind == "clear_all" or (kind == "clear_one" and (starts_at is None or ends_at is None)):
        return this_hour, this_hour + 24 * HOUR
    if starts_at is None or ends_at is None:
        raise ValidationError({"ends_at": "A multiple-use offline password needs a start and an end."})
    return _floor_hour(starts_at), _floor_hour(ends_at)


def _new_operation(
    lock: Lock,
    kind: str,
    *,
    label: str = "",
    params: dict[str, Any] | None = None,
    secret: str = "",
    actor: Actor = None,
    ip: str | None = None,
) -> LockOperation:
    operation = LockOperation.objects.create(
        organisation_id=lock.organisation_id,
        lock=lock,
        kind=kind,
        label=label[:100],
        params=params or {},
        secret=secret,
        created_by=user_of(actor),
    )
    audit(
        f"lock.{kind}", actor=actor, organisation=lock.organisation, obj=operation, summary=f"{label} on {lock}", ip=ip
    )

    transaction.on_commit(lambda: queues.enqueue_lock_operation(operation.pk))
    return operation


@transaction.atomic
def request_offline_password(
    *,
    lock: Lock,
    kind: str,
    label: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    clears: LockOperation | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> LockOperation:
    """An offline password (or a clearing code) the lock checks by itself: for a lock that is offline."""
    if lock.kind not in OFFLINE_KINDS:
        raise ValidationError(f"A {lock.get_kind_display()} cannot issue offline passwords.")
    if kind not in OFFLINE_TYPES:
        raise ValidationError({"kind": "Choose multiple, once, clear one or clear all."})
    start, end = offline_window(kind, now=timezone.now(), starts_at=starts_at, ends_at=ends_at)
    if end <= start:
        raise ValidationError({"ends_at": "After rounding down to whole hours the window is empty: make it longer."})
    if end <= timezone.now():
        raise ValidationError({"ends_at": "This window has already ended."})
    params: dict[str, Any] = {
        "type": kind,
        "effective_time": int(start.timestamp()),
        "invalid_time": int(end.timestamp()),
    }
    if kind == "clear_one":
        if clears is None or clears.lock_id != lock.pk or not clears.result.get("password_id"):
            raise ValidationError({"clears": "Choose the issued offline password to clear."})
        params["password_id"] = clears.result["password_id"]
    return _new_operation(lock, LockOperation.Kind.OFFLINE_PASSWORD, label=label, params=params, actor=actor, ip=ip)


@transaction.atomic
def request_dynamic_password(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> LockOperation:
    if lock.kind not in DYNAMIC_KINDS:
        raise ValidationError(f"A {lock.get_kind_display()} has no dynamic passwords.")
    return _new_operation(lock, LockOperation.Kind.DYNAMIC_PASSWORD, label="Dynamic password", actor=actor, ip=ip)


@transaction.atomic
def set_advanced_password(
    *, lock: Lock, advanced_type: str, pin: str, actor: Actor = None, ip: str | None = None
) -> LockOperation:
    """A hotel lock's admin or emergency password (six digits)."""
    if lock.kind != LockKind.ZIGBEE_HOTEL:
        raise ValidationError("Only Zigbee hotel locks have advanced passwords.")
    if advanced_type not in ("admin", "emergency"):
        raise ValidationError({"advanced_type": "Choose admin or emergency."})
    if not pin.isascii() or not pin.isdigit() or len(pin) != 6 or is_trivial_pin(pin):
        raise ValidationError({"pin": "An advanced password is 6 digits and not easy to guess."})
    params = {"advanced_type": advanced_type}
    label = f"{advanced_type.title()} password"
    return _new_operation(
        lock, LockOperation.Kind.ADVANCED_PASSWORD, label=label, params=params, secret=pin, actor=actor, ip=ip
    )


@transaction.atomic
def clear_all_codes(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> LockOperation:
    """Wipe every temporary password from a hotel lock; our codes on it follow as removed once confirmed."""
    if lock.kind != LockKind.ZIGBEE_HOTEL:
        raise ValidationError("Only Zigbee hotel locks can clear all temporary passwords at once.")
    return _new_operation(lock, LockOperation.Kind.CLEAR_ALL, label="Clear all codes", actor=actor, ip=ip)


@transaction.atomic
def sync_pending_codes(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> LockOperation:
    """Ask the Zigbee gateway to resend codes still being configured (Tuya allows this once a minute)."""
    if lock.kind != LockKind.ZIGBEE:
        raise ValidationError("Only Zigbee locks can resend pending codes.")
    recent = lock.operations.filter(
        kind=LockOperation.Kind.SYNC_PENDING, created_at__gt=timezone.now() - timedelta(seconds=60)
    )
    if recent.exists():
        raise ValidationError("Pending codes were resent less than a minute ago; Tuya allows it once a minute.")
    return _new_operation(lock, LockOperation.Kind.SYNC_PENDING, label="Resend pending codes", actor=actor, ip=ip)


def stalled_operations(now: datetime | None = None) -> list[int]:
    """Operations whose job was lost (enqueue failed) or whose worker died mid-run: hand them out again."""
    now = now or timezone.now()
    # Stalled = started over 5 minutes ago (a run takes seconds), not created then: one that waited long in the
    # queue and is running now must not be handed out a second time.
    LockOperation.objects.filter(status=LockOperation.Status.RUNNING, started_at__lt=now - timedelta(minutes=5)).update(
        status=LockOperation.Status.REQUESTED
    )
    waiting = LockOperation.objects.filter(
        status=LockOperation.Status.REQUESTED, created_at__lt=now - timedelta(seconds=30)
    )
    return list(waiting.values_list("pk", flat=True)[:200])


def run_lock_operation(operation_id: int) -> str:
    """Carry out one lock operation (a job). Safe to run twice: a finished one is left alone."""
    claimed = LockOperation.objects.filter(pk=operation_id, status=LockOperation.Status.REQUESTED).update(
        status=LockOperation.Status.RUNNING, started_at=timezone.now()
    )
    operation = LockOperation.objects.select_related("lock__cloud_account").get(pk=operation_id)
    if not claimed:
        return operation.status
    lock = operation.lock
    api = cloud.api_for(lock.cloud_account)
    try:
        _run_operation(api, operation)
    except TRANSIENT as error:
        # Not sure it happened: hand it back for the job's retry (a new offline code is harmless; Tuya dedups sync).
        LockOperation.objects.filter(pk=operation_id).update(status=LockOperation.Status.REQUESTED)
        raise error
    except TuyaError as error:
        operation.status, operation.failure_reason = LockOperation.Status.FAILED, explain(error, lock)[:300]
    else:
        operation.status = LockOperation.Status.DONE
    operation.finished_at = timezone.now()
    operation.save()
    return operation.status


def _run_operation(api: LockApi, operation: LockOperation) -> None:
    lock, params = operation.lock, operation.params
    kind = operation.kind
    if kind == LockOperation.Kind.OFFLINE_PASSWORD:
        issued = api.offline.create_offline_password_v11(
            lock.device_id,
            type=params["type"],
            effective_time=params.get("effective_time") if params["type"] in ("multiple", "clear_one") else None,
            invalid_time=params.get("invalid_time") if params["type"] in ("multiple", "clear_one") else None,
            name=operation.label or None,
            password_id=params.get("password_id"),
        )
        operation.secret = issued.password
        operation.result = {
            "password_id": issued.password_id,
            "effective_time": issued.effective_time,
            "invalid_time": issued.invalid_time,
        }
    elif kind == LockOperation.Kind.DYNAMIC_PASSWORD:
        operation.secret = api.offline.get_dynamic_password(lock.device_id).password
        operation.result = {"valid_for_minutes": 5}
    elif kind == LockOperation.Kind.ADVANCED_PASSWORD:
        api.passwords.set_advanced_password(lock.device_id, advanced_type=params["advanced_type"], pin=operation.secret)
        operation.result = {"phase": _wait_advanced(api, lock, params["advanced_type"])}
        if operation.result["phase"] == 3:
            raise TuyaError("The lock did not take the advanced password (its gateway could not reach it).")
    elif kind == LockOperation.Kind.CLEAR_ALL:
        api.passwords.clear_temp_passwords(lock.device_id)
        with transaction.atomic():
            for code in lock.access_codes.exclude(desired=Desired.REMOVED):
                remove_access_code(code, actor=operation.created_by)
    elif kind == LockOperation.Kind.SYNC_PENDING:
        api.passwords.sync_passwords(lock.device_id)
        # The codes still on their way get a fresh look.
        AccessCode.objects.filter(lock=lock, status=Status.SENDING).update(next_attempt_at=timezone.now())


def _wait_advanced(api: LockApi, lock: Lock, advanced_type: str) -> int:
    deadline = time.monotonic() + settings.CODE_POLL_WINDOW_SECONDS
    while True:
        phase = api.passwords.get_advanced_password(lock.device_id, advanced_type).phase or 1
        if phase != 1 or time.monotonic() > deadline:
            return phase
        time.sleep(settings.CODE_POLL_SECONDS)
