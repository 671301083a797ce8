"""Calendar feeds of units: add, change, remove, sync now, and a preview of what a URL would book.

The Calendar feeds page (bookings/views.py) and the public API (api/routes_feeds.py) call these. Each change is one
transaction with its audit row, and refuses bad input with a ValidationError naming the field (`url`, `name`,
`every_minutes`, `blocked`, `unit`). Who may call them (owners and managers; an API key with the "stays" scope) is
the caller's check, as with every service. A feed's URL carries the channel's secret: it is never put in an audit
row, a log line or a page after it is saved, only its host (`host_of`).

The sync itself (fetch, parse, book) is `bookings.feed_sync`, run by workers; these only ask for it, after commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from audit.services import audit
from bookings import calendar_export, fetch, ical
from bookings.models import CalendarFeed
from locks import queues
from locks.words import Words
from tenants.models import Actor, Stay, Unit, has_control_characters, user_of

MIN_EVERY_MINUTES = 5  # channels rate-limit their exports; more often than this gains nothing
MAX_EVERY_MINUTES = 1440
NAME_MAX = 100
URL_MAX = 2000


def host_of(url: str) -> str:
    """What a page may show of a feed's URL: its host. The path and query carry the channel's secret."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def clean_url(url: str | None, request_host: str = "") -> str:
    """The URL as it will be fetched: `webcal://` (what calendars hand out) read as https; refused in words, this
    installation's own export of a unit too (on PUBLIC_BASE_URL's host or `request_host`, the one the person used)."""
    value = (url or "").strip()
    if not value:
        raise ValidationError({"url": gettext("Paste the calendar's export link (it ends in .ics on most channels).")})
    if len(value) > URL_MAX:
        raise ValidationError({"url": gettext("Use a link of at most %(max)s characters.") % {"max": URL_MAX}})
    if has_control_characters(value) or " " in value:
        raise ValidationError({"url": gettext("A link has no spaces or line breaks: paste it again.")})
    parts = urlsplit(value)
    if parts.scheme.lower() == "webcal":
        value = urlunsplit(("https", *parts[1:]))
    if calendar_export.is_own_export(value, request_host):
        raise ValidationError({"url": ical.OWN_EXPORT_REFUSAL.text})
    refusal = fetch.url_refusal(value)
    if refusal:
        raise ValidationError({"url": refusal.text})
    return value


def clean_every_minutes(every_minutes: int | None) -> int:
    if every_minutes is None or not MIN_EVERY_MINUTES <= every_minutes <= MAX_EVERY_MINUTES:
        raise ValidationError(
            {
                "every_minutes": gettext("Read the feed every %(min)s to %(max)s minutes (a day).")
                % {"min": MIN_EVERY_MINUTES, "max": MAX_EVERY_MINUTES}
            }
        )
    return every_minutes


def clean_name(name: str | None) -> str:
    value = (name or "").strip()
    if len(value) > NAME_MAX:
        raise ValidationError({"name": gettext("Use at most %(max)s characters.") % {"max": NAME_MAX}})
    if has_control_characters(value):
        raise ValidationError({"name": gettext("Use one line of plain text, without line breaks or tabs.")})
    return value


def clean_blocked(blocked: str | None) -> str:
    if blocked not in CalendarFeed.Blocked.values:
        choices = ", ".join(f"{value} ({label})" for value, label in CalendarFeed.Blocked.choices)
        raise ValidationError(
            {
                "blocked": gettext("Choose how to treat dates the channel only blocks: %(choices)s.")
                % {"choices": choices}
            }
        )
    return str(blocked)


@contextmanager
def _collected(errors: dict[str, list[str]]) -> Iterator[None]:
    """Gather each field's ValidationError, so one refusal names every field that is wrong."""
    try:
        yield
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)


def _same_url_on_unit(unit: Unit, url: str, *, other_than: CalendarFeed | None = None) -> bool:
    """The URL is encrypted (with a random IV), so it is compared decrypted; a unit has a handful of feeds."""
    feeds = CalendarFeed.objects.filter(unit=unit)
    if other_than is not None:
        feeds = feeds.exclude(pk=other_than.pk)
    return any(feed.url == url for feed in feeds)


def _summary(feed: CalendarFeed) -> str:
    return f"{feed.name or host_of(feed.url)} ({host_of(feed.url)}) on {feed.unit}, every {feed.every_minutes} min"


def _enqueue_after_commit(feed_id: int) -> None:
    # A lost enqueue (Redis down) is only late: the periodic sync_due_feeds finds the feed by its next_sync_at.
    transaction.on_commit(lambda: queues.enqueue_feed_sync(feed_id))


