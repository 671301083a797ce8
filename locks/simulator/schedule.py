"""Validity windows and weekly schedules as the simulated lock evaluates them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")
MINUTES_PER_DAY = 1440


def parse_time_zone(name: str) -> tzinfo | None:
    """An IANA name ("Asia/Shanghai") or a fixed offset ("+08:00", "-0530", "UTC+8"); None if neither."""
    name = name.strip()
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta > timedelta(hours=14):
            return None
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def offset_label(tz: tzinfo, when: datetime) -> str:
    """ "+08:00"-style offset of tz at `when`, as the device-details endpoint shows a time zone."""
    offset = when.astimezone(tz).utcoffset() or timedelta(0)
    total = int(offset.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def weekday_bit(day: datetime) -> int:
    """Tuya's working_day bit for a local date: 1 = Sunday, 2 = Monday … 64 = Saturday."""
    return 1 << ((day.weekday() + 1) % 7)  # Python: Monday = 0


def _day_matches(working_day: int, day: datetime) -> bool:
    # The spec's own sample sends working_day 0 with a daily window: read 0 as "every day".
    return working_day == 0 or bool(working_day & weekday_bit(day))


def in_schedule(schedule_list: list[dict[str, Any]], when: datetime, tz: tzinfo) -> bool:
    """Whether `when` falls in one of the weekly windows; no schedule means the whole validity period."""
    if not schedule_list:
        return True
    local = when.astimezone(tz)
    minute = local.hour * 60 + local.minute
    yesterday = local - timedelta(days=1)
    for item in schedule_list:
        start, end, days = int(item["effective_time"]), int(item["invalid_time"]), int(item["working_day"])
        if start < end:
            if _day_matches(days, local) and start <= minute < end:
                return True
        # A window ending at or before its start runs past midnight and belongs to the day it started.
        elif (_day_matches(days, local) and minute >= start) or (_day_matches(days, yesterday) and minute < end):
            return True
    return False
