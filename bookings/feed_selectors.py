"""What the Calendar feeds page reads, always through the member's reach (`for_membership`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet

from bookings.arrival_links import LinkState
from bookings.feeds import host_of
from bookings.models import CalendarFeed, FeedEvent
from tenants.models import Property, Reach, Unit

# Events shown under each feed: those not long over (a feed of years of history stays one screen).
EVENTS_SHOWN_SINCE = timedelta(days=14)
EVENTS_SHOWN = 200
# A person must look at these: a double booking across feeds, a stay that could not be booked, one cancelled or gone
# from the channel while the guest is in.
NEEDS_A_PERSON = (FeedEvent.State.CONFLICT, FeedEvent.State.NEEDS_ATTENTION, FeedEvent.State.REFUSED)


def feeds_of(reach: Reach) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.for_membership(reach)


@dataclass
class UnitFeeds:
    unit: Unit
    feeds: list[CalendarFeed] = field(default_factory=list)
    arrival_link: LinkState | None = None  # set by the page for owners and managers only


@dataclass
class FeedsPage:
    units: list[UnitFeeds]
    needs_a_person: list[FeedEvent]

    @property
    def has_feeds(self) -> bool:
        return any(entry.feeds for entry in self.units)


def feeds_page(reach: Reach, prop: Property, now: datetime) -> FeedsPage:
    shown = (
        FeedEvent.objects.filter(ends_at__gte=now - EVENTS_SHOWN_SINCE)
        .select_related("stay")
        .order_by("starts_at", "pk")
    )
    feeds = (
        feeds_of(reach)
        .filter(unit__property=prop)
        .select_related("unit")
        .prefetch_related(Prefetch("events", queryset=shown, to_attr="shown_events"))
        .order_by("unit__name", "name", "pk")
    )
    by_unit = {unit.pk: UnitFeeds(unit) for unit in Unit.objects.filter(property=prop).order_by("name")}
    for feed in feeds:
        feed.shown_events = feed.shown_events[:EVENTS_SHOWN]
        feed.url_host = host_of(feed.url)  # type: ignore[attr-defined]  # the link itself is never shown
        by_unit[feed.unit_id].feeds.append(feed)
    attention = list(
        FeedEvent.objects.filter(
            feed__in=feeds_of(reach).filter(unit__property=prop), state__in=NEEDS_A_PERSON, ends_at__gt=now
        )
        .select_related("feed__unit", "stay")
        .order_by("starts_at", "pk")[:EVENTS_SHOWN]
    )
    return FeedsPage(units=list(by_unit.values()), needs_a_person=attention)
