"""Days, hours and dates as the pages write them (locks/display.py): one helper for pages, forms and messages."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from locks import display

AUCKLAND = ZoneInfo("Pacific/Auckland")


def test_hours_text() -> None:
    assert display.hours_text(9 * 60, 12 * 60 + 30) == "09:00–12:30"
    assert display.hours_text(0, 1440) == "00:00–24:00"


def test_the_year_is_shown_when_it_is_not_this_year_where_the_date_is(monkeypatch) -> None:
    # New Year's Eve in UTC is already New Year's Day in Auckland: "this year" is the local one, not the server's.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    new_years_day = datetime(2027, 1, 1, 12, 0, tzinfo=AUCKLAND)
    assert display.day_and_time(new_years_day) == "Fri 1 Jan 12:00"
    assert display.day_and_time(datetime(2026, 12, 30, 9, 0, tzinfo=AUCKLAND)) == "Wed 30 Dec 2026 09:00"
    assert display.day_and_time(new_years_day, year=True) == "Fri 1 Jan 2027 12:00"
    assert display.day_and_time(datetime(2030, 6, 3, 8, 5, tzinfo=AUCKLAND), year=False) == "Mon 3 Jun 08:05"
