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
