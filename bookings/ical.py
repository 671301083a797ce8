"""An iCalendar feed (Airbnb, Booking.com, Vrbo, Google, any .ics) read into entries a unit's stays can follow.

Plain reading, no database: `parse_feed` turns the body into `FeedEntry`s (recurrences expanded over a window,
all-day dates at the property's check-in and check-out times, in the property's zone) and the events it had to skip
into problems in words. A body that is no calendar at all (a sign-in page, a cut-off download) is a `FeedError`:
the sync then keeps every stay as it is.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
import x_wr_timezone
from django.utils.translation import gettext_noop

from locks.words import Words

# Expanded from a day back (a stay in progress is still in the feed) to two years ahead (channels open their
# calendars a year or two out).
WINDOW_BEFORE = timedelta(days=1)
WINDOW_AFTER = timedelta(days=730)
MAX_PROBLEMS = 20  # listed one by one; more are counted
MAX_ENTRIES = 5000  # a unit has a few hundred bookings in two years; past this a calendar is not a unit's
CHUNK = timedelta(days=30)  # the window is read a month at a time
MAX_PER_DAY = 24  # a rule repeating more often than hourly is no booking (and would expand to millions)
# What this app's own export of a unit (bookings/calendar_export.py) says it is. Read back as a feed it loops: each
# stay it shows returns as an overlap with itself, a double booking.
EXPORT_PRODID = "-//Doors//Unit calendar//EN"
NOT_A_CALENDAR = gettext_noop(
    "The calendar address did not answer with an iCalendar file (it should begin BEGIN:VCALENDAR)."
)
UNREADABLE_DATES = gettext_noop("The event %(event)s was skipped: its dates could not be read.")
ENDS_BEFORE_START = gettext_noop("The event %(event)s was skipped: it ends before it starts.")
OWN_EXPORT_REFUSAL = Words(
    gettext_noop(
        "This is this app's own export of a unit's calendar; paste the link from Airbnb/Booking.com/Vrbo instead."
    )
)

# How the channels write an owner's block or a closed date: not a guest.
BLOCKED_SUMMARY = re.compile(r"not available|unavailable|\bblocked\b|\bclosed\b", re.IGNORECASE)
# "Reserved - Jane D" (Vrbo), "Reserved" (Airbnb): the guest's name is what follows the word, if anything.
RESERVED_PREFIX = re.compile(r"^\s*(reserved|reservation|booked|booking)\b\s*[-:–—]?\s*", re.IGNORECASE)
PHONE_DIGITS = re.compile(r"phone[^:\n]*:\s*\+?([\d ]{3,20})", re.IGNORECASE)
RESERVATION_URL = re.compile(r"reservation url:\s*(https?://\S+)", re.IGNORECASE)
EMAIL_LINE = re.compile(r"e-?mail[^:\n]*:\s*([^\s@]+@[^\s@]+\.[^\s@]+)", re.IGNORECASE)


class FeedError(Exception):
    """The whole feed could not be read (or fetched); `words` say why, for the feed's page in its reader's language
    (`message`: in English, for logs and records)."""

    def __init__(self, words: Words) -> None:
        super().__init__(words.english)
        self.words = words
        self.message = words.english


@dataclass(frozen=True)
class FeedEntry:
    uid: str  # the event's UID; "UID#<occurrence>" for each occurrence of a repeating event
    kind: str  # "reservation" or "blocked"
    summary: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = False
    guest_name: str = ""
    phone_last_digits: str = ""
    reservation_url: str = ""
    email: str = ""


@dataclass(frozen=True)
class ParsedFeed:
    entries: list[FeedEntry] = field(default_factory=list)
    problems: list[Words] = field(default_factory=list)


RESERVATION = "reservation"
BLOCKED = "blocked"


def parse_feed(body: bytes, *, zone: ZoneInfo, check_in: time, check_out: time, now: datetime) -> ParsedFeed:
    """The feed's events in the window around `now`; FeedError when the body is not a whole calendar."""
    calendar = _calendar(body)
    problems: list[Words] = []
    reader = _Times(zone, check_in, check_out)
    _drop_unknown_calendar_zone(calendar, problems)
    repeating = _drop_bad_events(calendar, reader, problems)
    entries: dict[str, FeedEntry] = {}
    try:
        calendar = x_wr_timezone.to_standard(calendar)  # Google's calendar-wide zone onto its floating times
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        # A month at a time, so that a calendar of endless repeats stops at the limit instead of holding a worker
        # (the library's lazy `after` is quadratic in the number of events: 3 s for 300).
        chunk_start = now - WINDOW_BEFORE
        while chunk_start < now + WINDOW_AFTER:
            chunk_end = min(chunk_start + CHUNK, now + WINDOW_AFTER)
            for occurrence in query.between(chunk_start, chunk_end):
                _add(entries, _entry(occurrence, reader, repeating, problems), problems)
            chunk_start = chunk_end
    except FeedError:
        raise
    except Exception as error:  # noqa: BLE001  (the libraries raise many kinds on odd input: never crash a sync)
        why = Words(
            gettext_noop("The calendar's events could not be read (%(error)s)."), {"error": type(error).__name__}
        )
        raise FeedError(why) from None
    listed = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        listed.append(Words(gettext_noop("… and %(count)s more problems."), {"count": len(problems) - MAX_PROBLEMS}))
    return ParsedFeed(entries=sorted(entries.values(), key=lambda e: (e.starts_at, e.uid)), problems=listed)


