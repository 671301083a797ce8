"""Tuya's unlock, alert and access-control records as the port's events (locks/cloud/port.py, CloudEvent).

The natural keys are built exactly as the events sync always built them (tests/locks/test_cloud_port.py pins
them): events stored before keep matching the same records read again, so each is stored once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any, TypeVar

from locks.cloud.port import CloudEvent, EventPage, MediaRef
from locks.tuya.api import MediaInfo, Page
from locks.tuya.api.records import AlarmLog, LockRecord, OpenLog


class Skip(ValueError):
    """A record that cannot be stored; the message is the reason noted."""


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
    """The record as received, without the keys that decrypt its photos (those go in `media`)."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _SECRET_FIELDS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _media(infos: Iterable[MediaInfo]) -> tuple[MediaRef, ...]:
    return tuple(MediaRef(info.file_url, info.file_key) for info in infos)


def open_log_event(log: OpenLog) -> CloudEvent:
    if not log.status or not log.status[0].code:
        raise Skip("an unlock record without a DP code")
    ms = _millis(log.update_time)
    if not ms:
        raise Skip("an unlock record without a time")
    codes = [s.code for s in log.status]
    value = _text(log.status[0].value)
    return CloudEvent(
        natural_key=_key("o", str(ms), ",".join(codes), value, log.user_id),
        code=log.status[0].code,
        value=value[:128],
        occurred_at=_when(ms),
        actor_name=(log.nick_name or log.unlock_name)[:200],
        cloud_user_id="" if log.user_id in ("", "0") else log.user_id[:64],
        raw=_scrub(log.raw),
        media=_media(log.media_infos),
    )


def alarm_log_event(log: AlarmLog) -> CloudEvent:
    if not log.status or not log.status[0].code:
        raise Skip("an alert record without a DP code")
    ms = _millis(log.update_time)
    if not ms:
        raise Skip("an alert record without a time")
    value = _text(log.status[0].value)
    return CloudEvent(
        natural_key=_key("a", str(ms), ",".join(s.code for s in log.status), value),
        code=log.status[0].code,
        value=value[:128],
        occurred_at=_when(ms),
        actor_name=log.nick_name[:200],
        cloud_user_id="",
        raw=_scrub(log.raw),
        media=_media(log.media_infos),
    )


def access_record_event(record: LockRecord) -> CloudEvent:
    dps = [(code, value) for dp in record.dps for code, value in dp.items()]
    if not dps:
        raise Skip("an access-control record without DP data")
    ms = _millis(record.gmt_create)
    if not ms:
        raise Skip("an access-control record without a time")
    code, value = dps[0][0], _text(dps[0][1])
    key = _key("r", record.record_id) if record.record_id else _key("r", str(ms), code, value, record.user_id)
    return CloudEvent(
        natural_key=key,
        code=code,
        value=value[:128],
        occurred_at=_when(ms),
        actor_name=(record.user_name or record.unlock_name)[:200],
        cloud_user_id="" if record.user_id in ("", "0") else record.user_id[:64],
        raw=_scrub(record.raw),
        media=_media(record.media_infos),
    )


T = TypeVar("T")


def event_page(page: Page[T], parse: Callable[[T], CloudEvent]) -> EventPage:
    events, skipped = [], []
    for item in page:
        try:
            events.append(parse(item))
        except Skip as skip:
            skipped.append(str(skip))
    return EventPage(tuple(events), len(page), tuple(skipped), page.total, page.has_more)
