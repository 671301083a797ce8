"""Request parameters, refused the way Tuya refuses them (1100 empty, 1101 range, 1104 type, 1109 illegal)."""

from __future__ import annotations

import json
from typing import Any

from locks.simulator import schedule
from locks.simulator.errors import TuyaError

_MISSING = object()


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TuyaError(1109, "body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise TuyaError(1109, "body must be a JSON object")
    return data


def _value(data: dict[str, Any], name: str, required: bool) -> Any:
    value = data.get(name, _MISSING)
    if value is _MISSING or value is None or value == "":
        if required:
            raise TuyaError(1100, name)
        return _MISSING
    return value


def string(data: dict[str, Any], name: str, *, required: bool = False, default: str = "") -> str:
    value = _value(data, name, required)
    if value is _MISSING:
        return default
    # Tuya's Java backend coerces numbers into String fields (the spec's own sample sends phone as a number).
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TuyaError(1104, name)
    return str(value)


def integer(data: dict[str, Any], name: str, *, required: bool = False, default: int | None = None) -> int | None:
    value = _value(data, name, required)
    if value is _MISSING:
        return default
    if isinstance(value, bool):
        raise TuyaError(1104, name)
    if isinstance(value, int):
        return value
    # Likewise, digit strings are accepted for Long/Integer fields.
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TuyaError(1104, name)


def required_integer(data: dict[str, Any], name: str) -> int:
    value = integer(data, name, required=True)
    assert value is not None  # required=True raised otherwise
    return value


def boolean_query(query: dict[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in {"true", "1"}:
        return True
    if raw.lower() in {"false", "0"}:
        return False
    raise TuyaError(1104, name)


def timestamp(data: dict[str, Any], name: str) -> int:
    value = required_integer(data, name)
    if not 1_000_000_000 <= value <= 9_999_999_999:
        raise TuyaError(1101, f"{name} must be a 10-digit timestamp in seconds")
    return value


def time_zone(data: dict[str, Any], fallback: str) -> str:
    name = string(data, "time_zone")
    if name and schedule.parse_time_zone(name) is None:
        raise TuyaError(1109, "time_zone")
    return name or fallback


def schedule_list(data: dict[str, Any]) -> list[dict[str, int]]:
    raw = data.get("schedule_list")
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise TuyaError(1104, "schedule_list")
    items = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise TuyaError(1104, "schedule_list")
        start = required_integer(entry, "effective_time")
        end = required_integer(entry, "invalid_time")
        days = required_integer(entry, "working_day")
        if not (0 <= start <= schedule.MINUTES_PER_DAY and 0 <= end <= schedule.MINUTES_PER_DAY):
            raise TuyaError(1101, "schedule_list minutes must be 0..1440")
        if not 0 <= days <= 127:
            raise TuyaError(1101, "schedule_list working_day must be 0..127")
        items.append({"effective_time": start, "invalid_time": end, "working_day": days})
    return items