@transaction.atomic
def add_feed(
    *,
    unit: Unit,
    url: str,
    name: str = "",
    every_minutes: int = 15,
    blocked: str = CalendarFeed.Blocked.IGNORE,
    actor: Actor,
    ip: str | None = None,
    request_host: str = "",
) -> CalendarFeed:
    """Add a feed to a unit and read it at once (after commit). The same URL twice on one unit is refused: it would
    book every stay twice, and it is what a form sent again looks like."""
    # The unit's row is locked so that two requests adding the same URL at once are checked one after the other.
    unit = Unit.objects.select_for_update().select_related("property__organisation").get(pk=unit.pk)
    errors: dict[str, list[str]] = {}
    with _collected(errors):
        url = clean_url(url, request_host)
    with _collected(errors):
        name = clean_name(name)
    with _collected(errors):
        every_minutes = clean_every_minutes(every_minutes)
    with _collected(errors):
        blocked = clean_blocked(blocked)
    if "url" not in errors and _same_url_on_unit(unit, url):
        errors["url"] = [f"{unit.name} already reads this calendar: change that feed instead of adding it again."]
    if errors:
        raise ValidationError(errors)
    feed = CalendarFeed.objects.create(
        organisation=unit.property.organisation,
        unit=unit,
        url=url,
        name=name,
        every_minutes=every_minutes,
        blocked=blocked,
        next_sync_at=timezone.now(),
        created_by=user_of(actor),
    )
    audit("feed.create", actor=actor, organisation=feed.organisation, obj=feed, summary=_summary(feed), ip=ip)
    _enqueue_after_commit(feed.pk)
    return feed


def _locked(feed: CalendarFeed) -> CalendarFeed:
    return CalendarFeed.objects.select_for_update().select_related("unit__property", "organisation").get(pk=feed.pk)


@transaction.atomic
def update_feed(
    feed: CalendarFeed,
    *,
    url: str | None = None,
    name: str | None = None,
    every_minutes: int | None = None,
    blocked: str | None = None,
    enabled: bool | None = None,
    actor: Actor,
    ip: str | None = None,
    request_host: str = "",
) -> CalendarFeed:
    """Change what is given (None: unchanged). A new URL or a new way with blocked dates is read again at once,
    from scratch (the stored validators and body hash are dropped, so even an unchanged body is applied again)."""
    feed = _locked(feed)
    errors: dict[str, list[str]] = {}
    reread = False
    if url is not None:
        with _collected(errors):
            cleaned = clean_url(url, request_host)
            if cleaned != feed.url:
                if _same_url_on_unit(feed.unit, cleaned, other_than=feed):
                    raise ValidationError(
                        {
                            "url": gettext("%(unit)s already reads this calendar in another feed.")
                            % {"unit": feed.unit.name}
                        }
                    )
                feed.url, reread = cleaned, True
    if name is not None:
        with _collected(errors):
            feed.name = clean_name(name)
    if every_minutes is not None:
        with _collected(errors):
            feed.every_minutes = clean_every_minutes(every_minutes)
    if blocked is not None:
        with _collected(errors):
            cleaned_blocked = clean_blocked(blocked)
            reread = reread or cleaned_blocked != feed.blocked
            feed.blocked = cleaned_blocked
    if errors:
        raise ValidationError(errors)
    if enabled is not None and enabled != feed.enabled:
        feed.enabled = enabled
        reread = reread or enabled
    if reread:
        feed.etag = feed.last_modified = feed.content_hash = ""
    if reread and feed.enabled:
        feed.next_sync_at = timezone.now()
    feed.save()
    state = "" if feed.enabled else " (paused)"
    audit("feed.update", actor=actor, organisation=feed.organisation, obj=feed, summary=_summary(feed) + state, ip=ip)
    if reread and feed.enabled:
        _enqueue_after_commit(feed.pk)
    return feed


@transaction.atomic
def remove_feed(feed: CalendarFeed, *, actor: Actor, ip: str | None = None) -> int:
    """Stop reading the feed and forget its events. The stays it booked are kept, with their codes: they are real
    bookings, which a person cancels if they are not. Returns how many open stays it had booked."""
    feed = _locked(feed)
    kept = (
        Stay.objects.filter(feed_events__feed=feed, status__in=[Stay.Status.BOOKED, Stay.Status.CHECKED_IN])
        .distinct()
        .count()
    )
    audit(
        "feed.delete",
        actor=actor,
        organisation=feed.organisation,
        obj=feed,
        summary=f"{_summary(feed)}; {kept} stay(s) it booked kept",
        ip=ip,
    )
    feed.delete()
    return kept


