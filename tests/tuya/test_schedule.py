from datetime import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from locks.tuya import errors, schedule

weekday_sets = st.frozensets(st.integers(0, 6), min_size=1)


@given(weekday_sets)
def test_weekdays_round_trip_through_the_bitmask(days):
    mask = schedule.weekdays_to_working_day(days)
    assert 1 <= mask <= 127
    assert schedule.working_day_to_weekdays(mask) == days


@given(st.integers(1, 127))
def test_every_mask_round_trips(mask):
    assert schedule.weekdays_to_working_day(schedule.working_day_to_weekdays(mask)) == mask


def test_bit_values_follow_the_spec():
    # 1 = Sunday ... 64 = Saturday; Python counts Monday = 0.
    assert schedule.weekdays_to_working_day([6]) == 1
    assert schedule.weekdays_to_working_day([0]) == 2
    assert schedule.weekdays_to_working_day([5]) == 64
    assert schedule.weekdays_to_working_day([0, 1, 4]) == 38  # Mon + Tue + Fri


@given(st.times())
@example(time(0, 0))
@example(time(23, 59, 59))
def test_time_round_trips_to_the_minute(value):
    minutes = schedule.time_to_minutes(value)
    assert 0 <= minutes < 1440
    assert schedule.minutes_to_time(minutes) == value.replace(second=0, microsecond=0, tzinfo=None)


@given(st.integers(0, 1440))
def test_hhmm_round_trips(minutes):
    assert schedule.parse_hhmm(schedule.format_minutes(minutes)) == minutes


@pytest.mark.parametrize("bad", [0, 128, -1, True, 3.0, "7"])
def test_working_day_out_of_range_is_refused(bad):
    with pytest.raises(errors.TuyaValidationError):
        schedule.validate_working_day(bad)


@pytest.mark.parametrize("bad", [-1, 1441, 1.5, None])
def test_minutes_out_of_range_are_refused(bad):
    with pytest.raises(errors.TuyaValidationError):
        schedule.validate_minutes(bad)


@pytest.mark.parametrize("bad", ["24:01", "25:00", "9", "aa:bb", "12:60"])
def test_bad_times_of_day_are_refused(bad):
    with pytest.raises(errors.TuyaValidationError):
        schedule.parse_hhmm(bad)


def test_empty_weekday_set_is_refused():
    with pytest.raises(errors.TuyaValidationError, match="at least one day"):
        schedule.weekdays_to_working_day([])


def test_schedule_entry_to_api_and_back():
    entry = schedule.ScheduleEntry.for_weekdays([0, 2], time(9), time(12))  # cleaner Mon/Wed 09:00-12:00
    assert entry.to_api() == {"effective_time": 540, "invalid_time": 720, "working_day": 2 | 8}
    assert schedule.ScheduleEntry.from_api(entry.to_api()) == entry
    assert schedule.ScheduleEntry.for_weekdays([6], time(20), None).end_minute == 1440


def test_schedule_entry_refuses_an_inverted_window():
    with pytest.raises(errors.TuyaValidationError, match="before its end"):
        schedule.ScheduleEntry(2, 720, 540)