def _add(entries: dict[str, FeedEntry], entry: FeedEntry | None, problems: list[Words]) -> None:
    if entry is None or entries.get(entry.uid) == entry:
        return  # skipped, or read again in the next month it overlaps
    if entry.uid in entries:
        problems.append(Words(gettext_noop("Two events share the UID %(uid)s: the second was skipped."),
                              {"uid": _short(entry.uid)}))  # fmt: skip
        return
    if len(entries) >= MAX_ENTRIES:
        # Never cut: the bookings after the cut would look gone from the calendar, and be cancelled.
        too_many = gettext_noop(
            "The calendar has more than %(count)s events in the next two years (a repeat without end?): it was not "
            "read, and the unit's stays were left as they were."
        )
        raise FeedError(Words(too_many, {"count": MAX_ENTRIES}))
    entries[entry.uid] = entry


# --- the calendar as a whole --------------------------------------------------------------------------------------


def _calendar(body: bytes) -> icalendar.Calendar:
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text:
        raise FeedError(Words(gettext_noop("The calendar address answered with nothing at all.")))
    head = text[:500].lower()
    if head.startswith("<") or "<html" in head or "<!doctype" in head:
        raise FeedError(
            Words(
                gettext_noop(
                    "The calendar address answered with a web page (perhaps a sign-in page), not a calendar: copy "
                    "the export (.ics) link again."
                )
            )
        )
    if not text.upper().startswith("BEGIN:VCALENDAR"):
        raise FeedError(Words(NOT_A_CALENDAR))
    if "END:VCALENDAR" not in text.rstrip()[-200:].upper():
        cut_off = gettext_noop(
            "The calendar was cut off (it has no END:VCALENDAR): nothing was changed; it is tried again."
        )
        raise FeedError(Words(cut_off))
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as error:
        unreadable = Words(gettext_noop("The calendar could not be read: %(error)s"), {"error": _short(str(error))})
        raise FeedError(unreadable) from None
    if not isinstance(calendar, icalendar.Calendar):
        raise FeedError(Words(NOT_A_CALENDAR))
    if str(calendar.get("PRODID") or "").strip() == EXPORT_PRODID:
        # Reached by a name or a redirect the link check could not know as ours: refused all the same.
        raise FeedError(OWN_EXPORT_REFUSAL)
    return calendar