@transaction.atomic
def sync_now(feed: CalendarFeed, *, actor: Actor, ip: str | None = None) -> CalendarFeed:
    """Read the feed now rather than at its next time (a worker does it, after commit)."""
    feed = _locked(feed)
    if not feed.enabled:
        raise ValidationError(gettext("This feed is paused: resume it first."))
    feed.next_sync_at = timezone.now()
    feed.save(update_fields=["next_sync_at"])
    audit("feed.sync_now", actor=actor, organisation=feed.organisation, obj=feed, summary=_summary(feed), ip=ip)
    _enqueue_after_commit(feed.pk)
    return feed


# --- preview ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    summary: str
    starts_at: datetime
    ends_at: datetime
    kind: str  # FeedEvent.Kind
    outcome: str  # "book", "block", "cancel", "ignore", "conflict", "refuse"
    why: str = ""


@dataclass(frozen=True)
class Preview:
    """What a feed would do to a unit if saved now: nothing of it is written."""

    host: str
    rows: list[PreviewRow] = field(default_factory=list)
    problems: list[Words] = field(default_factory=list)  # shown in the active language

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def booked(self) -> int:
        return self.count("book")

    @property
    def blocked(self) -> int:
        return self.count("block")

    @property
    def cancelled(self) -> int:
        return self.count("cancel")

    @property
    def conflicts(self) -> int:
        return self.count("conflict")

    @property
    def refused(self) -> int:
        return self.count("refuse")

    @property
    def ignored(self) -> int:
        return self.count("ignore")


def _outcome(entry: ical.FeedEntry, blocked: str, now: datetime) -> tuple[str, str]:
    if entry.cancelled:
        return "cancel", gettext("Cancelled in the calendar: a stay it booked would be cancelled.")
    if entry.ends_at <= now:
        return "ignore", gettext("Already over.")
    if entry.kind == "blocked":
        if blocked == CalendarFeed.Blocked.BLOCK:
            return "block", gettext("Kept as an owner block: no stay, no code.")
        return "ignore", gettext("The channel only blocks these dates; this feed ignores such entries.")
    return "book", ""


def preview(url: str, unit: Unit, *, blocked: str = CalendarFeed.Blocked.IGNORE, request_host: str = "") -> Preview:
    """Fetch and read `url` as the unit's feed would, and say what it would book, block and cancel, without writing
    anything. Runs in the web request, not a worker, since the person waits for the answer: `fetch.fetch_feed` bounds
    it by its own deadline for the whole read (FEED_FETCH_TIMEOUT_SECONDS, 20 s, below gunicorn's 30 s) and its size
    cap (FEED_MAX_BYTES), and never follows a redirect to a private address, so a slow or huge calendar costs this
    one request, not the server."""
    url = clean_url(url, request_host)
    blocked = clean_blocked(blocked)
    prop = unit.property
    now = timezone.now()
    try:
        fetched = fetch.fetch_feed(url)
        parsed = ical.parse_feed(
            fetched.body, zone=prop.tz, check_in=prop.check_in_time, check_out=prop.check_out_time, now=now
        )
    except ical.FeedError as error:
        raise ValidationError({"url": error.words.text}) from error
    taken = list(
        Stay.objects.filter(
            unit=unit, status__in=[Stay.Status.BOOKED, Stay.Status.CHECKED_IN], check_out__gt=now
        ).values_list("check_in", "check_out")
    )
    has_lock = unit.locks.exists()  # as the sync decides: a unit without a lock books nothing (no door code)
    rows: list[PreviewRow] = []
    to_book: list[tuple[datetime, datetime]] = []
    for entry in sorted(parsed.entries, key=lambda e: (e.starts_at, e.uid)):
        outcome, why = _outcome(entry, blocked, now)
        if outcome == "book" and not has_lock:
            why = gettext("%(unit)s has no lock yet: attach one so that its bookings get door codes.")
            outcome, why = "refuse", why % {"unit": unit.name}
        if outcome == "book":  # blocks are kept as events, not stays: they overlap nothing
            overlaps = [(s, e) for s, e in taken + to_book if s < entry.ends_at and entry.starts_at < e]
            if overlaps:
                outcome, why = "conflict", gettext("Overlaps another booking of this unit: it would not be booked.")
            else:
                to_book.append((entry.starts_at, entry.ends_at))
        rows.append(
            PreviewRow(
                summary=entry.summary or entry.guest_name or gettext("Reservation"),
                starts_at=entry.starts_at,
                ends_at=entry.ends_at,
                kind=entry.kind,
                outcome=outcome,
                why=why,
            )
        )
    return Preview(host=host_of(url), rows=rows, problems=list(parsed.problems))
