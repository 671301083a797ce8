"""The cloud's unlock and alert records in our words: classified, and linked to our codes and people.

The cloud hands the events sync (locks/events.py) its records as the port's `CloudEvent`s (the vendor's encoding
is read by its adapter: locks/cloud/tuya/records.py); `Linker` finds the code, guest, stay, lock user and unlock
method behind a page of them and builds the `LockEvent` rows that the sync stores.
"""

from __future__ import annotations

from collections.abc import Sequence

from locks.cloud.port import CloudEvent
from locks.models import AccessCode, Lock, LockEvent, LockUser, UnlockMethod
from tenants.models import Unit

# What a person reads (docs/tuya-protocol.md, data points, and the spec's status codes).
UNLOCK_WORDS = {
    "unlock_fingerprint": "fingerprint",
    "unlock_password": "password",
    "unlock_temporary": "temporary code",
    "unlock_dynamic": "dynamic code",
    "unlock_card": "card",
    "unlock_face": "face",
    "unlock_key": "mechanical key",
    "unlock_app": "app",
    "unlock_eye": "iris",
    "unlock_hand": "palm",
    "unlock_finger_vein": "finger vein",
    "unlock_ble": "bluetooth",
    "unlock_phone_remote": "remote",
    "unlock_voice_remote": "remote (voice)",
    "unlock_remote": "remote",
    "unlock_telecontrol_kit": "remote control",
    "unlock_identity_card": "ID card",
    "unlock_emergency": "emergency code",
    "unlock_offline_pd": "offline code",
    "unlock_offline_clear": "offline clearing code",
    "unlock_offline_clear_single": "offline clearing code",
}
ALARM_WORDS = {
    "wrong_finger": "wrong fingerprint",
    "wrong_password": "wrong code",
    "wrong_card": "wrong card",
    "wrong_face": "wrong face",
    "tongue_bad": "bolt jammed",
    "too_hot": "too hot (fire?)",
    "unclosed_time": "door left open",
    "tongue_not_out": "bolt not thrown",
    "pry": "pry",
    "key_in": "key inserted",
    "low_battery": "low battery",
    "power_off": "battery dead",
    "shock": "shock",
    "defense": "armed alarm",
}
# The unlock codes of a method (a record's code, the app's vocabulary) and the unlock_type an UnlockMethod row carries
# for them (the spec's short names); tests/locks/test_cloud_port.py checks the adapter reads them alike.
METHOD_TYPES = {
    "unlock_fingerprint": "fingerprint",
    "unlock_password": "password",
    "unlock_card": "card",
    "unlock_face": "face",
    "unlock_telecontrol_kit": "remoteControl",
    "unlock_hand": "hand",
    "unlock_finger_vein": "finger_vein",
}


def classify(dp_code: str, value: str) -> tuple[str, str]:
    """(category, plain words) of a record's DP code and value."""
    if dp_code.startswith("unlock_"):
        return LockEvent.Category.UNLOCK, UNLOCK_WORDS.get(dp_code, dp_code.removeprefix("unlock_").replace("_", " "))
    if dp_code == "alarm_lock":
        return LockEvent.Category.ALARM, ALARM_WORDS.get(value, value.replace("_", " ") or "alarm")
    if dp_code == "hijack":
        return LockEvent.Category.ALARM, "duress"
    if dp_code == "doorbell":
        return LockEvent.Category.ALARM, "doorbell"
    return LockEvent.Category.ALARM, dp_code.replace("_", " ")


# --- linking ---------------------------------------------------------------------------------------------------


def _is_number(value: str) -> bool:
    """Plain ASCII digits: str.isdigit() alone also says yes to "²", which int() refuses (a crashed sync)."""
    return value.isascii() and value.isdigit()


def _method_ref(record: CloudEvent) -> tuple[str, int] | None:
    """(DP code, number) of the method behind an unlock, or behind a duress alarm ("unlock_fingerprint-02")."""
    code, value = record.code, record.value
    if record.code == "hijack" and "-" in value:
        code, _, value = value.rpartition("-")
    if code in METHOD_TYPES and _is_number(value):
        return code, int(value)
    return None


class Linker:
    """Finds our code, guest, stay, lock user and unlock method behind a page of records, and where the lock is:
    four queries a page."""

    def __init__(self, lock: Lock, records: Sequence[CloudEvent]) -> None:
        self.lock = lock
        self.property_id = (
            Unit.objects.filter(pk=lock.unit_id).values_list("property_id", flat=True).first() if lock.unit_id else None
        )
        ids = {int(r.value) for r in records if r.code == "unlock_temporary" and _is_number(r.value)}
        self.codes: dict[int, list[AccessCode]] = {}
        if ids:
            for code in AccessCode.objects.filter(lock=lock, cloud_password_id__in=ids).order_by("-created_at"):
                self.codes.setdefault(code.cloud_password_id or 0, []).append(code)
        refs = {ref for r in records if (ref := _method_ref(r))}
        self.methods: dict[tuple[str, int], UnlockMethod] = {}
        if refs:
            types = {t for code, _ in refs for t in (code, METHOD_TYPES[code])}
            rows = UnlockMethod.objects.filter(
                lock=lock, unlock_type__in=types, unlock_sn__in={sn for _, sn in refs}
            ).select_related("lock_user")
            for method in rows:
                dp_code = method.unlock_type if method.unlock_type.startswith("unlock_") else None
                dp_code = dp_code or next((c for c, t in METHOD_TYPES.items() if t == method.unlock_type), "")
                if method.unlock_sn is not None:
                    self.methods[(dp_code, method.unlock_sn)] = method
        user_ids = {r.cloud_user_id for r in records if r.cloud_user_id}
        self.users = (
            {u.cloud_user_id: u for u in LockUser.objects.filter(lock=lock, cloud_user_id__in=user_ids)}
            if user_ids
            else {}
        )

    def _code(self, record: CloudEvent) -> AccessCode | None:
        if record.code != "unlock_temporary" or not _is_number(record.value):
            return None
        candidates = self.codes.get(int(record.value), [])
        # A password id may come back after a delete: prefer the code whose window held the moment.
        for code in candidates:
            if code.starts_at <= record.occurred_at <= code.ends_at:
                return code
        return candidates[0] if candidates else None

    def event(self, record: CloudEvent) -> LockEvent:
        category, words = classify(record.code, record.value)
        code = self._code(record)
        ref = _method_ref(record)
        method = self.methods.get(ref) if ref else None
        user = (method.lock_user if method else None) or self.users.get(record.cloud_user_id)
        guest = (code.guest_id if code else None) or (user.guest_id if user else None)
        return LockEvent(
            organisation_id=self.lock.organisation_id,
            lock=self.lock,
            unit_id=self.lock.unit_id,
            property_id=self.property_id,
            category=category,
            dp_code=record.code[:64],
            dp_value=record.value,
            classification=words[:32],
            occurred_at=record.occurred_at,
            natural_key=record.natural_key,
            actor_name=record.actor_name,
            cloud_user_id=record.cloud_user_id,
            access_code=code,
            stay_id=code.stay_id if code else None,
            guest_id=guest,
            lock_user=user,
            unlock_method=method,
            raw=record.raw,
        )