def _drop_unknown_calendar_zone(calendar: icalendar.Calendar, problems: list[Words]) -> None:
    """Google's X-WR-TIMEZONE naming no zone we know: its floating times are read in the property's zone instead
    of failing the whole calendar."""
    name = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    if not name:
        return
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        del calendar["X-WR-TIMEZONE"]
        unknown = gettext_noop("The calendar's time zone “%(zone)s” does not exist: its times were read in the "
                               "property's zone.")  # fmt: skip
        problems.append(Words(unknown, {"zone": _short(name)}))


def _drop_bad_events(calendar: icalendar.Calendar, reader: _Times, problems: list[Words]) -> set[str]:
    """Take out the events no occurrence can come from (no UID, an unknown zone, ending before they start), each
    with its problem; returns the UIDs of repeating events (their occurrences get UIDs of their own)."""
    repeating: set[str] = set()
    seen: set[str] = set()
    for component in list(calendar.subcomponents):
        if getattr(component, "name", "") != "VEVENT":
            continue
        problem = _event_problem(component, reader)
        if problem is not None:
            problems.append(problem)
            calendar.subcomponents.remove(component)
            continue
        uid = str(component.get("UID"))
        if component.get("RRULE") or component.get("RDATE") or component.get("RECURRENCE-ID") or uid in seen:
            repeating.add(uid)
        seen.add(uid)
    return repeating


def _event_problem(event: Any, reader: _Times) -> Words | None:
    name = _describe(event)
    if not str(event.get("UID") or "").strip():
        no_uid = gettext_noop(
            "An event without a UID was skipped (%(event)s): nothing could follow it from one sync to the next."
        )
        return Words(no_uid, {"event": name})
    try:
        return _time_problem(event, reader, name)
    except (ValueError, TypeError, AttributeError, OverflowError):  # icalendar's broken values are ValueErrors
        return Words(UNREADABLE_DATES, {"event": name})


def _time_problem(event: Any, reader: _Times, name: Words) -> Words | None:
    if any(_too_frequent(rule) for rule in _rules(event)):
        too_often = gettext_noop(
            "The event %(event)s was skipped: it repeats more often than every hour, which no booking does."
        )
        return Words(too_often, {"event": name})
    for key in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        value = event.get(key)
        zone_name = value.params.get("TZID") if value is not None else None
        if zone_name and isinstance(value.dt, datetime) and value.dt.tzinfo is None:
            no_zone = gettext_noop("The event %(event)s was skipped: its time zone “%(zone)s” does not exist.")
            return Words(no_zone, {"event": name, "zone": _short(str(zone_name))})
    start = event.get("DTSTART")
    if start is None or not isinstance(start.dt, (date, datetime)):
        return Words(gettext_noop("The event %(event)s was skipped: it has no start."), {"event": name})
    end = event.get("DTEND")
    starts_at = reader.start(start.dt)
    if end is not None:
        if reader.end(end.dt) <= starts_at:
            return Words(ENDS_BEFORE_START, {"event": name})
    elif event.get("DURATION") is not None and event.get("DURATION").dt <= timedelta(0):
        return Words(ENDS_BEFORE_START, {"event": name})
    return None


def _rules(event: Any) -> list[Any]:
    rules = event.get("RRULE")
    return rules if isinstance(rules, list) else [rules] if rules is not None else []


def _too_frequent(rule: Any) -> bool:
    frequency = str((rule.get("FREQ") or [""])[0]).upper()
    if frequency in ("SECONDLY", "MINUTELY", "HOURLY"):
        return True
    per_day = 1
    for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        per_day *= max(len(rule.get(part) or []), 1)
    return per_day > MAX_PER_DAY


# --- one occurrence -----------------------------------------------------------------------------------------------


