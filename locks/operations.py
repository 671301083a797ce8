"""One-off lock operations: offline and dynamic passwords, a hotel lock's advanced passwords and clear-all, and
asking a Zigbee gateway to resend pending codes. Each is a `LockOperation` row carried out by a job."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from audit.services import audit
from locks import queues
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.cloud.port import LockCloud, SpecialPassword, SpecialPasswordState
from locks.codes import remove_access_code
from locks.failures import TRANSIENT, explain
from locks.models import AccessCode, Lock, LockKind, LockOperation
from locks.pins import is_trivial_pin
from tenants.models import Actor, user_of

Status = AccessCode.Status
Desired = AccessCode.Desired


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
        raise ValidationError({"ends_at": gettext("A multiple-use offline password needs a start and an end.")})
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
        raise ValidationError(gettext("A %(kind)s cannot issue offline passwords.") % {"kind": lock.get_kind_display()})
    if kind not in OFFLINE_TYPES:
        raise ValidationError({"kind": gettext("Choose multiple, once, clear one or clear all.")})
    start, end = offline_window(kind, now=timezone.now(), starts_at=starts_at, ends_at=ends_at)
    if end <= start:
        raise ValidationError(
            {"ends_at": gettext("After rounding down to whole hours the window is empty: make it longer.")}
        )
    if end <= timezone.now():
        raise ValidationError({"ends_at": gettext("This window has already ended.")})
    params: dict[str, Any] = {
        "type": kind,
        "effective_time": int(start.timestamp()),
        "invalid_time": int(end.timestamp()),
    }
    if kind == "clear_one":
        if clears is None or clears.lock_id != lock.pk or not clears.result.get("password_id"):
            raise ValidationError({"clears": gettext("Choose the issued offline password to clear.")})
        params["password_id"] = clears.result["password_id"]
    return _new_operation(lock, LockOperation.Kind.OFFLINE_PASSWORD, label=label, params=params, actor=actor, ip=ip)


@transaction.atomic
def request_dynamic_password(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> LockOperation:
    if lock.kind not in DYNAMIC_KINDS:
        raise ValidationError(gettext("A %(kind)s has no dynamic passwords.") % {"kind": lock.get_kind_display()})
    return _new_operation(lock, LockOperation.Kind.DYNAMIC_PASSWORD, label="Dynamic password", actor=actor, ip=ip)


@transaction.atomic
def set_advanced_password(
    *, lock: Lock, advanced_type: str, pin: str, actor: Actor = None, ip: str | None = None
) -> LockOperation:
    """A hotel lock's admin or emergency password (six digits)."""
    if lock.kind != LockKind.ZIGBEE_HOTEL:
        raise ValidationError(gettext("Only Zigbee hotel locks have advanced passwords."))
    if advanced_type not in ("admin", "emergency"):
        raise ValidationError({"advanced_type": gettext("Choose admin or emergency.")})
    if not pin.isascii() or not pin.isdigit() or len(pin) != 6 or is_trivial_pin(pin):
        raise ValidationError({"pin": gettext("An advanced password is 6 digits and not easy to guess.")})
    params = {"advanced_type": advanced_type}
    label = f"{advanced_type.title()} password"
    return _new_operation(
        lock, LockOperation.Kind.ADVANCED_PASSWORD, label=label, params=params, secret=pin, actor=actor, ip=ip
    )


@transaction.atomic
def clear_all_codes(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> LockOperation:
    """Wipe every temporary password from a hotel lock; our codes on it follow as removed once confirmed."""
    if lock.kind != LockKind.ZIGBEE_HOTEL:
        raise ValidationError(gettext("Only Zigbee hotel locks can clear all temporary passwords at once."))
    return _new_operation(lock, LockOperation.Kind.CLEAR_ALL, label="Clear all codes", actor=actor, ip=ip)


@transaction.atomic
def sync_pending_codes(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> LockOperation:
    """Ask the Zigbee gateway to resend codes still being configured (Tuya allows this once a minute)."""
    if lock.kind != LockKind.ZIGBEE:
        raise ValidationError(gettext("Only Zigbee locks can resend pending codes."))
    recent = lock.operations.filter(
        kind=LockOperation.Kind.SYNC_PENDING, created_at__gt=timezone.now() - timedelta(seconds=60)
    )
    if recent.exists():
        raise ValidationError(
            gettext("Pending codes were resent less than a minute ago; Tuya allows it once a minute.")
        )
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
    try:
        _run_operation(cloud_for(lock.cloud_account), operation)
    except TRANSIENT as error:
        # Not sure it happened: hand it back for the job's retry (a new offline code is harmless; Tuya dedups sync).
        LockOperation.objects.filter(pk=operation_id).update(status=LockOperation.Status.REQUESTED)
        raise error
    except port.CloudError as error:
        operation.status = LockOperation.Status.FAILED
        operation.note_failure(explain(error, lock))
    else:
        operation.status = LockOperation.Status.DONE
    operation.finished_at = timezone.now()
    operation.save()
    return operation.status


# The result an advanced password's job records: the spec's phase numbers (1 being set, 2 set, 3 failed), as the
# operations stored before the port show them.
_SPECIAL_PHASES: dict[SpecialPasswordState, int] = {"pending": 1, "set": 2, "failed": 3}


def _run_operation(cloud: LockCloud, operation: LockOperation) -> None:
    lock, params = operation.lock, operation.params
    kind = operation.kind
    if kind == LockOperation.Kind.OFFLINE_PASSWORD:
        windowed = params["type"] in ("multiple", "clear_one")
        issued = cloud.offline_code(
            lock,
            params["type"],
            valid_from=params.get("effective_time") if windowed else None,
            valid_until=params.get("invalid_time") if windowed else None,
            name=operation.label or None,
            clears=params.get("password_id"),
        )
        operation.secret = issued.pin
        operation.result = {
            "password_id": issued.password_id,
            "effective_time": issued.valid_from,
            "invalid_time": issued.valid_until,
        }
    elif kind == LockOperation.Kind.DYNAMIC_PASSWORD:
        operation.secret = cloud.dynamic_code(lock)
        operation.result = {"valid_for_minutes": 5}
    elif kind == LockOperation.Kind.ADVANCED_PASSWORD:
        which: SpecialPassword = params["advanced_type"]
        cloud.set_special_password(lock, which, operation.secret)
        state = _wait_special(cloud, lock, which)
        operation.result = {"phase": _SPECIAL_PHASES[state]}
        if state == "failed":
            raise port.LockRefused(
                gettext_noop("The lock did not take the advanced password: its gateway could not reach it"),
                hint=gettext_noop(
                    "Check that the lock is online (in range of its gateway, batteries good), then set it again."
                ),
            )
    elif kind == LockOperation.Kind.CLEAR_ALL:
        cloud.clear_passwords(lock)
        with transaction.atomic():
            for code in lock.access_codes.exclude(desired=Desired.REMOVED):
                remove_access_code(code, actor=operation.created_by)
    elif kind == LockOperation.Kind.SYNC_PENDING:
        cloud.resend_passwords(lock)
        # The codes still on their way get a fresh look.
        AccessCode.objects.filter(lock=lock, status=Status.SENDING).update(next_attempt_at=timezone.now())


def _wait_special(cloud: LockCloud, lock: Lock, which: SpecialPassword) -> SpecialPasswordState:
    deadline = time.monotonic() + settings.CODE_POLL_WINDOW_SECONDS
    while True:
        state = cloud.special_password_state(lock, which)
        if state != "pending" or time.monotonic() > deadline:
            return state
        time.sleep(settings.CODE_POLL_SECONDS)
