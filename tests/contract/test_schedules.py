"""Weekly schedule codes open only on their days and hours, in the password's time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from locks.tuya.api import LockKind
from locks.tuya.schedule import ScheduleEntry
from tests.contract.conftest import APPLICABLE, Sim, now_s

TOKYO = ZoneInfo("Asia/Tokyo")  # no daylight saving: the offset is +09:00 all year
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # the simulated lock's own time zone


def next_weekday(after: datetime, weekday: int) -> datetime:
    """Midnight (in after's zone) of the first `weekday` (Monday = 0) strictly after `after`'s date."""
    day = after.date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), after.tzinfo)


@pytest.mark.parametrize("kind", ["wifi", "zigbee", "ble_gateway", "wifi_keepalive"])
def test_weekly_schedule_in_its_own_time_zone(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    pin = "5803917"[: LockKind(kind).pin_length]
    now = now_s()
    # Mondays and Wednesdays, 09:00 to 17:00 Tokyo time, for the next three weeks.
    entry = ScheduleEntry.for_weekdays([0, 2], time(9), time(17))
    created = sim.api.passwords.create_temp_password(
        dev,
        lock_kind=kind,
        pin=pin,
        name="cleaner",
        effective_time=now - 60,
        invalid_time=now + 21 * 86400,
        type=0,
        time_zone="Asia/Tokyo",
        schedule=[entry],
    )
    record = sim.wait_delivered(kind, dev, created.id)
    if kind in APPLICABLE["keepalive_list"]:
        window = record.schedule_details[0]
        assert (window.working_day, window.start_minute, window.end_minute) == (entry.working_day, 540, 1020)
        assert window.time_zone_id == "Asia/Tokyo"
    else:
        assert record.time_zone == "Asia/Tokyo"
        assert [(e.working_day, e.start_minute, e.end_minute) for e in record.schedule_list] == [(2 | 8, 540, 1020)]

    monday = next_weekday(datetime.now(TOKYO) + timedelta(days=1), 0)
    wednesday = monday + timedelta(days=2)

    def at(day: datetime, hh: int, mm: int) -> dict[str, object]:
        return sim.keypad_at(day.replace(hour=hh, minute=mm), dev, pin)

    assert at(monday, 10, 0)["opened"] is True
    assert at(monday, 9, 0)["opened"] is True
    assert at(monday, 8, 59) == {"opened": False, "reason": "outside_schedule"}
    assert at(monday, 16, 59)["opened"] is True
    assert at(monday, 17, 0) == {"opened": False, "reason": "outside_schedule"}
    assert at(monday + timedelta(days=1), 10, 0) == {"opened": False, "reason": "outside_schedule"}  # Tuesday
    assert at(wednesday, 12, 30)["opened"] is True
    assert at(monday - timedelta(days=1), 10, 0)["reason"] == "outside_schedule"  # Sunday
    # The same wall-clock time in the lock's own zone (Amsterdam) is 17:00 or later in Tokyo: shut.
    amsterdam_monday = datetime.combine(monday.date(), time(10), AMSTERDAM)
    assert sim.keypad_at(amsterdam_monday, dev, pin) == {"opened": False, "reason": "outside_schedule"}
    # After the validity period, even a scheduled hour stays shut.
    assert at(monday + timedelta(weeks=3), 10, 0) == {"opened": False, "reason": "expired"}
