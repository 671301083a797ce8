"""Converging: moving a lock towards what we want of each door code, one confirmed step at a time.

`converge_access_code` (a job) reads the code's `desired` state, does or checks one thing on the cloud and
records the outcome at once; transient failures back off, a refused account pauses all its locks, a lock that
keeps failing is left alone for a while (the breaker, locks/failures.py). Unsettled codes are also the outbox:
the sweeper (`due_codes`) re-enqueues any that a lost enqueue, a dead worker or a Redis outage left behind, so a
committed request is never lost.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from locks import queues, words
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.cloud.port import LockCloud, PasswordSpec, WeeklyHours
from locks.failures import REFUSED, account_refused, explain, healthy, unhealthy, unreachable
from locks.models import CODE_NEEDS_WORK_NOW, CODE_ON_LOCK, NO_FAILURE, AccessCode, LockKind, failed
from locks.words import Words
from webhooks import payloads
from webhooks.emit import emit

Status = AccessCode.Status
Desired = AccessCode.Desired

MAX_BACKOFF = timedelta(minutes=15)
LEASE = timedelta(seconds=90)  # longer than one converge run, shorter than a stuck worker's patience


# Why a code is not settled yet, as its row says (in the reader's language, locks/words.py).
STILL_WAITING = Words(gettext_noop("The lock has not confirmed yet; still waiting for it."))
SENT_WHEN_REACHED = gettext_noop("The code will be sent when it can be reached.")
CLOUD_BUSY = gettext_noop("The cloud is busy; retrying shortly.")
CHECKING_CREATED = gettext_noop("The cloud did not answer; checking whether the code was created.")
CLOUD_UNREACHABLE = gettext_noop("The cloud could not be reached; retrying shortly.")
RESENDING_SOON = gettext_noop("The lock's gateway could not reach it; resending in a minute.")
RESENDING = gettext_noop("The gateway could not reach the lock; resending.")


class _Retry(Exception):
    """Not now: try again after a backoff (lock offline, rate limited, outcome unknown)."""

    def __init__(self, reason: Words, *, unknown: bool = False, code: int | None = None) -> None:
        super().__init__(reason.english)
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


# What the lock confirmed, told to the organisation's webhooks when a code's status becomes one of these.
CONFIRMED_EVENTS: dict[str, str] = {
    Status.SET: "access_code.set",
    Status.FAILED: "access_code.failed",
    Status.REMOVED: "access_code.removed",
}


def _save(code: AccessCode, **fields: Any) -> None:
    """Persist a step's outcome at once: a worker killed after this line must not repeat the step blindly. A status
    the lock confirmed (set, failed, removed) is a webhook event, written in the same transaction."""
    before = code.status
    for name, value in fields.items():
        setattr(code, name, value)
    event_type = CONFIRMED_EVENTS.get(code.status) if code.status != before else None
    with transaction.atomic():
        code.save(update_fields=[*fields, "updated_at"])
        if event_type is not None:
            data = payloads.access_code(code, failed=code.status == Status.FAILED)
            emit(code.organisation_id, event_type, data)


def converge_access_code(code_id: int) -> str:
    """Move one code's lock towards its desired state; returns its status. Safe to run twice or concurrently."""
    if not _claim(code_id):
        return "busy"
    confirm_in, account_id, released = None, None, False
    try:
        code = AccessCode.objects.select_related("lock__cloud_account", "lock__organisation").get(pk=code_id)
        if code.status == code.wanted_status and not code.needs_modify:  # every wanted status is a settled one
            return code.status
        lock = code.lock
        if lock.paused_until and lock.paused_until > timezone.now():
            _save(code, next_attempt_at=lock.paused_until)
            return code.status
        cloud = cloud_for(lock.cloud_account)
        try:
            _converge(cloud, code)
        except _Pending as pending:
            confirm_in = _poll_later(code, pending.unsaved)
            account_id, released = lock.cloud_account_id, True  # _poll_later let go of the lease in its write
        except _Retry as retry:
            _back_off(code, retry)
        except REFUSED as error:
            _refused(code, error)
        except port.CloudError as error:
            _fail(code, explain(error, lock), error.code)
        return code.status
    finally:
        if not released:
            _release(code_id)
        if confirm_in is not None and account_id is not None:
            queues.enqueue_code_batch(account_id, delay=confirm_in)


