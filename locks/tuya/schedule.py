"""Weekly schedules as Tuya's `schedule_list` wants them.

`working_day` is a bitmask with 1 = Sunday, 2 = Monday, ... 64 = Saturday; times of day are minutes
from local midnight, 0..1440 (1440 = the end of the day). Python's `date.weekday()` counts
Monday = 0 ... Sunday = 6, hence the shift by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from typing import Any

from .errors import TuyaValidationError

MINUTES_PER_DAY = 1440
ALL_DAYS = 127
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_bit(weekday: int) -> int:
    """Python weekday (Monday = 0) → Tuya bit (Sunday = 1, Monday = 2, ... Saturday = 64)."""
    if not 0 <= weekday <= 6:
        raise TuyaValidationError(f"A weekday is 0 (Monday) to 6 (Sunday), not {weekday}.")
    return 1 << ((weekday + 1) % 7)


def weekdays_to_working_day(weekdays: Iterable[int]) -> int:
    mask = 0
    for weekday in weekdays:
        mask |= weekday_bit(weekday)
    if not mask:
        raise TuyaValidationError("A weekly schedule needs at least one day.")
    return mask


def working_day_to_weekdays(working_day: int) -> frozenset[int]:
    validate_working_day(working_day)
    return frozenset(weekday for weekday in range(7) if working_day & weekday_bit(weekday))


def validate_working_day(working_day: int) -> int:
    if isinstance(working_day, bool) or not isinstance(working_day, int) or not 1 <= working_day <= ALL_DAYS:
        raise TuyaValidationError(f"working_day is a bitmask from 1 to 127, not {working_day!r}.")
    return working_day


def validate_minutes(minutes: int, name: str = "minutes") -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= MINUTES_PER_DAY:
        raise TuyaValidationError(f"{name} is a minute of the day from 0 to 1440, not {minutes!r}.")
    return minutes


def time_to_minutes(value: time) -> int:
    """A local time of day → minutes since midnight (seconds are dropped)."""
    return value.hour * 60 + value.minute


def minutes_to_time(minutes: int) -> time:
    """Minutes since midnight → a time of day; 1440 (end of day) has no `time`, use format_minutes."""
    validate_minutes(minutes)
    if minutes == MINUTES_PER_DAY:
        raise TuyaValidationError("1440 is the end of the day (24:00), which datetime.time cannot hold.")
    return time(minutes // 60, minutes % 60)


def format_minutes(minutes: int) -> str:
    validate_minutes(minutes)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    """'09:30' → 570; '24:00' → 1440."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
    except ValueError:
        raise TuyaValidationError(f"A time of day looks like 09:30, not {text!r}.") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise TuyaValidationError(f"{text!r} is not a time of day between 00:00 and 24:00.")
    return hours * 60 + minutes


@dataclass(frozen=True)
class ScheduleEntry:
    """One row of `schedule_list`: on these days, from `start_minute` to `end_minute` local time."""

    working_day: int
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        validate_working_day(self.working_day)
        validate_minutes(self.start_minute, "effective_time")
        validate_minutes(self.end_minute, "invalid_time")
        if self.start_minute >= self.end_minute:
            raise TuyaValidationError("A schedule's start time must be before its end time on the same day.")

    @classmethod
    def for_weekdays(cls, weekdays: Iterable[int], start: time, end: time | None) -> ScheduleEntry:
        """`end=None` means until the end of the day."""
        end_minute = MINUTES_PER_DAY if end is None else time_to_minutes(end)
        return cls(weekdays_to_working_day(weekdays), time_to_minutes(start), end_minute)

    @property
    def weekdays(self) -> frozenset[int]:
        return working_day_to_weekdays(self.working_day)

    def to_api(self) -> dict[str, int]:
        return {"effective_time": self.start_minute, "invalid_time": self.end_minute, "working_day": self.working_day}

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ScheduleEntry:
        """Read what the cloud returned as is: its samples show values (working_day 0) we would not send."""
        entry = object.__new__(cls)
        object.__setattr__(entry, "working_day", int(data.get("working_day", 0)))
        object.__setattr__(entry, "start_minute", int(data.get("effective_time", 0)))
        object.__setattr__(entry, "end_minute", int(data.get("invalid_time", 0)))
        return entry
