"""Data-point codes of unlock methods, unlock records and alarms (spec, docs/tuya-protocol.md), and their numbers."""

from __future__ import annotations

from locks.simulator.errors import TuyaError

# The short unlock_type names the older method APIs use, to the standard DP code.
SHORT_TYPES: dict[str, str] = {
    "fingerprint": "unlock_fingerprint",
    "password": "unlock_password",
    "card": "unlock_card",
    "face": "unlock_face",
    "remoteControl": "unlock_telecontrol_kit",
    "hand": "unlock_hand",
    "finger_vein": "unlock_finger_vein",
}
SHORT_NAMES = {code: short for short, code in SHORT_TYPES.items()}
METHOD_CODES = frozenset(SHORT_TYPES.values())

UNLOCK_CODES = frozenset(
    {
        *METHOD_CODES,
        "unlock_temporary",
        "unlock_dynamic",
        "unlock_key",
        "unlock_app",
        "unlock_identity_card",
        "unlock_emergency",
        # Codes the lock checks by itself (offline.py); a clearing code is logged though the door stays shut.
        "unlock_offline_pd",
        "unlock_offline_clear",
        "unlock_offline_clear_single",
    }
)
# "Common alerts are queried by default": the three alarm-type DPs (docs/tuya-protocol.md, data points).
ALARM_CODES = frozenset({"alarm_lock", "hijack", "doorbell"})
ALARM_LOCK_VALUES = frozenset(
    {
        "wrong_finger",
        "wrong_password",
        "wrong_card",
        "wrong_face",
        "tongue_bad",
        "too_hot",
        "unclosed_time",
        "tongue_not_out",
        "pry",
        "key_in",
        "low_battery",
        "power_off",
        "shock",
        "defense",
    }
)

# Zigbee DP ids (docs/tuya-protocol.md, data points), used to build the spec's "unlock_id" ("<dp id>-<sn>").
DP_IDS = {
    "unlock_fingerprint": 1,
    "unlock_password": 2,
    "unlock_card": 5,
    "unlock_face": 6,
    "unlock_key": 7,
    "unlock_hand": 13,
    "unlock_finger_vein": 14,
    "unlock_telecontrol_kit": 61,
}

# Album eventType (spec, "Get a list of albums").
ALBUM_UNLOCK = {
    "unlock_fingerprint": 8,
    "unlock_password": 9,
    "unlock_card": 10,
    "unlock_face": 11,
    "unlock_hand": 12,
    "unlock_finger_vein": 13,
    "unlock_temporary": 14,
    "unlock_dynamic": 15,
    "unlock_app": 16,
    "unlock_key": 21,
    "unlock_telecontrol_kit": 28,
}
ALBUM_ALARM = {
    "pry": 0,
    "wrong_finger": 2,
    "wrong_password": 3,
    "wrong_card": 4,
    "wrong_face": 5,
    "low_battery": 20,
    "power_off": 20,
    "key_in": 21,
    "too_hot": 22,
}
ALBUM_DOORBELL, ALBUM_HIJACK, ALBUM_TAMPER = 18, 19, 25


def album_event_type(kind: str, value: str) -> int:
    if kind == "doorbell":
        return ALBUM_DOORBELL
    if kind == "hijack":
        return ALBUM_HIJACK
    if kind == "alarm_lock":
        return ALBUM_ALARM.get(value, ALBUM_TAMPER)
    return ALBUM_UNLOCK.get(kind, 16)


def method_code(raw: str, name: str = "unlock_type") -> str:
    """A method's DP code from either spelling the spec uses ("card" or "unlock_card"); 1109 otherwise."""
    code = SHORT_TYPES.get(raw, raw)
    if code not in METHOD_CODES:
        raise TuyaError(1109, name)
    return code


def code_list(raw: str, allowed: frozenset[str], name: str) -> list[str]:
    """A comma-separated DP code filter; an unknown code is refused (1109)."""
    codes = [c.strip() for c in raw.split(",") if c.strip()]
    for code in codes:
        if code not in allowed:
            raise TuyaError(1109, f"{name}: {code}")
    return codes
