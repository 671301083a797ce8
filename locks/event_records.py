"""The cloud's unlock and alert records in our words: parsed, classified, and linked to our codes and people.

Each listing the events sync reads (locks/events.py) has its parser here, which turns one item into a `Record`
(or refuses it with `Skip` and the reason); `Linker` then finds the code, guest, stay, lock user and unlock method
behind a page of records and builds the `LockEvent` rows that the sync stores.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from locks.cloud.tuya.adapter import DP_TO_TYPE
from locks.models import AccessCode, Lock, LockEvent, LockUser, UnlockMethod
from locks.tuya.api._base import MediaInfo
from locks.tuya.api.records import AlarmLog, LockRecord, OpenLog

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
# The method DP codes and the unlock_type an UnlockMethod row carries for them (the spec's short names).
METHOD_TYPES = DP_TO_TYPE


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


# --- parsing the cloud's records ----------------------------------------------------------------------------


class Skip(ValueError):
    """A record we cannot store; the message is the reason recorded."""


@dataclass(frozen=True)
class Record:
    natural_key: str
    dp_code: str
    dp_value: str
    occurred_at: datetime
    actor_name: str
    cloud_user_id: str
    raw: dict[str, Any]
    media: tuple[MediaInfo, ...] = ()


def _millis(value: int) -> int:
    """The v1.0 alert sample gives seconds, everything else milliseconds."""
    if value <= 0:
        return 0
    return value * 1000 if value < 100_000_000_000 else value


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=dt_timezone.utc)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def _key(*parts: str) -> str:
    key = ":".join(parts)
    if len(key) <= 200:
        return key
    return f"{parts[0]}:{parts[1]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


_SECRET_FIELDS = frozenset({"file_key", "fileKey", "media_key", "mediaKey"})


def _scrub(value: Any) -> Any:
    """The record as received, without the keys that decrypt its photos (those go encrypted into EventMedia)."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _SECRET_FIELDS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def parse_open_log(log: OpenLog) -> Record:
    if not log.status or not log.status[0].code:
        raise Skip("an unlock record without a DP code")
    ms = _millis(log.update_time)
    if not ms:
        raise Skip("an unlock record without a time")
    codes = [s.code for s in log.status]
    value = _text(log.status[0].value)
    return Record(
        natural_key=_key("o", str(ms), ",".join(codes), value, log.user_id),
        dp_code=log.status[0].code,
        dp_value=value[:128],
        occurred_at=_when(ms),
        actor_name=(log.nick_name or log.unlock_name)[:200],
        cloud_user_id="" if log.user_id in ("", "0") else log.user_id[:64],
        raw=_scrub(log.raw),
        media=log.media_infos,
    )


def parse_alarm_log(log: AlarmLog) -> Record:
    if not log.status or not log.status[0].code:
        raise Skip("an alert record without a DP code")
    ms = _millis(log.update_time)
    if not ms:
        raise Skip("an alert record without a time")
    value = _text(log.status[0].value)
    return Record(
        natural_key=_key("a", str(ms), ",".join(s.code for s in log.status), value),
        dp_code=log.status[0].code,
        dp_value=value[:128],
        occurred_at=_when(ms),
        actor_name=log.nick_name[:200],
        cloud_user_id="",
        raw=_scrub(log.raw),
        media=log.media_infos,
    )


def parse_record(record: LockRecord) -> Record:
    dps = [(code, value) for dp in record.dps for code, value in dp.items()]
    if not dps:
        raise Skip("an access-control record without DP data")
    ms = _millis(record.gmt_create)
    if not ms:
        raise Skip("an access-control record without a time")
    code, value = dps[0][0], _text(dps[0][1])
    key = _key("r", record.record_id) if record.record_id else _key("r", str(ms), code, value, record.user_id)
    return Record(
        natural_key=key,
        dp_code=code,
        dp_value=value[:128],
        occurred_at=_when(ms),
        actor_name=(record.user_name or record.unlock_name)[:200],
        cloud_user_id="" if record.user_id in ("", "0") else record.user_id[:64],
        raw=_scrub(record.raw),
        media=record.media_infos,
    )


# --- linking ---------------------------------------------------------------------------------------------------


def _is_number(value: str) -> bool:
    """Plain ASCII digits: str.isdigit() alone also says yes to "²", which int() refuses (a crashed sync)."""
    return value.isascii() and value.isdigit()


def _method_ref(record: Record) -> tuple[str, int] | None:
    """(DP code, number) of the method behind an unlock, or behind a duress alarm ("unlock_fingerprint-02")."""
    code, value = record.dp_code, record.dp_value
    if record.dp_code == "hijack" and "-" in value:
        code, _, value = value.rpartition("-")
    if code in METHOD_TYPES and _is_number(value):
        return code, int(value)
    return None


class Linker:
    """Finds our code, guest, stay, lock user and unlock method behind a page of records: three queries a page."""

    def __init__(self, lock: Lock, records: Sequence[Record]) -> None:
        self.lock = lock
        ids = {int(r.dp_value) for r in records if r.dp_code == "unlock_temporary" and _is_number(r.dp_value)}
        self.codes: dict[int, list[AccessCode]] = {}
        if ids:
            for code in AccessCode.objects.filter(lock=lock, tuya_password_id__in=ids).order_by("-created_at"):
                self.codes.setdefault(code.tuya_password_id or 0, []).append(code)
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

    def _code(self, record: Record) -> AccessCode | None:
        if record.dp_code != "unlock_temporary" or not _is_number(record.dp_value):
            return None
        candidates = self.codes.get(int(record.dp_value), [])
        # A password id may come back after a delete: prefer the code whose window held the moment.
        for code in candidates:
            if code.starts_at <= record.occurred_at <= code.ends_at:
                return code
        return candidates[0] if candidates else None

    def event(self, record: Record) -> LockEvent:
        category, words = classify(record.dp_code, record.dp_value)
        code = self._code(record)
        ref = _method_ref(record)
        method = self.methods.get(ref) if ref else None
        user = (method.lock_user if method else None) or self.users.get(record.cloud_user_id)
        guest = (code.guest_id if code else None) or (user.guest_id if user else None)
        return LockEvent(
            organisation_id=self.lock.organisation_id,
            lock=self.lock,
            category=category,
            dp_code=record.dp_code[:64],
            dp_value=record.dp_value,
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
