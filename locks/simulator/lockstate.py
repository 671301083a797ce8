"""What a lock holds besides temporary passwords: users, unlock methods, enrollments, and the events it reports.

Shared by the cloud endpoints (api_users, api_methods, api_logs) and the world (world.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from locks.simulator import delivery, dpcodes, media, offline, schedule, transport
from locks.simulator.kinds import ACCESS_CONTROL, WIFI, WIFI_VIDEO
from locks.simulator.models import SimDevice, SimEnrollment, SimEvent, SimPassword, SimUnlockMethod, SimUser

# Kinds with a camera. The video lock and the access-control device film every event; a plain Wi-Fi lock
# (latest/media/url, media-view-times, the photo attribute) films alarms and the doorbell, and unlocks only by
# methods whose photo-capturing attribute is on.
CAMERA_KINDS = frozenset({WIFI_VIDEO, ACCESS_CONTROL, WIFI})
ALWAYS_FILMS = frozenset({WIFI_VIDEO, ACCESS_CONTROL})

# Presses / entries an enrollment takes (a fingerprint is read several times; a password is typed and confirmed).
ENROLL_STEPS = {"unlock_fingerprint": 4, "unlock_password": 2}
METHOD_LABELS = {
    "unlock_fingerprint": "Fingerprint",
    "unlock_password": "Password",
    "unlock_card": "Card",
    "unlock_face": "Face",
    "unlock_hand": "Palm",
    "unlock_finger_vein": "Finger vein",
    "unlock_telecontrol_kit": "Remote control",
}


def _unique_number(model: Any, field: str, low: int, high: int) -> int:
    while True:
        candidate = low + secrets.randbelow(high - low)
        if not model.objects.filter(**{field: candidate}).exists():
            return candidate


# --- users --------------------------------------------------------------------------------------------------


def create_user(device: SimDevice, now: datetime, *, home: bool, **fields: Any) -> SimUser:
    taken = set(device.users.values_list("lock_user_id", flat=True))
    lock_user_id = min(n for n in range(1, len(taken) + 2) if n not in taken)
    user_id = str(_unique_number(SimUser, "user_id", 10_000_000, 99_999_999))
    return SimUser.objects.create(
        device=device, user_id=user_id, home=home, lock_user_id=lock_user_id, created_at=now, **fields
    )


def owner(device: SimDevice, now: datetime) -> SimUser:
    """The project's own account, the home owner of every lock (user_type 50): created the first time it is needed."""
    found = device.users.filter(user_type=50).first()
    if found is not None:
        return found
    return create_user(
        device, now, home=True, user_type=50, nick_name="Owner", uid=transport.project_uid(device.access_id)
    )


def home_uid() -> str:
    return "ay" + secrets.token_hex(9)


def schedule_allows(user: SimUser | None, device: SimDevice, now: datetime) -> bool:
    """Whether the user's validity period (window and weekly details) lets them in at `now`."""
    if user is None:
        return True
    ts = int(now.timestamp())
    if not user.permanent:
        if user.effective_time is not None and ts < user.effective_time:
            return False
        if user.expired_time is not None and ts >= user.expired_time:
            return False
    if not user.schedule_details:
        return True
    for item in user.schedule_details:
        tz = schedule.parse_time_zone(item.get("time_zone_id") or device.time_zone)
        assert tz is not None  # validated when stored
        window = {"effective_time": item["start_minute"], "invalid_time": item["end_minute"]}
        if item.get("all_day"):
            window = {"effective_time": 0, "invalid_time": schedule.MINUTES_PER_DAY}
        if schedule.in_schedule([{**window, "working_day": item["working_day"]}], now, tz):
            return True
    return False


def effective_flag(user: SimUser, device: SimDevice, now: datetime) -> int:
    ts = int(now.timestamp())
    if user.permanent:
        return 1
    inside = (user.effective_time or 0) <= ts < (user.expired_time or 0)
    return 1 if inside else 0


