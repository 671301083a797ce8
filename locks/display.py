"""Days, hours and dates written as the pages write them, for the pages, forms, messages and model texts alike."""

from __future__ import annotations

from datetime import datetime

from django.utils import dateformat, timezone
from django.utils.dates import WEEKDAYS_ABBR

# By datetime.weekday(), in the active language (Django's own catalogues translate them).
DAY_NAMES = tuple(WEEKDAYS_ABBR[day] for day in range(7))


def hours_text(start_minute: int, end_minute: int) -> str:
    """'09:00–12:00' for minutes of the day."""
    return "{:02d}:{:02d}–{:02d}:{:02d}".format(*divmod(start_minute, 60), *divmod(end_minute, 60))


def day_and_time(moment: datetime, *, year: bool | None = None) -> str:
    """'Mon 7 Jan 09:00' in `moment`'s own zone, the day and month in the active language; the year too when asked,
    or (None) when it is not this year there."""
    if year is None:
        year = moment.year != timezone.localtime(timezone.now(), moment.tzinfo).year
    return dateformat.format(moment, "D j M Y H:i" if year else "D j M H:i")