def _refused(code: AccessCode, error: port.AccountRefused) -> None:
    # The whole cloud account is refused (credentials, permission, subscription): every lock of it would fail the
    # same way, so pause them all instead of hammering the cloud, and say why.
    account_refused(code.lock.cloud_account, explain(error).english)
    if code.pending_op == "create" and code.cloud_password_id is None:
        code.status = Status.REQUESTED  # refused at the door: nothing reached the lock
    _back_off(code, _Retry(explain(error), code=error.code))


def record_failed_create(code: AccessCode, error: port.CloudError) -> None:
    """A create made for this code by a batch (locks/code_batches.py) failed: record it as this code's own converge
    job would have (a backoff with its reason, the account paused when refused, or the code failed)."""

    def failed() -> None:
        raise error

    try:
        _call(failed, code, outcome_unknown=True)
    except _Retry as retry:
        _back_off(code, retry)
    except REFUSED as refused:
        _refused(code, refused)
    except port.CloudError as other:
        _fail(code, explain(other, code.lock), other.code)


class _Pending(Exception):
    """The lock has not confirmed yet and this job does not wait: the account's confirmation job looks again
    shortly (locks/code_batches.py). `unsaved`: fields set by the step, written with the next look's time."""

    def __init__(self, unsaved: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.unsaved = unsaved


# The spec's Zigbee flow polls a password's status for 25 s; after that, waiting slows down (backoff).
CONFIRMATION_WINDOW = timedelta(seconds=25)


def _converge(cloud: LockCloud, code: AccessCode) -> None:
    window = settings.CODE_POLL_WINDOW_SECONDS
    deadline = time.monotonic() + window
    fresh = True  # just loaded: the first step need not read the wishes again
    while _step(cloud, code, fresh=fresh):  # with no window, the first wait raises _Pending
        fresh = False
        if window > 0 and time.monotonic() > deadline:
            raise _Retry(STILL_WAITING)


def _poll_later(code: AccessCode, unsaved: tuple[str, ...] = ()) -> timedelta | None:
    """Free the worker while the lock takes its time, releasing the lease in the same write; returns when the
    account's confirmation job should look (a delayed job), None past the confirmation window (the sweeper looks
    again after a backoff)."""
    started = code.op_started_at or code.updated_at
    if timezone.now() - started > CONFIRMATION_WINDOW:
        _back_off(code, _Retry(STILL_WAITING), unsaved=unsaved)
        return None
    # Due for the sweeper too, in case the confirmation job is lost with Redis or a killed scheduler.
    fields = {name: getattr(code, name) for name in unsaved}
    _save(code, **fields, next_attempt_at=timezone.now() + queues.CODE_BATCH_FALLBACK, lease_until=None)
    return timedelta(seconds=settings.CODE_POLL_SECONDS)


def _settle_expired(code: AccessCode) -> bool:
    if code.ends_at > timezone.now():
        return False
    _save(code, status=Status.EXPIRED, pending_op="")
    return True


def _step(cloud: LockCloud, code: AccessCode, *, fresh: bool = False) -> bool:
    """Do or check one thing; True when there is more to do right away."""
    lock = code.lock
    if not fresh:  # someone may have changed what we want while this job runs: act on the latest wish
        code.refresh_from_db(fields=["desired", "needs_modify", "pin", "starts_at", "ends_at", "version"])
    if code.desired == Desired.REMOVED:
        return _step_remove(cloud, code)
    if code.cloud_password_id is None:
        return not _settle_expired(code) and _step_create(cloud, code)
    state = _read(cloud, code)
    if state.state == "pending":
        _wait(code)
        return True
    if state.state == "failed":
        if _resend_through_gateway(cloud, code, state):
            return True
        _fail(code, Words(state.reason))
        return False
    if state.state == "removed":
        # Gone from the cloud (expired there, or deleted outside this app): a fresh create puts it back.
        if _settle_expired(code):
            return False
        _save(code, cloud_password_id=None, operation_id=uuid.uuid4(), pending_op="create", status=Status.SENDING)
        return True
    confirmed = Status.SET if state.state == "set" else Status.FROZEN
    if code.pending_op:
        _save(code, pending_op="", status=confirmed, attempts=0, **NO_FAILURE, failure_code=None)
        healthy(lock)
    now = timezone.now()
    password_id = code.cloud_password_id
    if code.needs_modify:
        _call(lambda: _modify(cloud, code), code)
        _save(code, needs_modify=False, pending_op="modify", status=Status.SENDING, op_started_at=now)
        _wait(code)
        return True
    if code.desired == Desired.FROZEN and confirmed == Status.SET:
        _call(lambda: cloud.freeze_password(lock, password_id), code)
        _save(code, pending_op="freeze", status=Status.SENDING, op_started_at=now)
        _wait(code)
        return True
    if code.desired == Desired.ACTIVE and confirmed == Status.FROZEN:
        _call(lambda: cloud.unfreeze_password(lock, password_id), code)
        _save(code, pending_op="unfreeze", status=Status.SENDING, op_started_at=now)
        _wait(code)
        return True
    if code.status != confirmed:
        _save(code, status=confirmed)
    return False


GATEWAY_RESENDS = 3


def _resend_through_gateway(cloud: LockCloud, code: AccessCode, state: port.CloudPassword) -> bool:
    """A Zigbee gateway that gave up (the lock was unreachable) is asked to resend, a few times, at most once
    a minute per lock as Tuya allows; True when a resend is on its way."""
    if code.lock.kind != LockKind.ZIGBEE or not state.undelivered:
        return False
    if code.attempts >= GATEWAY_RESENDS:
        return False
    try:
        _call(lambda: cloud.resend_passwords(code.lock, code.cloud_password_id), code)
    except port.TooSoon as error:  # asked within the last minute
        raise _Retry(Words(RESENDING_SOON), code=error.code) from None
    _save(
        code,
        attempts=code.attempts + 1,
        status=Status.SENDING,
        **failed(Words(RESENDING)),
    )
    _wait(code)
    return True


def _step_create(cloud: LockCloud, code: AccessCode) -> bool:
    lock = code.lock
    # A create whose reply was lost left a password named with our marker: adopt it instead of creating twice.
    # A code still "requested" was never sent (status turns "sending" before the call), so there is nothing
    # to look for and the listing call is saved.
    found = None
    if code.status != Status.REQUESTED:
        found = _call(lambda: port.find_by_marker(cloud, lock, code.cloud_marker), code)
    if found is not None:
        code.op_started_at = code.op_started_at or timezone.now()
        _save(
            code,
            cloud_password_id=found.password_id,
            status=Status.SENDING,
            pending_op="create",
            op_started_at=code.op_started_at,
        )
        return True  # it may have reached the lock long ago: read it now
    # Recorded before the call, so a crash after it is known to have possibly sent (status sending).
    _save(code, status=Status.SENDING, pending_op="create", op_started_at=timezone.now())
    created = _call(lambda: cloud.create_password(lock, password_spec(code)), code, outcome_unknown=True)
    code.cloud_password_id = created
    if settings.CODE_POLL_WINDOW_SECONDS <= 0:  # one write: the id with the next look's time and the lease's end
        raise _Pending(unsaved=("cloud_password_id",))
    _save(code, cloud_password_id=created)
    _wait(code)  # a fresh create is never on the lock yet: reading at once would only cost a call
    return True


def _step_remove(cloud: LockCloud, code: AccessCode) -> bool:
    lock = code.lock
    if code.cloud_password_id is None:
        found = _call(lambda: port.find_by_marker(cloud, lock, code.cloud_marker), code)
        if found is None:
            _save(code, status=Status.REMOVED, pending_op="")
            return False
        _save(code, cloud_password_id=found.password_id)
    state = _read(cloud, code)
    if state.state == "removed":
        _save(code, status=Status.REMOVED, pending_op="", **NO_FAILURE)
        healthy(lock)
        return False
    if code.pending_op != "delete" or state.state in ("set", "frozen", "failed"):
        password_id = code.cloud_password_id
        assert password_id is not None  # found by its marker above, or read by _read
        _call(lambda: cloud.delete_password(lock, password_id), code)
        _save(code, pending_op="delete", status=Status.REMOVING, op_started_at=timezone.now())
    _wait(code)
    return True


def _read(cloud: LockCloud, code: AccessCode) -> port.CloudPassword:
    password_id = code.cloud_password_id
    assert password_id is not None
    return _call(lambda: cloud.read_password(code.lock, password_id), code)


def _wait(code: AccessCode) -> None:
    if settings.CODE_POLL_WINDOW_SECONDS <= 0:
        raise _Pending  # no waiting inside jobs: workers stay free for other codes (higher throughput)
    time.sleep(settings.CODE_POLL_SECONDS)


def password_spec(code: AccessCode) -> PasswordSpec:
    """The password as we want it on the lock: its PIN, its name (with our marker), window and kind."""
    weekly = None
    start, end = code.schedule_start_minute, code.schedule_end_minute
    if code.kind == AccessCode.Kind.WEEKLY and start is not None and end is not None:
        weekly = WeeklyHours(frozenset(code.schedule_days), start, end)
    return PasswordSpec(
        pin=code.pin,
        name=code.cloud_name,
        starts_at=code.starts_at,
        ends_at=code.ends_at,
        once=code.kind == AccessCode.Kind.ONCE,
        time_zone=code.time_zone if code.kind == AccessCode.Kind.WEEKLY else None,
        weekly=weekly,
    )


def _modify(cloud: LockCloud, code: AccessCode) -> None:
    password_id = code.cloud_password_id
    assert password_id is not None  # only codes on the lock are modified
    cloud.modify_password(code.lock, password_id, password_spec(code))


T = TypeVar("T")


def _call(action: Callable[[], T], code: AccessCode, *, outcome_unknown: bool = False) -> T:
    """Run one cloud call, turning transient failures into a retry and unknown outcomes into `unknown`."""
    try:
        return action()
    except port.LockOffline as error:
        reason = unreachable(code.lock, gettext_noop("The lock is offline."))
        raise _Retry(words.joined([reason, Words(SENT_WHEN_REACHED)]), code=error.code) from None
    except port.Unavailable as error:
        if not error.outcome_unknown:  # rate limited, or a token to renew: the call was not carried out
            raise _Retry(Words(CLOUD_BUSY), code=error.code) from None
        if outcome_unknown:  # no answer to a create: it may be on its way (found by its marker next time)
            raise _Retry(Words(CHECKING_CREATED), unknown=True, code=error.code) from None
        raise _Retry(Words(CLOUD_UNREACHABLE), code=error.code) from None


def _backoff_delay(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=5 * 2 ** min(attempts, 10)))


