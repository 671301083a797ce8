"""Times typed on forms mean the property's wall clock, whatever the server's zone, across DST."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.utils import timezone

from locks.forms import LocalDateTimeField, make_aware_in

UTC = dt_timezone.utc


def test_a_typed_time_is_the_propertys_wall_clock_not_the_servers(settings) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"
    with timezone.override("Asia/Tokyo"):
        naive = LocalDateTimeField().clean("2026-07-01T15:00")
    assert naive == datetime(2026, 7, 1, 15, 0)
    assert naive.tzinfo is None
    assert make_aware_in(naive, "Europe/Lisbon").astimezone(UTC) == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def test_a_time_in_the_spring_forward_gap_moves_forward_as_clocks_do() -> None:
    # 2026-03-29 02:30 does not exist in Amsterdam (02:00 → 03:00).
    aware = make_aware_in(datetime(2026, 3, 29, 2, 30), "Europe/Amsterdam")
    assert aware.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_an_ambiguous_autumn_time_takes_the_first_of_the_two() -> None:
    # 2026-10-25 02:30 happens twice in Amsterdam; fold=0 is the first (still CEST).
    aware = make_aware_in(datetime(2026, 10, 25, 2, 30), "Europe/Amsterdam")
    assert aware.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert aware.utcoffset() == timedelta(hours=2)


def test_a_code_that_spans_a_clock_change_names_the_day() -> None:
    from datetime import date

    from locks.models import AccessCode

    zone = "Europe/Amsterdam"
    spring = AccessCode(
        time_zone=zone,
        starts_at=datetime(2031, 3, 20, 9, tzinfo=UTC),
        ends_at=datetime(2031, 4, 5, 9, tzinfo=UTC),
    )
    assert spring.clock_change == date(2031, 3, 30)  # the last Sunday of March
    night = AccessCode(  # starts at 01:00 local on the very night, before the 02:00 change
        time_zone=zone, starts_at=datetime(2031, 3, 30, 0, tzinfo=UTC), ends_at=datetime(2031, 3, 31, tzinfo=UTC)
    )
    assert night.clock_change == date(2031, 3, 30)
    summer = AccessCode(
        time_zone=zone, starts_at=datetime(2031, 6, 1, tzinfo=UTC), ends_at=datetime(2031, 7, 1, tzinfo=UTC)
    )
    assert summer.clock_change is None
    tokyo = AccessCode(
        time_zone="Asia/Tokyo", starts_at=datetime(2031, 1, 1, tzinfo=UTC), ends_at=datetime(2032, 1, 1, tzinfo=UTC)
    )
    assert tokyo.clock_change is None  # no DST there
