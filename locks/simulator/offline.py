"""Codes a lock checks by itself, with no network: offline passwords, dynamic passwords, advanced passwords.

A real lock verifies offline and dynamic passwords with an algorithm keyed by a secret it shares with the
cloud since pairing, which is why they work while the lock is offline. Tuya does not publish that algorithm,
so the simulator derives the digits from the device's local key with HMAC, and the lock "knows" every code
the cloud issued: the keypad accepts exactly the codes the API handed out, inside their windows.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from locks.simulator import conf
from locks.simulator.kinds import KINDS
from locks.simulator.models import SimAdvancedPassword, SimDevice, SimOfflinePassword

HOUR = 3600
DYNAMIC_STEP_SECONDS = 300  # a dynamic password changes every five minutes
DYNAMIC_DIGITS = 8
OFFLINE_DIGITS = 10
GATEWAY_RETRIES = 3  # the v1.1 sample: "0282554135"

# v1.0 numbers the types; v1.1 names them; 8 is clear_one in the v1.1 rounding rules.
V10_TYPES = {0: "multiple", 1: "once", 9: "clear_all"}
TYPES = ("multiple", "once", "clear_one", "clear_all")


def _digits(key: str, message: str, length: int) -> str:
    mac = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return str(int.from_bytes(mac[:8], "big") % 10**length).zfill(length)


def floor_hour(seconds: int) -> int:
    return seconds - seconds % HOUR


def offline_window(kind: str, now: int, effective: int | None, invalid: int | None) -> tuple[int, int]:
    """The spec's hour rounding (v1.1 offline-temp-password, effective_time / invalid_time rules)."""
    this_hour = floor_hour(now)
    if kind == "once":
        return this_hour, this_hour + 6 * HOUR
    if kind == "clear_all":
        return this_hour, this_hour + 24 * HOUR
    if kind == "clear_one" and (effective is None or invalid is None):
        return this_hour, this_hour + 24 * HOUR
    if effective is None or invalid is None:
        raise ValueError("a multiple-use password needs both times")  # the handler refuses earlier with 1100
    return floor_hour(effective), floor_hour(invalid)


def offline_code(device: SimDevice, password_id: int, kind: str, effective: int, invalid: int) -> str:
    return _digits(device.local_key, f"offline|{password_id}|{kind}|{effective}|{invalid}", OFFLINE_DIGITS)


def dynamic_code(device: SimDevice, when: datetime, *, steps_back: int = 0) -> str:
    step = int(when.timestamp()) // DYNAMIC_STEP_SECONDS - steps_back
    return _digits(device.local_key, f"dynamic|{step}", DYNAMIC_DIGITS)


def dynamic_matches(device: SimDevice, code: str, when: datetime) -> bool:
    """The current code, or the previous one: someone may type it just as it rolls over."""
    return any(hmac.compare_digest(code, dynamic_code(device, when, steps_back=back)) for back in (0, 1))


def dynamic_valid_until(when: datetime) -> datetime:
    step = int(when.timestamp()) // DYNAMIC_STEP_SECONDS
    return datetime.fromtimestamp((step + 2) * DYNAMIC_STEP_SECONDS, tz=when.tzinfo) - timedelta(seconds=1)


@dataclass(frozen=True)
class KeypadMatch:
    """What the lock makes of a code it checks by itself, and the log entry it writes for it."""

    opened: bool
    reason: str
    dp_code: str
    value: str = ""
    unlock_name: str = ""
    logged: bool = False  # the lock writes a record: an unlock, or a clearing code taking effect


def check_code(device: SimDevice, code: str, now: datetime) -> KeypadMatch | None:
    """Offline, advanced or dynamic code typed on the keypad; None when the code is none of those.

    Changes what a code changes on the lock (a one-time code is spent, a clearing code clears).
    """
    ts = int(now.timestamp())
    for pw in SimOfflinePassword.objects.filter(device=device, code=code):
        if pw.revoked:
            return KeypadMatch(False, "cleared", "unlock_offline_pd", str(pw.password_id), pw.name)
        if pw.used:
            return KeypadMatch(False, "already_used", "unlock_offline_pd", str(pw.password_id), pw.name)
        if ts < pw.effective_time:
            return KeypadMatch(False, "not_yet_valid", "unlock_offline_pd", str(pw.password_id), pw.name)
        if ts >= pw.invalid_time:
            return KeypadMatch(False, "expired", "unlock_offline_pd", str(pw.password_id), pw.name)
        if pw.kind == "multiple":
            return KeypadMatch(True, "opened", "unlock_offline_pd", str(pw.password_id), pw.name, logged=True)
        pw.used = True
        pw.save(update_fields=["used"])
        if pw.kind == "once":
            return KeypadMatch(True, "opened", "unlock_offline_pd", str(pw.password_id), pw.name, logged=True)
        # A clearing code does not open the door: it revokes offline passwords issued before it.
        cleared = SimOfflinePassword.objects.filter(device=device, kind__in=["multiple", "once"], pk__lt=pw.pk)
        if pw.kind == "clear_one":
            target = pw.target_password_id
            cleared = cleared.filter(password_id=target) if target is not None else cleared.none()
            dp_code = "unlock_offline_clear_single"
        else:
            dp_code = "unlock_offline_clear"
        cleared.update(revoked=True)
        return KeypadMatch(False, "cleared", dp_code, str(pw.password_id), pw.name, logged=True)
    for advanced in SimAdvancedPassword.objects.filter(device=device, pin=code):
        settle_advanced(device, advanced, now)
        if advanced.phase != 2:
            continue
        name = f"{advanced.advanced_type} password"
        return KeypadMatch(True, "opened", "unlock_password", advanced.advanced_type, name, logged=True)
    if len(code) == DYNAMIC_DIGITS and dynamic_matches(device, code, now):
        return KeypadMatch(True, "opened", "unlock_dynamic", "1", logged=True)
    return None


def settle_advanced(device: SimDevice, pw: SimAdvancedPassword, now: datetime) -> None:
    """Phase 1 until the gateway reaches the lock: 2 once delivered, 3 after three failed gateway tries."""
    if pw.phase != 1:
        return
    delay = timedelta(seconds=conf.delivery_seconds())
    if not KINDS[device.kind].sub or device.online:
        if now >= pw.set_at + delay:
            pw.phase = 2
            pw.save(update_fields=["phase"])
    elif now >= pw.set_at + delay * (GATEWAY_RETRIES + 1):
        pw.phase = 3
        pw.save(update_fields=["phase"])