def _back_off(code: AccessCode, retry: _Retry, *, unsaved: tuple[str, ...] = ()) -> None:
    attempts = code.attempts + 1
    status = Status.UNKNOWN if retry.unknown else code.status
    _save(
        code,
        **{name: getattr(code, name) for name in unsaved},
        attempts=attempts,
        next_attempt_at=timezone.now() + _backoff_delay(attempts),
        **failed(retry.reason),
        failure_code=retry.code,
        status=status,
    )
    if retry.code is not None:
        unhealthy(code.lock)


def _fail(code: AccessCode, reason: Words, error_code: int | None = None) -> None:
    # A code that failed to be removed is still wanted off the lock, so the sweeper keeps trying: after a
    # growing pause, not at every sweep (a refused delete would otherwise cost a cloud call every 5 s forever).
    attempts = code.attempts + 1
    _save(
        code,
        status=Status.FAILED,
        pending_op="",
        **failed(reason),
        failure_code=error_code,
        attempts=attempts,
        next_attempt_at=timezone.now() + _backoff_delay(attempts),
    )


# --- the sweeper: the outbox of unsettled codes -------------------------------------------------------------


def due_codes(now: datetime | None = None) -> Iterable[int]:
    """Codes that are not where we want them and whose next attempt is due (the `code_needs_work` index)."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    # Most overdue first, in the index's order (never the model's default, newest first, which sorts every row).
    first = F("next_attempt_at").asc(nulls_first=True)
    return AccessCode.objects.filter(CODE_NEEDS_WORK_NOW, due).order_by(first).values_list("pk", flat=True)[:500]


def expire_codes(now: datetime | None = None) -> int:
    """Codes past their end are expired; the lock drops them by itself (the `code_on_lock_ends` index)."""
    now = now or timezone.now()
    return AccessCode.objects.filter(CODE_ON_LOCK, ends_at__lte=now).update(status=Status.EXPIRED)
