"""Times in the zone of the property they belong to, on every page: `{{ when|local:lock|date:"H:i T" }}`.

`local` takes what a time belongs to: a lock, anything with a `lock` (a code, an alert, a request, an event), a
property, a unit or a zone name. A lock on no door, or an alert of no lock, falls back to the server's zone;
`T` in the date format names the zone, so the reader knows which one it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils import timezone

register = template.Library()


def zone_name(owner: Any) -> str:
    """The time zone a thing's times are read in; the server's when it belongs to no property."""
    if isinstance(owner, str):
        return owner or settings.TIME_ZONE
    if hasattr(owner, "time_zone") and isinstance(owner.time_zone, str):  # a property, a lock (on a door or not)
        return owner.time_zone or settings.TIME_ZONE
    # Before the unit and stay checks: an event also carries unit_id and property_id (where its lock was then, maybe
    # none), and is read in its lock's zone, already loaded with it.
    for link in ("lock", "event"):  # an alert, a request, a record, its photo
        linked = getattr(owner, link, None)
        if linked is not None:
            return zone_name(linked)
    if hasattr(owner, "property_id"):  # a unit
        return owner.property.time_zone or settings.TIME_ZONE
    if hasattr(owner, "unit_id"):  # a stay
        return zone_name(owner.unit) if owner.unit_id else settings.TIME_ZONE
    return settings.TIME_ZONE


@register.filter
def local(value: datetime | None, owner: Any) -> datetime | None:
    """`value` in its owner's zone (for |date and |time); None stays None."""
    if value is None or not isinstance(value, datetime):
        return value
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value.astimezone(ZoneInfo(zone_name(owner)))


@register.filter
def zone(owner: Any) -> str:
    return zone_name(owner)
