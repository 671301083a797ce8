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
OWN_EXPORT_REFUSAL = (
    "This is this app's own export of a unit's calendar; paste the link from Airbnb/Booking.com/Vrbo instead."
)

# How the channels write an owner's block or a closed date: not a guest.
BLOCKED_SUMMARY = re.compile(r"not available|unavailable|\bblocked\b|\bclosed\b", re.IGNORECASE)
# "Reserved - Jane D" (Vrbo), "Reserved" (Airbnb): the guest's name is what follows the word, if anything.
RESERVED_PREFIX = re.compile(r"^\s*(reserved|reservation|booked|booking)\b\s*[-:–—]?\s*", re.IGNORECASE)
PHONE_DIGITS = re.compile(r"phone[^:\n]*:\s*\+?([\d ]{3,20})", re.IGNORECASE)
RESERVATION_URL = re.compile(r"reservation url:\s*(https?://\S+)", re.IGNORECASE)
EMAIL_LINE = re.compile(r"e-?mail[^:\n]*:\s*([^\s@]+@[^\s@]+\.[^\s@]+)", re.IGNORECASE)


class FeedError(Exception):
    """The whole feed could not be read (or fetched); the message says why, in words for the feed's page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    problems: list[str] = field(default_factory=list)


RESERVATION = "reservation"
BLOCKED = "blocked"


def parse_feed(body: bytes, *, zone: ZoneInfo, check_in: time, check_out: time, now: datetime) -> ParsedFeed:
    """The feed's events in the window around `now`; FeedError when the body is not a whole calendar."""
    calendar = _calendar(body)
    problems: list[str] = []
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
        raise FeedError(f"The calendar's events could not be read ({type(error).__name__}).") from None
    listed = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        listed.append(f"… and {len(problems) - MAX_PROBLEMS} more problems.")
    return ParsedFeed(entries=sorted(entries.values(), key=lambda e: (e.starts_at, e.uid)), problems=listed)


def _add(entries: dict[str, FeedEntry], entry: FeedEntry | None, problems: list[str]) -> None:
    if entry is None or entries.get(entry.uid) == entry:
        return  # skipped, or read again in the next month it overlaps
    if entry.uid in entries:
        problems.append(f"Two events share the UID {_short(entry.uid)}: the second was skipped.")
        return
    if len(entries) >= MAX_ENTRIES:
        # Never cut: the bookings after the cut would look gone from the calendar, and be cancelled.
        raise FeedError(
            f"The calendar has more than {MAX_ENTRIES} events in the next two years (a repeat without end?): "
            "it was not read, and the unit's stays were left as they were."
        )
    entries[entry.uid] = entry


# --- the calendar as a whole --------------------------------------------------------------------------------------


def _calendar(body: bytes) -> icalendar.Calendar:
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text:
        raise FeedError("The calendar address answered with nothing at all.")
    head = text[:500].lower()
    if head.startswith("<") or "<html" in head or "<!doctype" in head:
        raise FeedError(
            "The calendar address answered with a web page (perhaps a sign-in page), not a calendar: "
            "copy the export (.ics) link again."
        )
    if not text.upper().startswith("BEGIN:VCALENDAR"):
        raise FeedError("The calendar address did not answer with an iCalendar file (it should begin BEGIN:VCALENDAR).")
    if "END:VCALENDAR" not in text.rstrip()[-200:].upper():
        raise FeedError("The calendar was cut off (it has no END:VCALENDAR): nothing was changed; it is tried again.")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as error:
        raise FeedError(f"The calendar could not be read: {_short(str(error))}") from None
    if not isinstance(calendar, icalendar.Calendar):
        raise FeedError("The calendar address did not answer with an iCalendar file.")
    if str(calendar.get("PRODID") or "").strip() == EXPORT_PRODID:
        # Reached by a name or a redirect the link check could not know as ours: refused all the same.
        raise FeedError(OWN_EXPORT_REFUSAL)
    return calendar