def time_schedule_info(user: SimUser, device: SimDevice) -> dict[str, Any]:
    if user.permanent and not user.schedule_details:
        return {"permanent": True}
    return {
        "permanent": user.permanent,
        "effective_time": user.effective_time,
        "expired_time": user.expired_time,
        "operate": user.schedule_operate,
        "delivery_status": "SUCCESS",
        "schedule_details": [
            {**item, "time_zone_id": item.get("time_zone_id") or device.time_zone} for item in user.schedule_details
        ],
    }


# --- unlock methods -----------------------------------------------------------------------------------------


def add_method(
    device: SimDevice,
    dp_code: str,
    now: datetime,
    *,
    user: SimUser | None = None,
    unlock_sn: int | None = None,
    pin: str = "",
    in_cloud: bool = True,
) -> SimUnlockMethod:
    """A method the lock has just stored, in the lowest free slot of its type unless `unlock_sn` is given."""
    if unlock_sn is None:
        taken = set(device.methods.filter(dp_code=dp_code).values_list("unlock_sn", flat=True))
        unlock_sn = min(n for n in range(1, len(taken) + 2) if n not in taken)
    return SimUnlockMethod.objects.create(
        device=device,
        opmode_id=_unique_number(SimUnlockMethod, "opmode_id", 100_000, 999_999_999),
        user=user,
        dp_code=dp_code,
        unlock_sn=unlock_sn,
        name=f"{METHOD_LABELS.get(dp_code, dp_code)} {unlock_sn}",
        pin=pin,
        in_cloud=in_cloud,
        ever_allocated=user is not None,
        created_at=now,
    )


def enrollment_message(enrollment: SimEnrollment, *, operate: int = 1, finish: bool = False) -> dict[str, Any]:
    """bizData of the spec's doorUnlockMethodStatus push."""
    return {
        "finish": finish,
        "operate": operate,
        "raised": operate == 1,
        "totalPeriod": enrollment.total,
        "period": enrollment.remaining,
        "event": "unlockMethodEntry",
    }


def active_enrollment(device: SimDevice) -> SimEnrollment | None:
    return device.enrollments.filter(state=SimEnrollment.State.ACTIVE).first()


# --- events -------------------------------------------------------------------------------------------------


def films(device: SimDevice, kind: str, method: SimUnlockMethod | None) -> bool:
    if device.kind not in CAMERA_KINDS:
        return False
    if device.kind in ALWAYS_FILMS or not kind.startswith("unlock_"):
        return True
    return method is not None and method.photo


def record(
    device: SimDevice,
    kind: str,
    now: datetime,
    *,
    value: str = "",
    method: SimUnlockMethod | None = None,
    user: SimUser | None = None,
    unlock_name: str = "",
    event: SimEvent | None = None,
) -> SimEvent:
    """One log entry the lock reports (a new one, or `event` that delivery.type_code already wrote)."""
    if user is None and method is not None:
        user = method.user
    if event is None:
        event = SimEvent(device=device, kind=kind, created_at=now)
    event.kind, event.dp_value, event.method, event.user = kind, value, method, user
    event.uploaded = device.online  # an offline lock keeps the entry until it is back online
    event.unlock_name = unlock_name or (method.name if method else "")
    if event.media_id is None and films(device, kind, method):
        title = kind if kind != "alarm_lock" else f"alarm: {value}"
        event.media = media.capture(device, title, now)
    event.save()
    return event


def _present_method(device: SimDevice, code: str, method: SimUnlockMethod, now: datetime) -> tuple[bool, str]:
    if not schedule_allows(method.user, device, now):
        return False, "outside_schedule"
    unlock = record(device, code, now, value=str(method.unlock_sn), method=method)
    if method.hijack:
        # Duress: the door opens as usual and the lock raises the silent alarm beside the unlock record; one
        # photo shows both.
        duress = SimEvent(device=device, kind="hijack", created_at=now, media=unlock.media)
        record(device, "hijack", now, value=f"{code}-{method.unlock_sn:02d}", method=method, event=duress)
    return True, "opened"


