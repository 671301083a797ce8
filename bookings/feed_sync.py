"""Calendar feeds book, change and cancel a unit's stays by themselves (issue 14).

`sync_due_feeds` (periodic) hands each due feed to a worker once; `sync_feed` (the job) leases the feed, reads its
URL (bookings/fetch.py), reads the calendar (bookings/ical.py) and `apply_entries` makes the unit's stays follow it,
one `FeedEvent` per UID, through tenants' services (which audit each booking, change and cancel, and ask for the
door codes). The same body again (or a 304) changes nothing but the feed's own sync times.

What a feed never does: cut a stay short while the guest is in (a person is asked instead), book over another
feed's booking or a desk booking (a double booking is an alert), or touch a stay that is over. A feed that fails
keeps its stays; failing longer than the property's `feed_alert_after_hours` is an alert, resolved when it works.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.services import audit
from bookings import fetch, ical
from bookings.ical import FeedEntry, FeedError, ParsedFeed
from bookings.models import BookingPolicy, CalendarFeed, FeedEvent
from locks import alerts, queues, words
from locks.models import Alert, Lock
from locks.words import Moment, Words
from tenants import services
from tenants.models import Guest, Property, Stay, Unit

logger = logging.getLogger(__name__)

State = FeedEvent.State
OPEN = (Stay.Status.BOOKED, Stay.Status.CHECKED_IN)
LEASE = timedelta(minutes=15)  # longer than the job may run (its RQ timeout, 10 minutes): a first read books hundreds
DUE_BATCH = 2000  # feeds handed out per periodic run; the rest are next in due order a minute later
LONG_STAY = timedelta(days=28)  # from here on a rental's stay is a lease (Airbnb's "monthly stay")
# Channels stamp every export with the time it was made (DTSTAMP): left out of the body's hash, so that a calendar
# whose bookings have not changed reads as unchanged.
DTSTAMP_LINE = re.compile(rb"^DTSTAMP[;:][^\r\n]*\r?\n", re.MULTILINE | re.IGNORECASE)
AIRBNB_CODE = re.compile(r"/reservations/details/([A-Z0-9]+)", re.IGNORECASE)
CODE_IN_URL = re.compile(r"([A-Z0-9]{6,})/?(?:[?#].*)?$")
NOT_APPLIED = gettext_noop("The calendar could not be applied (an error on this server); it is tried again.")
ENDED_BEFORE_READ = gettext_noop("It ended before the calendar was read.")


@dataclass
class SyncResult:
    booked: int = 0
    changed: int = 0
    cancelled: int = 0
    conflicts: int = 0
    flagged: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        counts = [(self.booked, "booked"), (self.changed, "changed"), (self.cancelled, "cancelled")]
        counts += [(self.conflicts, "double bookings"), (self.flagged, "need a person"), (self.unchanged, "unchanged")]
        return ", ".join(f"{count} {words}" for count, words in counts if count) or "nothing to do"

    @property
    def wrote(self) -> bool:
        return bool(self.booked or self.changed or self.cancelled or self.conflicts or self.flagged)


# --- the periodic look-up and the job -----------------------------------------------------------------------------


def due_feed_ids(now: datetime | None = None) -> list[int]:
    """Enabled feeds whose time has come (never synced first), in due order: the `calendar_feed_due` index."""
    now = now or timezone.now()
    due = CalendarFeed.objects.filter(Q(next_sync_at__lte=now) | Q(next_sync_at__isnull=True), enabled=True)
    ordered = due.order_by(F("next_sync_at").asc(nulls_first=True), "pk")
    return list(ordered.values_list("pk", flat=True)[:DUE_BATCH])


def sync_due_feeds() -> int:
    """Periodic: one sync job per due feed; a feed whose job still waits gets none (its marker says so). Feeds whose
    double booking has been freed since are due first of all (`read_again_where_freed`)."""
    read_again_where_freed()
    return sum(queues.enqueue_feed_sync(feed_id) for feed_id in due_feed_ids())


def read_again_where_freed(now: datetime | None = None) -> int:
    """Feeds holding a double booking (a CONFLICT event, not booked) whose other side is gone read their calendar
    again from scratch, now: the reservation left standing gets booked and its alert resolved.

    Found here, by the periodic look-up, rather than told by whoever freed the time: stays are cancelled, moved and
    shortened in `tenants.services` (by the desk, the API, the admin), which sits below bookings and may not call it
    (docs/architecture.md), and there is no signal of stays to listen to; a look each minute also catches every way
    of freeing time at once, another feed's block gone included. A feed already waiting to be read from scratch (its
    hash dropped) is left to its own pace, so a failing feed is not read every minute. Returns how many feeds."""
    now = now or timezone.now()
    held = (
        FeedEvent.objects.filter(state=State.CONFLICT, ends_at__gt=now, feed__enabled=True)
        .exclude(feed__content_hash="")
        .select_related("feed__unit__property")
        .order_by("feed_id", "starts_at")[:DUE_BATCH]
    )
    freed: set[int] = set()
    for event in held:
        if event.feed_id not in freed and _overlap(event.feed, event.starts_at, event.ends_at) is None:
            freed.add(event.feed_id)
    if freed:
        CalendarFeed.objects.filter(pk__in=freed).update(content_hash="", etag="", last_modified="", next_sync_at=now)
    return len(freed)


@words.in_english
def sync_feed(feed_id: int) -> str:
    """The job: read one feed and make its unit's stays follow it. Safe to run twice (a lease on the feed)."""
    queues.clear_feed_sync_marker(feed_id)  # from here on, a new request gets a job of its own
    now = timezone.now()
    if not _claim(feed_id, now):
        return "busy or gone"
    feed = CalendarFeed.objects.select_related("unit__property", "organisation").get(pk=feed_id)
    try:
        fetched = fetch.fetch_feed(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        if fetched.not_modified:
            _record_success(feed, now, etag=fetched.etag, last_modified=fetched.last_modified)
            return "not modified"
        digest = content_hash(fetched.body)
        if digest == feed.content_hash:
            _record_success(feed, now, etag=fetched.etag, last_modified=fetched.last_modified)
            return "unchanged"
        prop = feed.unit.property
        parsed = ical.parse_feed(
            fetched.body, zone=prop.tz, check_in=prop.check_in_time, check_out=prop.check_out_time, now=now
        )
        _refuse_sudden_emptiness(feed, parsed, now)
        result = apply_entries(feed, parsed, now)
    except FeedError as error:
        _record_failure(feed, now, error.words)
        return f"failed: {error.message}"
    except Exception:
        # Never leave the lease held on a bug: record it in words (the log has the traceback) and let it retry.
        logger.exception("calendar feed %s: sync failed", feed_id)
        _record_failure(feed, now, Words(NOT_APPLIED))
        raise
    _record_success(
        feed,
        now,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        content=digest,
        events_found=len(parsed.entries),
        problems=parsed.problems,
    )
    if result.wrote:
        audit("feed.sync", organisation=feed.organisation, obj=feed, summary=f"Calendar feed {_label(feed)}: {result}")
    return str(result)


def content_hash(body: bytes) -> str:
    """The body's sha256, without the lines that say when the export was made (see DTSTAMP_LINE)."""
    return hashlib.sha256(DTSTAMP_LINE.sub(b"", body)).hexdigest()


def _claim(feed_id: int, now: datetime) -> bool:
    """Lease the feed to this worker: another sync of it (a second job, a sync-now) finds it taken and stops."""
    free = Q(sync_claimed_at__isnull=True) | Q(sync_claimed_at__lt=now - LEASE)
    return bool(CalendarFeed.objects.filter(free, pk=feed_id).update(sync_claimed_at=now))


def _refuse_sudden_emptiness(feed: CalendarFeed, parsed: ParsedFeed, now: datetime) -> None:
    """A calendar that suddenly lists nothing while stays it booked are still ahead is far likelier a channel's
    hiccup than every guest cancelling at once: fail (and alert if it lasts) rather than cancel them all."""
    if parsed.entries:
        return  # (a calendar whose every event was skipped as broken is just as suspicious)
    ahead = FeedEvent.objects.filter(feed=feed, state=State.BOOKED, stay__isnull=False, stay__check_in__gt=now)
    count = ahead.filter(stay__status__in=OPEN).count()
    if count:
        empty = gettext_noop(
            "The calendar came back empty while %(count)s of its bookings are still ahead: nothing was cancelled. "
            "Cancel them by hand if that is right."
        )
        raise FeedError(Words(empty, {"count": count}))


def _record_success(
    feed: CalendarFeed,
    now: datetime,
    *,
    etag: str,
    last_modified: str,
    content: str | None = None,
    events_found: int | None = None,
    problems: list[Words] | None = None,
) -> None:
    was_failing = feed.failing_since is not None
    feed.last_attempt_at = feed.last_success_at = now
    feed.next_sync_at = now + timedelta(minutes=feed.every_minutes)
    feed.sync_claimed_at = None
    feed.failing_since = None
    feed.etag, feed.last_modified = etag[:300], last_modified[:100]
    fields = ["last_attempt_at", "last_success_at", "next_sync_at", "sync_claimed_at", "failing_since", "etag"]
    fields += ["last_modified"]
    if content is not None:
        feed.content_hash = content
        feed.events_found = events_found or 0
        # On a working feed, last_error lists the events the last new body had to skip (a failing one: why it fails).
        feed.last_error, feed.last_error_words = words.columns(words.joined(problems) if problems else None)
        fields += ["content_hash", "events_found", "last_error", "last_error_words"]
    elif was_failing:
        feed.last_error, feed.last_error_words = words.columns(None)
        fields += ["last_error", "last_error_words"]
    feed.save(update_fields=fields)
    if was_failing:
        alerts.resolve_alert(organisation_id=feed.organisation_id, key=failing_key(feed), at=now)


def _record_failure(feed: CalendarFeed, now: datetime, why: Words) -> None:
    """Keep every stay; say why, since when; and once it has failed long enough, raise the alert (again each time:
    it counts the failed syncs)."""
    feed.last_attempt_at = now
    feed.failing_since = feed.failing_since or now
    feed.last_error, feed.last_error_words = words.columns(why)
    feed.next_sync_at = now + timedelta(minutes=feed.every_minutes)
    feed.sync_claimed_at = None
    fields = ["last_attempt_at", "failing_since", "last_error", "last_error_words", "next_sync_at", "sync_claimed_at"]
    feed.save(update_fields=fields)
    policy, _ = BookingPolicy.objects.get_or_create(property=feed.unit.property)
    if now - feed.failing_since < timedelta(hours=policy.feed_alert_after_hours):
        return
    since = Moment(feed.failing_since, feed.unit.property.time_zone)
    alerts.raise_alert(
        organisation_id=feed.organisation_id,
        kind=Alert.Kind.FEED_FAILING,
        key=failing_key(feed),
        message=gettext_noop("The calendar feed %(feed)s of %(unit)s has failed since %(since)s: %(error)s"),
        message_args={"feed": _label(feed), "unit": str(feed.unit), "since": since, "error": why},
        lock=_lock_of(feed.unit),
        at=now,
    )


def failing_key(feed: CalendarFeed) -> str:
    return f"feed-failing:{feed.pk}"


# --- making the stays follow the calendar -------------------------------------------------------------------------


def apply_entries(feed: CalendarFeed, parsed: ParsedFeed, now: datetime) -> SyncResult:
    """Book, change and cancel the unit's stays as the calendar says, one event (UID) at a time: what frees time
    first (cancellations, events gone), then changes of dates, then new bookings. Writes only what differs."""
    result = SyncResult()
    entries = parsed.entries
    if feed.blocked == CalendarFeed.Blocked.BOOK:
        # Booking.com exports every reservation as "CLOSED - Not available": on such a feed they are guests.
        entries = [replace(e, kind=ical.RESERVATION) if e.kind == ical.BLOCKED else e for e in entries]
    known = {event.uid: event for event in FeedEvent.objects.filter(feed=feed).select_related("stay")}
    present = {entry.uid: entry for entry in entries}
    for uid, known_event in known.items():
        entry = present.get(uid)
        if entry is None or entry.cancelled:
            _gone(feed, known_event, entry, now, result)
    for entry in entries:
        event = known.get(entry.uid)
        if entry.cancelled:
            if event is None:
                _save(feed, None, entry, now, state=State.CANCELLED)
            continue
        if event is not None and event.stay_id is not None and event.state in (State.BOOKED, State.NEEDS_ATTENTION):
            _follow(feed, event, entry, now, result)
        else:
            _place(feed, event, entry, now, result)
    # Seen again, unchanged: one statement for all of them (a new body only; the same body writes nothing).
    FeedEvent.objects.filter(feed=feed, uid__in=list(present)).exclude(last_seen_at__gte=now).update(last_seen_at=now)
    _note_phone_digits(feed, present)
    if result.cancelled or result.changed:
        _read_again_what_it_held_up(feed, now)
    return result


def _note_phone_digits(feed: CalendarFeed, present: dict[str, FeedEntry]) -> None:
    """Each event keeps the phone's last digits the calendar gives now (what a unit's arrival link asks the guest
    for): kept apart from the booking decisions, so that digits alone never count as a change of the stay."""
    for event in FeedEvent.objects.filter(feed=feed, uid__in=list(present)).only("pk", "uid", "phone_last_digits"):
        digits = present[event.uid].phone_last_digits
        if event.phone_last_digits != digits:
            FeedEvent.objects.filter(pk=event.pk).update(phone_last_digits=digits)


def _read_again_what_it_held_up(feed: CalendarFeed, now: datetime) -> None:
    """Time may have been freed (a cancel, a move): the unit's other feeds with a double booking read their
    calendar again (an unchanged body is otherwise not applied again), on their next run, which is now."""
    waiting = FeedEvent.objects.filter(state=State.CONFLICT).values("feed_id")
    CalendarFeed.objects.filter(unit_id=feed.unit_id, pk__in=waiting).exclude(pk=feed.pk).update(
        content_hash="", etag="", last_modified="", next_sync_at=now
    )


def _gone(feed: CalendarFeed, event: FeedEvent, entry: FeedEntry | None, now: datetime, result: SyncResult) -> None:
    """The event left the calendar, or says CANCELLED: a stay not begun is cancelled; a guest in is a person's
    call (never cut short); a stay that is over stays as it was."""
    if event.state in (State.CONFLICT, State.REFUSED):
        _resolve_conflicts(feed, event.uid, now)
        _update(event, now, state=State.CANCELLED, problem=None)
        result.cancelled += 1
        return
    if event.state != State.BOOKED:
        return  # ignored, cancelled already, or already waiting for a person
    stay = event.stay
    if stay is None:  # an owner block: no longer counts for overlaps
        if event.ends_at > now:
            _update(event, now, state=State.CANCELLED, problem=None)
            result.cancelled += 1
        return
    if not stay.is_open or stay.check_out <= now:
        return  # checked out, cancelled at the desk, or over: the feed has nothing more to say
    if stay.check_in > now:
        services.cancel_stay(stay)
        _update(event, now, state=State.CANCELLED, problem=None)
        result.cancelled += 1
        return
    if entry is not None:
        why = gettext_noop("The booking was cancelled in the calendar while the guest is in: the stay was kept; end it "
                           "by hand if so.")  # fmt: skip
    else:
        why = gettext_noop("The booking was gone from the calendar while the guest is in: the stay was kept; end it "
                           "by hand if so.")  # fmt: skip
    _flag(feed, event, now, Words(why))
    result.flagged += 1


def _follow(feed: CalendarFeed, event: FeedEvent, entry: FeedEntry, now: datetime, result: SyncResult) -> None:
    """A booked event read again: its stay follows new dates (its codes with it), unless the guest is in and the
    new dates would move the arrival or end the stay already."""
    stay = event.stay
    assert stay is not None
    if entry.summary != event.summary and stay.is_open and _follow_guest_name(feed, event, stay, entry):
        result.changed += 1
    same_dates = (entry.starts_at, entry.ends_at) == (event.starts_at, event.ends_at)
    if not stay.is_open or (same_dates and event.state == State.BOOKED):
        if event.summary != entry.summary:
            _update(event, now, summary=entry.summary)
        result.unchanged += 1
        return
    if same_dates:  # it came back while waiting for a person: it is a booking again
        alerts.resolve_alert(organisation_id=feed.organisation_id, key=attention_key(stay), at=now)
        _update(event, now, state=State.BOOKED, problem=None, summary=entry.summary)
        result.unchanged += 1
        return
    begun = stay.check_in <= now
    if entry.ends_at <= now or (begun and entry.starts_at > now):
        # The event keeps the dates its stay follows, so that the calendar going back to them ends the matter.
        when = _dates(entry.starts_at, entry.ends_at, feed.unit.property)
        moved = gettext_noop(
            "The calendar moved this stay to %(dates)s, which cannot be followed (the guest is in, or the new dates "
            "are past): the stay was kept as it was; change it by hand."
        )
        problem = Words(moved, {"dates": when})
        if event.state == State.NEEDS_ATTENTION and event.problem == words.columns(problem)[0]:
            result.unchanged += 1  # said already
        else:
            _flag(feed, event, now, problem)
            result.flagged += 1
        return
    check_in = stay.check_in if begun else entry.starts_at
    with transaction.atomic():
        Unit.objects.select_for_update().filter(pk=feed.unit_id).first()  # one booking decision per unit at a time
        overlap = _overlap(feed, entry.starts_at, entry.ends_at, exclude=stay)
        if overlap is not None:
            message, other = overlap
            new_dates = gettext_noop("New dates %(dates)s. %(overlap)s: the stay keeps its dates.")
            problem = Words(new_dates, {"dates": _dates(entry.starts_at, entry.ends_at, feed.unit.property),
                                        "overlap": message})  # fmt: skip
            if event.problem != words.columns(problem)[0]:
                _update(event, now, problem=problem)
                not_moved = Words(gettext_noop("was not moved. %(problem)s"), {"problem": problem})
                _double_booking(feed, entry, other, not_moved, now)
            result.conflicts += 1
            return
        try:
            services.change_stay(stay, check_in=check_in, check_out=entry.ends_at)
        except ValidationError as error:
            unfollowed = gettext_noop("The new dates could not be followed: %(refusal)s")
            problem = Words(unfollowed, {"refusal": words.of_error(error)})
            if event.problem != words.columns(problem)[0]:
                _update(event, now, problem=problem)
            result.conflicts += 1
            return
    if event.state == State.NEEDS_ATTENTION:  # the calendar settled on dates that can be followed after all
        alerts.resolve_alert(organisation_id=feed.organisation_id, key=attention_key(stay), at=now)
    if event.problem:
        _resolve_conflicts(feed, entry.uid, now)
    _update(event, now, state=State.BOOKED, problem=None, summary=entry.summary, starts_at=entry.starts_at,
            ends_at=entry.ends_at)  # fmt: skip
    result.changed += 1


def _place(
    feed: CalendarFeed, event: FeedEvent | None, entry: FeedEntry, now: datetime, result: SyncResult
) -> None:  # fmt: skip
    """An event with no stay yet (new, or refused, in conflict or cancelled before): a block, or a booking."""
    if entry.kind == ical.BLOCKED:
        if entry.ends_at <= now and event is None:
            _save(feed, event, entry, now, state=State.IGNORED, problem=Words(ENDED_BEFORE_READ))
        elif entry.ends_at > now:
            blocks = feed.blocked == CalendarFeed.Blocked.BLOCK
            was_booked = event is not None and event.state == State.BOOKED
            if not _save(feed, event, entry, now, state=State.BOOKED if blocks else State.IGNORED):
                result.unchanged += int(event is not None)
            elif blocks:
                result.changed += int(was_booked)
                result.booked += int(not was_booked)
        else:
            result.unchanged += int(event is not None)
        return
    if entry.ends_at <= now:
        if event is None:
            _save(feed, None, entry, now, state=State.IGNORED, problem=Words(ENDED_BEFORE_READ))
        else:
            result.unchanged += 1
        return
    unit = feed.unit
    if not unit.locks.exists():
        no_lock = gettext_noop("%(unit)s has no lock: attach a lock so that its bookings get door codes.")
        _refused(feed, event, entry, now, Words(no_lock, {"unit": str(unit)}), result)
        return
    with transaction.atomic():
        Unit.objects.select_for_update().filter(pk=unit.pk).first()  # one booking decision per unit at a time
        overlap = _overlap(feed, entry.starts_at, entry.ends_at)
        if overlap is not None:
            message, other = overlap
            if _save(feed, event, entry, now, state=State.CONFLICT, problem=message):
                not_booked = Words(gettext_noop("was not booked. %(overlap)s."), {"overlap": message})
                _double_booking(feed, entry, other, not_booked, now)
            result.conflicts += 1
            return
        try:
            with transaction.atomic():
                stay = services.book_stay(
                    unit=unit,
                    guest=_new_guest(feed, entry),
                    check_in=entry.starts_at,
                    check_out=entry.ends_at,
                    kind=_stay_kind(unit.property, entry),
                )
        except ValidationError as error:
            refused = Words(gettext_noop("Not booked: %(refusal)s"), {"refusal": words.of_error(error)})
            _refused(feed, event, entry, now, refused, result)
            return
        _resolve_conflicts(feed, entry.uid, now)
        _save(feed, event, entry, now, state=State.BOOKED, stay=stay)
    result.booked += 1


def _refused(
    feed: CalendarFeed, event: FeedEvent | None, entry: FeedEntry, now: datetime, problem: Words, result: SyncResult
) -> None:  # fmt: skip
    """Not booked, for a reason a person can fix (a lock to attach, a hotel room taken): counted with those that
    need a person when it is new, and unchanged after that."""
    if _save(feed, event, entry, now, state=State.REFUSED, problem=problem):
        result.flagged += 1
    else:
        result.unchanged += 1


# --- overlaps -----------------------------------------------------------------------------------------------------


def _overlap(
    feed: CalendarFeed, start: datetime, end: datetime, *, exclude: Stay | None = None
) -> tuple[Words, str] | None:
    """What the time from `start` to `end` would double-book: another feed's booking or owner block of the unit, or
    a stay of the unit this feed did not make (a desk booking); in words, and the other side's key. None when free."""
    prop = feed.unit.property
    blocks = FeedEvent.objects.filter(
        feed__unit_id=feed.unit_id, state=State.BOOKED, stay__isnull=True, starts_at__lt=end, ends_at__gt=start
    ).exclude(feed_id=feed.pk)
    block = blocks.select_related("feed").order_by("starts_at", "pk").first()
    if block is not None:
        when = _dates(block.starts_at, block.ends_at, prop)
        return Words(
            gettext_noop("It overlaps %(feed)s's block %(dates)s"), {"feed": _label(block.feed), "dates": when}
        ), f"event:{block.pk}"
    stays = Stay.objects.filter(unit_id=feed.unit_id, status__in=OPEN, check_in__lt=end, check_out__gt=start)
    stays = stays.exclude(pk__in=FeedEvent.objects.filter(feed=feed, stay__isnull=False).values("stay_id"))
    if exclude is not None:
        stays = stays.exclude(pk=exclude.pk)
    stay = stays.select_related("guest").order_by("check_in", "pk").first()
    if stay is None:
        return None
    when = _dates(stay.check_in, stay.check_out, prop)
    other = FeedEvent.objects.filter(stay=stay).select_related("feed").first()
    if other is not None:
        overlaps = Words(
            gettext_noop("It overlaps %(feed)s's booking %(dates)s"), {"feed": _label(other.feed), "dates": when}
        )
        return overlaps, f"stay:{stay.pk}"
    desk = gettext_noop("It overlaps %(guest)s's stay %(dates)s, booked at the desk")
    return Words(desk, {"guest": str(stay.guest), "dates": when}), f"stay:{stay.pk}"


def _double_booking(feed: CalendarFeed, entry: FeedEntry, other: str, what_happened: Words, now: datetime) -> None:
    alerts.raise_alert(
        organisation_id=feed.organisation_id,
        kind=Alert.Kind.DOUBLE_BOOKING,
        key=f"{_conflict_prefix(feed, entry.uid)}{other}",
        message=gettext_noop("Double booking in %(unit)s: %(feed)s's “%(entry)s” %(what)s"),
        message_args={
            "unit": str(feed.unit),
            "feed": _label(feed),
            "entry": entry.summary or entry.uid,
            "what": what_happened,
        },
        lock=_lock_of(feed.unit),
        at=now,
        add=0,
    )


def _conflict_prefix(feed: CalendarFeed, uid: str) -> str:
    """One alert per pair (this feed's event, the other booking): keys start with the event's part."""
    return f"double-booking:{feed.pk}:{hashlib.sha256(uid.encode()).hexdigest()[:16]}:"


def _resolve_conflicts(feed: CalendarFeed, uid: str, now: datetime) -> None:
    prefix = _conflict_prefix(feed, uid)
    open_keys = Alert.objects.filter(
        organisation_id=feed.organisation_id, dedup_key__startswith=prefix, resolved_at__isnull=True
    ).values_list("dedup_key", flat=True)
    for key in list(open_keys):
        alerts.resolve_alert(organisation_id=feed.organisation_id, key=key, at=now)


# --- a person's call ----------------------------------------------------------------------------------------------


def attention_key(stay: Stay) -> str:
    return f"feed-stay-attention:{stay.pk}"


def _flag(feed: CalendarFeed, event: FeedEvent, now: datetime, problem: Words) -> None:
    """The stay is kept as it is; the event waits for a person, and an alert says so once."""
    stay = event.stay
    assert stay is not None
    _update(event, now, state=State.NEEDS_ATTENTION, problem=problem)
    alerts.raise_alert(
        organisation_id=feed.organisation_id,
        kind=Alert.Kind.STAY_NEEDS_ATTENTION,
        key=attention_key(stay),
        message=gettext_noop("%(guest)s in %(unit)s (%(feed)s): %(problem)s"),
        message_args={"guest": str(stay.guest), "unit": str(stay.unit), "feed": _label(feed), "problem": problem},
        lock=_lock_of(feed.unit),
        at=now,
        add=0,
    )


# --- rows ---------------------------------------------------------------------------------------------------------


def _save(
    feed: CalendarFeed,
    event: FeedEvent | None,
    entry: FeedEntry,
    now: datetime,
    *,
    state: str,
    problem: Words | None = None,
    stay: Stay | None = None,
) -> bool:
    """Create the event's row, or bring it to what the entry says; True when anything was written."""
    values = {
        "kind": entry.kind,
        "summary": entry.summary[:200],
        "starts_at": entry.starts_at,
        "ends_at": entry.ends_at,
        "state": state,
        "problem": problem,
        "stay": stay,  # None for an event placed again after its stay was cancelled: that stay is history
    }
    if event is None:
        FeedEvent.objects.create(feed=feed, uid=entry.uid, last_seen_at=now, **_problem_fields(values))
        return True
    return _update(event, now, **values)


def _update(event: FeedEvent, now: datetime, **values: object) -> bool:
    values = _problem_fields(values)
    changed = [name for name, value in values.items() if getattr(event, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(event, name, values[name])
    event.last_seen_at = now
    event.save(update_fields=[*changed, "last_seen_at"])
    return True


def _problem_fields(values: dict[str, object]) -> dict[str, object]:
    """A problem (Words or None) as its two columns: English for comparing and records, Words for the pages."""
    if "problem" not in values:
        return values
    problem = values["problem"]
    assert problem is None or isinstance(problem, Words)
    english, stored = words.columns(problem)
    return {**values, "problem": english, "problem_words": stored}


def _follow_guest_name(feed: CalendarFeed, event: FeedEvent, stay: Stay, entry: FeedEntry) -> bool:
    """The calendar names the guest differently now ("Reserved" became "Reserved - Jane D", Vrbo corrected a name):
    the stay's guest takes the new name, but only a guest this feed made and nobody renamed since. Nothing records a
    person's edit of a guest, so the guest's name must still be the one the feed gave before (read from the event's
    stored summary as it was read then), the guest none that a person added (`created_by`) and on no other stay."""
    guest = stay.guest
    before = _guest_name(feed, replace(entry, summary=event.summary, guest_name=ical.guest_name_of(event.summary),
                                       starts_at=event.starts_at))  # fmt: skip
    now_named = _guest_name(feed, entry)
    if now_named == before or guest.name != before or guest.created_by_id is not None:
        return False
    if Stay.objects.filter(guest=guest).exclude(pk=stay.pk).exists():
        return False  # the desk found this guest again for a stay of its own: the name is theirs too
    guest.name = now_named
    try:
        guest.full_clean()
    except ValidationError:
        guest.name = before
        return False  # a name our rules refuse: the guest keeps the one they have
    # Only if nobody renamed them while this sync ran.
    if not Guest.objects.filter(pk=guest.pk, name=before).update(name=now_named):
        return False
    summary = f"{before} → {now_named}, as the calendar feed {_label(feed)} now names the guest of stay {stay.pk}"
    audit("guest.rename", organisation=feed.organisation, obj=guest, summary=summary)
    return True


def _guest_name(feed: CalendarFeed, entry: FeedEntry) -> str:
    return (entry.guest_name or _anonymous_name(feed, entry))[:200]


def _new_guest(feed: CalendarFeed, entry: FeedEntry) -> Guest:
    """The guest as the calendar names them; the channel's few details (the phone's last digits, the reservation's
    link) in the notes, where the desk reads them."""
    notes = [f"Booked from the calendar feed {_label(feed)}."]
    if entry.phone_last_digits:
        notes.append(f"Phone number ends in {entry.phone_last_digits}.")
    if entry.reservation_url:
        notes.append(f"Reservation: {entry.reservation_url}")
    email = entry.email
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    guest = Guest(
        organisation_id=feed.organisation_id,
        name=_guest_name(feed, entry),
        email=email,
        notes="\n".join(notes),
    )
    guest.full_clean()
    guest.save()
    return guest


def _anonymous_name(feed: CalendarFeed, entry: FeedEntry) -> str:
    """Airbnb's "Reserved" names nobody: the reservation's code names the guest ("Airbnb guest HMABC123"), or else
    the feed and the arrival date."""
    label = _label(feed)
    airbnb = AIRBNB_CODE.search(entry.reservation_url)
    if airbnb:
        return f"Airbnb guest {airbnb.group(1).upper()}"
    code = CODE_IN_URL.search(entry.reservation_url)
    if code:
        return f"{label} guest {code.group(1)}"
    return f"{label} guest {entry.starts_at.astimezone(feed.unit.property.tz):%Y-%m-%d}"


def _stay_kind(prop: Property, entry: FeedEntry) -> str:
    """Hotel stays, except a rental booked for four weeks or more: a lease."""
    if prop.kind == Property.Kind.RENTAL and entry.ends_at - entry.starts_at >= LONG_STAY:
        return Stay.Kind.LONG_TERM
    return Stay.Kind.HOTEL


def _lock_of(unit: Unit) -> Lock | None:
    """Alerts go on a lock of the unit when it has one, so that a desk limited to the property sees them."""
    return unit.locks.order_by("pk").first()


def _label(feed: CalendarFeed) -> str:
    return feed.name or urlsplit(feed.url).hostname or "calendar"


def _dates(start: datetime, end: datetime, prop: Property) -> Words:
    return Words("%(start)s → %(end)s", {"start": Moment(start, prop.time_zone), "end": Moment(end, prop.time_zone)})