def _entry(event: Any, reader: _Times, repeating: set[str], problems: list[Words]) -> FeedEntry | None:
    uid = str(event.get("UID")).strip()
    summary = " ".join(str(event.get("SUMMARY") or "").split())[:200]
    try:
        starts_at = reader.start(event.get("DTSTART").dt)
        end = event.get("DTEND")
        ends_at = reader.end(end.dt) if end is not None else starts_at
    except (AttributeError, TypeError, ValueError, OverflowError):
        problems.append(Words(UNREADABLE_DATES, {"event": _describe(event)}))
        return None
    if ends_at <= starts_at:
        problems.append(Words(ENDS_BEFORE_START, {"event": _describe(event)}))
        return None
    if uid in repeating:
        occurrence = event.get("RECURRENCE-ID") or event.get("DTSTART")
        uid = f"{uid}#{_stamp(occurrence.dt)}"
    description = str(event.get("DESCRIPTION") or "")
    blocked = bool(BLOCKED_SUMMARY.search(summary))
    return FeedEntry(
        uid=uid[:500],
        kind=BLOCKED if blocked else RESERVATION,
        summary=summary,
        starts_at=starts_at,
        ends_at=ends_at,
        cancelled=str(event.get("STATUS") or "").strip().upper() == "CANCELLED",
        guest_name=guest_name_of(summary),
        phone_last_digits=_phone_digits(description),
        reservation_url=_reservation_url(event, description),
        email=_email(event, description),
    )


class _Times:
    """A DATE is a day at the property (check-in time on the first, check-out time on the last); a floating time
    is the property's wall clock; a zoned time stays the instant it is, shown in the property's zone."""

    def __init__(self, zone: ZoneInfo, check_in: time, check_out: time) -> None:
        self.zone, self.check_in, self.check_out = zone, check_in, check_out

    def start(self, value: date | datetime) -> datetime:
        return self._instant(value, self.check_in)

    def end(self, value: date | datetime) -> datetime:
        return self._instant(value, self.check_out)

    def _instant(self, value: date | datetime, day_time: time) -> datetime:
        if not isinstance(value, datetime):
            return datetime.combine(value, day_time, tzinfo=self.zone)
        if value.tzinfo is None:
            return value.replace(tzinfo=self.zone)
        return value.astimezone(self.zone)


def _stamp(value: date | datetime) -> str:
    if not isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
        return value.strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%dT%H%M%S")


def guest_name_of(summary: str) -> str:
    """Vrbo's "Reserved - Jane D" names the guest; Airbnb's bare "Reserved" and a blocked entry do not; any other
    summary (a Google calendar kept by hand) is taken as the name. The sync reads a stored summary with it too, to
    know the name the feed gave before."""
    if BLOCKED_SUMMARY.search(summary):
        return ""
    rest = RESERVED_PREFIX.sub("", summary, count=1).strip(" -–—:")
    return rest[:200]


def _phone_digits(description: str) -> str:
    match = PHONE_DIGITS.search(description)
    return match.group(1).replace(" ", "")[-4:] if match else ""


def _reservation_url(event: Any, description: str) -> str:
    match = RESERVATION_URL.search(description)
    if match:
        return match.group(1).rstrip(").,;")[:300]
    url = event.get("URL")
    return str(url)[:300] if url and str(url).startswith(("http://", "https://")) else ""


def _email(event: Any, description: str) -> str:
    attendees = event.get("ATTENDEE")
    for attendee in attendees if isinstance(attendees, list) else [attendees] if attendees else []:
        value = str(attendee)
        if value.lower().startswith("mailto:") and "@" in value:
            return value[len("mailto:") :].strip()[:254]
    match = EMAIL_LINE.search(description)
    return match.group(1).rstrip(".,;")[:254] if match else ""


def _describe(event: Any) -> Words:
    summary = " ".join(str(event.get("SUMMARY") or "").split())
    start = event.get("DTSTART")
    when = ""
    with contextlib.suppress(ValueError, AttributeError):  # a broken DTSTART: described by its summary alone
        if start is not None and isinstance(start.dt, (date, datetime)):
            when = start.dt.strftime("%Y-%m-%d")
    described = " ".join(part for part in (f"“{_short(summary, 60)}”" if summary else "", when) if part)
    return Words("%(event)s", {"event": described}) if described else Words(gettext_noop("(no summary)"))


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