WRONG = {"unlock_fingerprint": "wrong_finger", "unlock_card": "wrong_card", "unlock_face": "wrong_face"}


def present(device: SimDevice, code: str, number: int, now: datetime) -> tuple[bool, str]:
    """A finger, card or face held to the reader, or a mechanical key turned in the cylinder."""
    delivery.settle_device(device, now)
    if device.battery == 0:
        return False, "battery_dead"
    if code == "unlock_key":
        record(device, code, now, value=str(number))  # a mechanical key always turns
        return True, "opened"
    method = device.methods.filter(dp_code=code, unlock_sn=number).first()
    opened, reason = (False, "unknown") if method is None else _present_method(device, code, method, now)
    if not opened:
        record(device, "alarm_lock", now, value=WRONG.get(code, "wrong_finger"), method=method)
    return opened, reason


WRONG_CODES_FOR_ALARM = 3


def keypad(device: SimDevice, code: str, now: datetime) -> tuple[bool, str]:
    """A code typed on the keypad: an enrolled password first, then the temporary passwords (delivery.type_code).

    Three failed codes in a row make the lock raise alarm_lock = wrong_password.
    """
    refused = ""
    if device.battery:
        method = device.methods.filter(dp_code="unlock_password", pin=code).exclude(pin="").first()
        if method is not None:
            opened, refused = _present_method(device, "unlock_password", method, now)
            if opened:
                return opened, refused
    match = offline.check_code(device, code, now) if device.battery else None
    if match is not None:
        if match.logged:
            record(device, match.dp_code, now, value=match.value, unlock_name=match.unlock_name)
        else:
            SimEvent.objects.create(
                device=device, kind="wrong_password", reason=match.reason, created_at=now, uploaded=device.online
            )
            _maybe_wrong_code_alarm(device, now)
        return match.opened, match.reason
    opened, reason = delivery.type_code(device, code, now)
    written = device.events.filter(created_at=now, kind__in=["unlock_temporary", "wrong_password"]).last()
    if opened and written is not None:
        pw = (
            SimPassword.objects.filter(password_id=written.password_id).first()
            if written.password_id is not None
            else None
        )
        name = pw.name if pw else ""
        record(device, "unlock_temporary", now, value=str(written.password_id), event=written, unlock_name=name)
    elif written is not None:
        _maybe_wrong_code_alarm(device, now)
    return opened, (refused if refused and reason == "unknown_code" else reason)


def _maybe_wrong_code_alarm(device: SimDevice, now: datetime) -> None:
    streak = 0
    for event in device.events.order_by("-created_at", "-id")[:50]:
        if event.kind == "wrong_password":
            streak += 1
            if streak == WRONG_CODES_FOR_ALARM:
                record(device, "alarm_lock", now, value="wrong_password")
                return
        elif event.kind.startswith("unlock_") or (event.kind == "alarm_lock" and event.dp_value == "wrong_password"):
            return  # the row was broken by an unlock, or already raised its alarm


def ring(device: SimDevice, now: datetime) -> SimEvent:
    return record(device, "doorbell", now, value="true")


def alarm(device: SimDevice, value: str, now: datetime) -> SimEvent:
    if value not in dpcodes.ALARM_LOCK_VALUES:
        raise ValueError(f"alarm must be one of {', '.join(sorted(dpcodes.ALARM_LOCK_VALUES))}")
    return record(device, "alarm_lock", now, value=value)


LOW_BATTERY_PERCENT = 10


def set_battery(device: SimDevice, battery: int, now: datetime) -> SimEvent | None:
    """The battery drains or is replaced. Dropping to LOW_BATTERY_PERCENT or below raises one
    alarm_lock = low_battery (returned); staying low raises nothing more until it has been above again."""
    was, device.battery = device.battery, battery
    device.updated_at = now
    device.save(update_fields=["battery", "updated_at"])
    if was > LOW_BATTERY_PERCENT >= battery:
        return record(device, "alarm_lock", now, value="low_battery")
    return None
