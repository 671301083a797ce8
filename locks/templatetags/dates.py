"""Dates as people read them: the year only when it is not this year (a lease ends next year, a guest leaves today)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

register = template.Library()


@register.filter(expects_localtime=True)
def dated(value: Any, fmt: str = "D j M H:i") -> str:
    """`date` with the format's month followed by the year when the date is in another year than today (both in
    the zone the page shows, e.g. inside `{% timezone %}` or after `|timezone:`)."""
    if not isinstance(value, datetime):
        return date_filter(value, fmt)
    today = timezone.localtime(timezone.now(), value.tzinfo) if timezone.is_aware(value) else datetime.now()
    if value.year != today.year and "Y" not in fmt:
        fmt = fmt.replace("M", "M Y", 1) if "M" in fmt else f"{fmt} Y"
    return date_filter(value, fmt)
