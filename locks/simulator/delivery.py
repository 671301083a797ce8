"""The gateway and the lock: asynchronous delivery of password changes, and the keypad.

Transitions are computed lazily from timestamps whenever a device is read or changed (`settle_device`), so
there is no background thread, results are deterministic and survive restarts. Every change of a device's
online state first settles it, so "online" is constant between two settle points.

Delivery of one operation: due at start + D (D = SIM_DELIVERY_SECONDS). If the lock is online then, the lock
applies it. If not: behind a gateway (Zigbee, Bluetooth with gateway) the gateway resends three times, D
apart, then reports failure (delivery_status 3) and the operation stalls until issue-password restarts it;
a Wi-Fi or plain Bluetooth lock simply receives it D after it next comes online.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from locks.simulator import conf, schedule
from locks.simulator.kinds import KINDS, overlap_exclusive
from locks.simulator.models import SimDevice, SimEvent, SimPassword

GATEWAY_RETRIES = 3
Lifecycle = SimPassword.Lifecycle


def _delay() -> timedelta:
    return timedelta(seconds=conf.delivery_seconds())


def start_op(pw: SimPassword, op: str, now: datetime, data: dict[str, Any] | None = None) -> None:
    pw.op = op
    pw.last_op = op
    pw.op_data = data or {}
    pw.op_attempts = 0
    pw.op_due_at = now + _delay()
    pw.delivery_status = 1
    pw.updated_at = now


def _finish(pw: SimPassword, status: int, at: datetime) -> None:
    pw.op = ""
    pw.op_data = {}
    pw.op_due_at = None
    pw.op_attempts = 0
    pw.delivery_status = status
    pw.updated_at = at


def _conflict(pw: SimPassword, others: list[SimPassword], device: SimDevice, *, adding: bool) -> int:
    """delivery_status the lock answers for a new PIN/window: 4 duplicate, 5 no slot, 6 overlap; 0 if fine."""
    on_lock = [o for o in others if o.pk != pw.pk and o.lifecycle == Lifecycle.ACTIVE]
    pin = pw.op_data.get("pin", pw.pin)
    effective = pw.op_data.get("effective_time", pw.effective_time)
    invalid = pw.op_data.get("invalid_time", pw.invalid_time)
    if any(o.pin == pin for o in on_lock):
        return 4
    if adding and len(on_lock) >= KINDS[device.kind].slots:
        return 5
    overlapping = any(o.effective_time < invalid and effective < o.invalid_time for o in on_lock)
    if overlap_exclusive(device.kind) and overlapping:
        return 6
    return 0


def _apply(pw: SimPassword, others: list[SimPassword], device: SimDevice, at: datetime) -> None:
    """The lock received the operation: apply it or refuse it."""
    if pw.op in {"add", "modify"}:
        refusal = _conflict(pw, others, device, adding=pw.op == "add")
        if refusal:
            if pw.op == "add":
                pw.lifecycle = Lifecycle.FAILED
            _finish(pw, refusal, at)
            return
    if pw.op == "add":
        pw.lifecycle = Lifecycle.ACTIVE
        used = {o.sn for o in others if o.lifecycle == Lifecycle.ACTIVE and o.sn is not None}
        pw.sn = min(n for n in range(1, len(used) + 2) if n not in used)
    elif pw.op == "modify":
        for field, value in pw.op_data.items():
            setattr(pw, field, value)
        pw.used = False
    elif pw.op in {"freeze", "unfreeze"}:
        pw.frozen = pw.op == "freeze"
    elif pw.op == "delete":
        pw.lifecycle = Lifecycle.DELETED
        pw.sn = None
    _finish(pw, 2, at)


def _step(pw: SimPassword, others: list[SimPassword], device: SimDevice) -> None:
    at = pw.op_due_at
    assert at is not None
    if device.online:
        _apply(pw, others, device, at)
    elif KINDS[device.kind].sub:
        pw.op_attempts += 1
        if pw.op_attempts > GATEWAY_RETRIES:
            if pw.op == "add":
                pw.lifecycle = Lifecycle.FAILED
            pw.op_due_at = None  # stalled: the gateway gave up; issue-password starts it again
            pw.op_attempts = 0
            pw.delivery_status = 3
            pw.updated_at = at
        else:
            pw.op_due_at = at + _delay()
    else:
        pw.op_due_at = None  # waits until the lock is next online


def live_passwords(device: SimDevice) -> QuerySet[SimPassword]:
    """The passwords that can still change or open the door: on the lock or on their way, or with an operation
    waiting (a gateway that gave up on an add leaves it failed but restartable). A deleted password, or one that
    failed without a pending operation, never changes again, so a lock's growing history costs nothing here."""
    return device.passwords.filter(Q(lifecycle__in=[Lifecycle.ADDING, Lifecycle.ACTIVE]) | ~Q(op=""))


