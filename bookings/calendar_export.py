"""Each unit's stays as an iCalendar feed (RFC 5545) at a token URL, `/calendar/<token>.ics`, for cleaners and channel
managers: open stays and those ended in the last 30 days, and the owner blocks read from the unit's calendar feeds.

What it carries, on purpose: when the room is taken, never by whom. The link is a bearer URL that gets pasted into
cleaning apps and channel managers, so each event says "Booked" or "Blocked" and nothing else: no guest name, no
contact details, no PINs. UIDs are stable ("stay-<id>@<host>"), times in UTC, and DTSTAMP/LAST-MODIFIED are the
row's last change, so the same data gives the same bytes (and the same ETag).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from icalendar import Calendar, Event
from icalendar.enums import STATUS

from audit.services import audit
from bookings import guest_pass
from bookings.ical import EXPORT_PRODID
from bookings.models import FeedEvent, UnitCalendarExport
from tenants.models import MANAGER_ROLES, Actor, Stay, Unit, role_in

RECENT = timedelta(days=30)  # stays that ended (or were cancelled) this long ago still show
REFRESH = timedelta(hours=1)  # what the calendar suggests to the apps that poll it


def may_manage(user: Actor, organisation_id: int) -> bool:
    """Owners and managers hand out a unit's calendar (it shows when a room is empty)."""
    return role_in(user, organisation_id, MANAGER_ROLES)


def export_for(unit: Unit) -> UnitCalendarExport:
    """The unit's export, made on first use; racing callers get the same one."""
    return guest_pass.made_once(UnitCalendarExport, unit=unit)


def link(export: UnitCalendarExport) -> str:
    return settings.PUBLIC_BASE_URL + reverse("guest:unit-calendar", kwargs={"token": export.token})


def show_link(unit: Unit, *, actor: Actor, ip: str | None) -> str:
    export = export_for(unit)
    audit("calendar_export.link_shown", actor=actor, organisation=unit.property.organisation, obj=unit,
          summary=f"Calendar export of {unit}", ip=ip)  # fmt: skip
    return link(export)


def new_link(unit: Unit, *, actor: Actor, ip: str | None) -> str:
    """A new token: the old link answers 404 from now on."""
    with transaction.atomic():
        export = export_for(unit)
        guest_pass.give_new_token(export)
        audit("calendar_export.link_renewed", actor=actor, organisation=unit.property.organisation, obj=unit,
              summary=f"Calendar export of {unit}", ip=ip)  # fmt: skip
    return link(export)


def is_own_export(url: str, request_host: str = "") -> bool:
    """Whether `url` is a unit's export from this installation (any unit, any organisation, a renewed token too):
    the path of `/calendar/<token>.ics` on PUBLIC_BASE_URL's host or on the host a request came to."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        ours = {urlsplit(settings.PUBLIC_BASE_URL).hostname, urlsplit(f"//{request_host}").hostname}
    except ValueError:
        return False  # no URL at all: the link check says so in its words
    if not host or host not in {name.lower() for name in ours if name}:
        return False
    try:
        return resolve(unquote(parts.path)).view_name == "guest:unit-calendar"
    except Resolver404:
        return False


def find(token: str) -> UnitCalendarExport | None:
    if not token or len(token) > 100:
        return None
    exports = UnitCalendarExport.objects.select_related("unit__property")
    return exports.filter(token_hash=guest_pass.token_hash(token)).first()


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str  # quoted, for the ETag header


def _host() -> str:
    return urlsplit(settings.PUBLIC_BASE_URL).hostname or "doors"


def stays_shown(unit: Unit, now: datetime) -> list[Stay]:
    """Open stays, stays that ended in the last 30 days, and stays cancelled in the last 30 days that had not ended."""
    recent = now - RECENT
    open_ = Q(status__in=[Stay.Status.BOOKED, Stay.Status.CHECKED_IN])
    ended = Q(status=Stay.Status.CHECKED_OUT, check_out__gte=recent)
    cancelled = Q(status=Stay.Status.CANCELLED, updated_at__gte=recent, check_out__gte=recent)
    return list(Stay.objects.filter(unit=unit).filter(open_ | ended | cancelled).order_by("check_in", "pk"))


def owner_blocks(unit: Unit, now: datetime) -> list[FeedEvent]:
    """Blocked dates a calendar feed booked as owner blocks (no stay of their own), not ended 30 days ago."""
    return list(
        FeedEvent.objects.filter(
            feed__unit=unit,
            kind=FeedEvent.Kind.BLOCKED,
            state=FeedEvent.State.BOOKED,
            stay__isnull=True,
            ends_at__gte=now - RECENT,
        ).order_by("starts_at", "pk")
    )


def render(unit: Unit, now: datetime | None = None) -> Rendered:
    now = now or timezone.now()
    host = _host()
    calendar = Calendar.new(
        prodid=EXPORT_PRODID,
        uid=f"unit-{unit.pk}@{host}",
        name=f"{unit.property.name} · {unit.name}",
        refresh_interval=REFRESH,
    )
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"  # RFC 7986 requires it; icalendar leaves it out
    calendar.add("X-PUBLISHED-TTL", "PT1H")  # REFRESH-INTERVAL's older name, which Outlook and Google read
    for stay in stays_shown(unit, now):
        event = Event.new(
            uid=f"stay-{stay.pk}@{host}",
            summary="Booked",
            start=stay.check_in,
            end=stay.check_out,
            stamp=stay.updated_at,
            last_modified=stay.updated_at,
            status=STATUS.CANCELLED if stay.status == Stay.Status.CANCELLED else STATUS.CONFIRMED,
        )
        calendar.add_component(event)
    for block in owner_blocks(unit, now):
        event = Event.new(
            uid=f"block-{block.pk}@{host}",
            summary="Blocked",
            start=block.starts_at,
            end=block.ends_at,
            stamp=block.first_seen_at,
            last_modified=block.first_seen_at,
            status=STATUS.CONFIRMED,
        )
        calendar.add_component(event)
    body = calendar.to_ical()
    return Rendered(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')