def _drop_unknown_calendar_zone(calendar: icalendar.Calendar, problems: list[str]) -> None:
    """Google's X-WR-TIMEZONE naming no zone we know: its floating times are read in the property's zone instead
    of failing the whole calendar."""
    name = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    if not name:
        return
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        del calendar["X-WR-TIMEZONE"]
        problems.append(f"The calendar's time zone {_short(name)!r} does not exist: its times were read in the "
                        "property's zone.")  # fmt: skip


def _drop_bad_events(calendar: icalendar.Calendar, reader: _Times, problems: list[str]) -> set[str]:
    """Take out the events no occurrence can come from (no UID, an unknown zone, ending before they start), each
    with its problem; returns the UIDs of repeating events (their occurrences get UIDs of their own)."""
    repeating: set[str] = set()
    seen: set[str] = set()
    for component in list(calendar.subcomponents):
        if getattr(component, "name", "") != "VEVENT":
            continue
        problem = _event_problem(component, reader)
        if problem:
            problems.append(problem)
            calendar.subcomponents.remove(component)
            continue
        uid = str(component.get("UID"))
        if component.get("RRULE") or component.get("RDATE") or component.get("RECURRENCE-ID") or uid in seen:
            repeating.add(uid)
        seen.add(uid)
    return repeating


def _event_problem(event: Any, reader: _Times) -> str:
    name = _describe(event)
    if not str(event.get("UID") or "").strip():
        return f"An event without a UID was skipped ({name}): nothing could follow it from one sync to the next."
    try:
        return _time_problem(event, reader, name)
    except (ValueError, TypeError, AttributeError, OverflowError):  # icalendar's broken values are ValueErrors
        return f"The event {name} was skipped: its dates could not be read."


def _time_problem(event: Any, reader: _Times, name: str) -> str:
    if any(_too_frequent(rule) for rule in _rules(event)):
        return f"The event {name} was skipped: it repeats more often than every hour, which no booking does."
    for key in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        value = event.get(key)
        zone_name = value.params.get("TZID") if value is not None else None
        if zone_name and isinstance(value.dt, datetime) and value.dt.tzinfo is None:
            return f"The event {name} was skipped: its time zone {_short(str(zone_name))!r} does not exist."
    start = event.get("DTSTART")
    if start is None or not isinstance(start.dt, (date, datetime)):
        return f"The event {name} was skipped: it has no start."
    end = event.get("DTEND")
    starts_at = reader.start(start.dt)
    if end is not None:
        if reader.end(end.dt) <= starts_at:
            return f"The event {name} was skipped: it ends before it starts."
    elif event.get("DURATION") is not None and event.get("DURATION").dt <= timedelta(0):
        return f"The event {name} was skipped: it ends before it starts."
    return ""


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


def _entry(event: Any, reader: _Times, repeating: set[str], problems: list[str]) -> FeedEntry | None:
    uid = str(event.get("UID")).strip()
    summary = " ".join(str(event.get("SUMMARY") or "").split())[:200]
    try:
        starts_at = reader.start(event.get("DTSTART").dt)
        end = event.get("DTEND")
        ends_at = reader.end(end.dt) if end is not None else starts_at
    except (AttributeError, TypeError, ValueError, OverflowError):
        problems.append(f"The event {_describe(event)} was skipped: its dates could not be read.")
        return None
    if ends_at <= starts_at:
        problems.append(f"The event {_describe(event)} was skipped: it ends before it starts.")
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


def _describe(event: Any) -> str:
    summary = " ".join(str(event.get("SUMMARY") or "").split())
    start = event.get("DTSTART")
    when = ""
    with contextlib.suppress(ValueError, AttributeError):  # a broken DTSTART: described by its summary alone
        if start is not None and isinstance(start.dt, (date, datetime)):
            when = start.dt.strftime("%Y-%m-%d")
    words = " ".join(part for part in (f"“{_short(summary, 60)}”" if summary else "", when) if part)
    return words or "(no summary)"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