def settle_device(device: SimDevice, now: datetime) -> list[SimPassword]:
    """Bring the device's live passwords up to `now`, in the order the events happened; returns those.

    Only live passwords take part in delivery: conflicts and slots look at the active ones only.
    """
    passwords = list(live_passwords(device))
    changed: set[int] = set()
    while True:
        due = [p for p in passwords if p.op and p.op_due_at is not None and p.op_due_at <= now]
        if not due:
            break
        pw = min(due, key=lambda p: (p.op_due_at, p.pk))
        _step(pw, passwords, device)
        changed.add(pw.pk)
    for pw in passwords:
        if pw.pk in changed:
            pw.save()
    return passwords


def all_passwords(device: SimDevice, now: datetime) -> list[SimPassword]:
    """Every password the device ever had (the cloud's records, deleted and failed ones too), settled to `now`."""
    settle_device(device, now)
    return list(device.passwords.all())


def find_password(device: SimDevice, password_id: int, now: datetime) -> SimPassword | None:
    """One password record of the device (whatever its state), settled to `now`."""
    settle_device(device, now)
    return device.passwords.filter(password_id=password_id).first()


def set_online(device: SimDevice, online: bool, now: datetime) -> None:
    settle_device(device, now)
    was_online, device.online = device.online, online
    device.updated_at = now
    device.save()
    if online and not was_online:
        # The lock uploads the log entries it kept while offline; each keeps the time it happened.
        device.events.filter(uploaded=False).update(uploaded=True)
        if not KINDS[device.kind].sub:
            device.passwords.exclude(op="").filter(op_due_at=None).update(op_due_at=now + _delay(), updated_at=now)


def restart_stalled(device: SimDevice, now: datetime, password_id: int | None = None) -> int:
    """issue-password: resend operations the gateway gave up on (and any still configuring)."""
    count = 0
    for pw in settle_device(device, now):
        if not pw.op or (password_id is not None and pw.password_id != password_id):
            continue
        if pw.op == "add":
            pw.lifecycle = Lifecycle.ADDING
        start_op(pw, pw.op, now, pw.op_data)
        pw.save()
        count += 1
    return count


def phase(pw: SimPassword, kind: str) -> int:
    """The spec's `phase`, whose values differ per lock family."""
    family = KINDS[kind].family
    if family == "zigbee":
        if pw.lifecycle == Lifecycle.ADDING:
            return 1
        if pw.lifecycle == Lifecycle.FAILED:
            return 5
        if pw.lifecycle == Lifecycle.DELETED:
            return 4
        return 3 if pw.frozen else 2
    if pw.lifecycle == Lifecycle.ADDING:
        return 1
    if pw.lifecycle == Lifecycle.DELETED:
        return 0
    if pw.lifecycle == Lifecycle.FAILED:
        return 7 if family == "ble" else 0
    if pw.op == "delete":
        return 3
    return 1 if pw.op == "modify" else 2


def _reason(pw: SimPassword, device: SimDevice, now: datetime) -> str:
    ts = int(now.timestamp())
    if pw.frozen:
        return "frozen"
    if pw.type == 1 and pw.used:
        return "already_used"
    if ts < pw.effective_time:
        return "not_yet_valid"
    if ts >= pw.invalid_time:
        return "expired"
    tz = schedule.parse_time_zone(pw.time_zone or device.time_zone) or schedule.parse_time_zone("UTC")
    assert tz is not None
    if not schedule.in_schedule(pw.schedule_list, now, tz):
        return "outside_schedule"
    return "opened"


def pin_would_open(device: SimDevice, pin: str, now: datetime) -> bool:
    """Whether a temporary password on the lock would open it now, without typing (and spending) it."""
    passwords = settle_device(device, now)
    return any(
        p.lifecycle == Lifecycle.ACTIVE and p.pin == pin and _reason(p, device, now) == "opened" for p in passwords
    )


def type_code(device: SimDevice, code: str, now: datetime) -> tuple[bool, str]:
    """Someone types `code` on the lock's keypad. The lock decides alone: works offline too."""
    passwords = settle_device(device, now)
    if device.battery == 0:
        return False, "battery_dead"
    matches = [p for p in passwords if p.lifecycle == Lifecycle.ACTIVE and p.pin == code]
    reasons = [(p, _reason(p, device, now)) for p in matches]
    opened = next(((p, r) for p, r in reasons if r == "opened"), None)
    if opened:
        pw = opened[0]
        if pw.type == 1:
            pw.used = True
            pw.save(update_fields=["used"])
        SimEvent.objects.create(
            device=device,
            kind="unlock_temporary",
            password_id=pw.password_id,
            sn=pw.sn,
            created_at=now,
            uploaded=device.online,
        )
        return True, "opened"
    reason = reasons[0][1] if reasons else "unknown_code"
    pw_id = reasons[0][0].password_id if reasons else None
    SimEvent.objects.create(
        device=device,
        kind="wrong_password",
        password_id=pw_id,
        reason=reason,
        created_at=now,
        uploaded=device.online,
    )
    return False, reason
