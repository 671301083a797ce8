"""Calendar feeds through the API: a unit's iCalendar links that book, change and cancel its stays by themselves.
Writes need the "stays" scope (a feed books stays), reads the "read" scope. A feed's link carries the channel's
secret: it is taken, never given back (only its host)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api import pagination
from api.access import ip_of, need
from api.responses import READ, WRITE, ok
from api.routes_places import Listing
from api.schemas import Input, Page
from bookings import feeds
from bookings.feed_selectors import feeds_of
from bookings.models import CalendarFeed, FeedEvent
from tenants.models import ApiKey, Unit

router = Router(tags=["Calendar feeds"])
Blocked = Literal["ignore", "block"]
EventState = Literal["booked", "conflict", "ignored", "refused", "cancelled", "attention"]

BLOCKED_HELP = "What to do with dates the channel only blocks (no reservation): ignore them, or book owner blocks."


class FeedOut(Schema):
    id: int
    unit_id: int
    property_id: int
    name: str
    host: str = Field(description="The host of the feed's link; the link itself (it holds a secret) is never shown.")
    every_minutes: int
    blocked: Blocked = Field(description=BLOCKED_HELP)
    enabled: bool
    next_sync_at: datetime | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    failing_since: datetime | None = Field(description="The first failed read since the last success.")
    last_error: str = Field(description="Why the last read failed, in words; empty when it did not.")
    events_found: int = Field(description="Events in the calendar at the last successful read.")
    created_at: datetime


class FeedIn(Input):
    unit: int
    url: str = Field(max_length=feeds.URL_MAX, description="The calendar's export link: https (webcal:// is read as "
                     "https), on a public address.")  # fmt: skip
    name: str = Field(default="", max_length=feeds.NAME_MAX, description="E.g. Airbnb; empty: the link's host.")
    every_minutes: int = Field(default=15, ge=feeds.MIN_EVERY_MINUTES, le=feeds.MAX_EVERY_MINUTES)
    blocked: Blocked = Field(default="ignore", description=BLOCKED_HELP)


class FeedChange(Input):
    url: str | None = Field(default=None, max_length=feeds.URL_MAX, description="A new link: read again at once.")
    name: str | None = Field(default=None, max_length=feeds.NAME_MAX)
    every_minutes: int | None = Field(default=None, ge=feeds.MIN_EVERY_MINUTES, le=feeds.MAX_EVERY_MINUTES)
    blocked: Blocked | None = None
    enabled: bool | None = Field(default=None, description="false stops reading it; true reads it again at once.")


class FeedEventOut(Schema):
    id: int
    uid: str = Field(description="The event's UID in the calendar.")
    kind: Literal["reservation", "blocked"]
    summary: str
    starts_at: datetime
    ends_at: datetime
    state: EventState = Field(description="booked (stay_id follows it), conflict (overlaps another booking: not "
                              "booked), ignored, refused (problem says why), cancelled, attention (cancelled or gone "
                              "while the guest is in: a person decides).")  # fmt: skip
    problem: str
    stay_id: int | None
    first_seen_at: datetime
    last_seen_at: datetime


class FeedPage(Page):
    items: list[FeedOut]


class FeedEventPage(Page):
    items: list[FeedEventOut]


class FeedFilter(Listing):
    unit: int | None = None
    property: int | None = None


class FeedEventFilter(Listing):
    state: EventState | None = None


def feed_out(feed: CalendarFeed) -> FeedOut:
    return FeedOut(
        id=feed.pk, unit_id=feed.unit_id, property_id=feed.unit.property_id, name=feed.name,
        host=feeds.host_of(feed.url), every_minutes=feed.every_minutes, blocked=feed.blocked,  # type: ignore[arg-type]
        enabled=feed.enabled, next_sync_at=feed.next_sync_at if feed.enabled else None,
        last_attempt_at=feed.last_attempt_at, last_success_at=feed.last_success_at, failing_since=feed.failing_since,
        last_error=feed.last_error, events_found=feed.events_found, created_at=feed.created_at,
    )  # fmt: skip


def event_out(event: FeedEvent) -> FeedEventOut:
    return FeedEventOut(
        id=event.pk, uid=event.uid, kind=event.kind, summary=event.summary,  # type: ignore[arg-type]
        starts_at=event.starts_at, ends_at=event.ends_at, state=event.state,  # type: ignore[arg-type]
        problem=event.problem, stay_id=event.stay_id, first_seen_at=event.first_seen_at,
        last_seen_at=event.last_seen_at,
    )  # fmt: skip


def _feed(request: HttpRequest, feed_id: int, scope: str) -> tuple[ApiKey, CalendarFeed]:
    key = need(request, scope)
    return key, get_object_or_404(feeds_of(key).select_related("unit"), pk=feed_id)


@router.get("/calendar-feeds", response=ok(FeedPage, errors=READ), summary="List calendar feeds")
def list_feeds(request: HttpRequest, query: Query[FeedFilter]) -> dict[str, object]:
    key = need(request, ApiKey.Scope.READ)
    rows = feeds_of(key).select_related("unit")
    if query.unit is not None:
        rows = rows.filter(unit_id=query.unit)
    if query.property is not None:
        rows = rows.filter(unit__property_id=query.property)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=lambda fs: [feed_out(f) for f in fs])


@router.post("/calendar-feeds", response=ok(FeedOut, 201, WRITE), summary="Add a calendar feed to a unit")
def create_feed(request: HttpRequest, body: FeedIn) -> Status[FeedOut]:
    """It is read at once, then every `every_minutes`. The same link twice on one unit is refused (422)."""
    key = need(request, ApiKey.Scope.STAYS)
    unit = get_object_or_404(Unit.objects.for_user(key), pk=body.unit)
    feed = feeds.add_feed(
        unit=unit, url=body.url, name=body.name, every_minutes=body.every_minutes, blocked=body.blocked, actor=key,
        ip=ip_of(request), request_host=request.get_host(),
    )  # fmt: skip
    return Status(201, feed_out(feed))


@router.get("/calendar-feeds/{feed_id}", response=ok(FeedOut), summary="A calendar feed")
def get_feed(request: HttpRequest, feed_id: int) -> FeedOut:
    return feed_out(_feed(request, feed_id, ApiKey.Scope.READ)[1])


@router.patch("/calendar-feeds/{feed_id}", response=ok(FeedOut, 200, WRITE), summary="Change a calendar feed")
def change_feed(request: HttpRequest, feed_id: int, body: FeedChange) -> FeedOut:
    key, feed = _feed(request, feed_id, ApiKey.Scope.STAYS)
    feed = feeds.update_feed(
        feed, url=body.url, name=body.name, every_minutes=body.every_minutes, blocked=body.blocked,
        enabled=body.enabled, actor=key, ip=ip_of(request), request_host=request.get_host(),
    )  # fmt: skip
    return feed_out(feed)


@router.delete("/calendar-feeds/{feed_id}", response=ok(None, 204, WRITE), summary="Remove a calendar feed")
def delete_feed(request: HttpRequest, feed_id: int) -> Status[None]:
    """It is no longer read and its events are forgotten; the stays it booked are kept, with their codes."""
    key, feed = _feed(request, feed_id, ApiKey.Scope.STAYS)
    feeds.remove_feed(feed, actor=key, ip=ip_of(request))
    return Status(204, None)


@router.post("/calendar-feeds/{feed_id}/sync", response=ok(FeedOut, 202, WRITE), summary="Read a calendar feed now")
def sync_feed(request: HttpRequest, feed_id: int) -> Status[FeedOut]:
    """A worker reads it in a moment; poll the feed (`last_success_at`, `last_error`) or its events. 409 when the
    feed is paused."""
    key, feed = _feed(request, feed_id, ApiKey.Scope.STAYS)
    return Status(202, feed_out(feeds.sync_now(feed, actor=key, ip=ip_of(request))))


@router.get("/calendar-feeds/{feed_id}/events", response=ok(FeedEventPage), summary="A calendar feed's events")
def list_feed_events(request: HttpRequest, feed_id: int, query: Query[FeedEventFilter]) -> dict[str, object]:
    _, feed = _feed(request, feed_id, ApiKey.Scope.READ)
    rows = feed.events.all()
    if query.state is not None:
        rows = rows.filter(state=query.state)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=lambda es: [event_out(e) for e in es])
