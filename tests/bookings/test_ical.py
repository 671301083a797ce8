"""bookings/ical.py reads the channels' calendars as they write them: Airbnb, Booking.com and Vrbo all-day events at
the property's check-in and check-out times, Google's X-WR-TIMEZONE and weekly repeats, folded lines, cancelled
events and TZIDs; broken events are skipped with a problem in words, and a body that is no calendar is a FeedError."""

from __future__ import annotations

import time as time_module
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bookings.ical import BLOCKED, RESERVATION, FeedError, parse_feed
from tests.bookings.conftest import ZONE, calendar, event, ics, today

AMSTERDAM = ZoneInfo(ZONE)


def parse(body: bytes, now: datetime | None = None):
    return parse_feed(body, zone=AMSTERDAM, check_in=time(15), check_out=time(11), now=now or timezone.now())


def at(offset: int, hour: int, zone: ZoneInfo = AMSTERDAM) -> datetime:
    return datetime.combine(today() + timedelta(days=offset), time(hour), tzinfo=zone)


def test_airbnb_reservation_and_blocks() -> None:
    parsed = parse(ics("airbnb.ics"))
    assert parsed.problems == []
    reserved, not_available, blocked = parsed.entries
    assert reserved.kind == RESERVATION
    assert (reserved.starts_at, reserved.ends_at) == (at(3, 15), at(6, 11))  # the property's times, its zone
    assert reserved.summary == "Reserved"
    assert reserved.guest_name == ""
    # The folded DESCRIPTION, unfolded: the reservation's link and the phone's last digits.
    assert reserved.reservation_url == "https://www.airbnb.com/hosting/reservations/details/HMABC12345"
    assert reserved.phone_last_digits == "1234"
    assert reserved.uid == "1418fb94e984-b2d9d0b5e7b8f2bd2d2e7b2b0a0d1a1e@airbnb.com"
    assert (not_available.summary, not_available.kind) == ("Airbnb (Not available)", BLOCKED)
    assert (blocked.summary, blocked.kind) == ("Not available", BLOCKED)


def test_booking_com_closed_dates_are_blocks() -> None:
    (closed,) = parse(ics("booking.ics")).entries
    assert (closed.kind, closed.summary) == (BLOCKED, "CLOSED - Not available")
    assert (closed.starts_at, closed.ends_at) == (at(8, 15), at(10, 11))


def test_vrbo_names_the_guest_and_blocks() -> None:
    reserved, blocked = parse(ics("vrbo.ics")).entries
    assert (reserved.kind, reserved.guest_name, reserved.email) == (RESERVATION, "Jane D", "jane.d@example.com")
    assert blocked.kind == BLOCKED
    assert blocked.guest_name == ""


def test_google_calendar_zone_timed_events_and_weekly_repeats() -> None:
    parsed = parse(ics("google.ics"))
    assert parsed.problems == []
    by_summary: dict[str, list] = {}
    for entry in parsed.entries:
        by_summary.setdefault(entry.summary, []).append(entry)
    (jan,) = by_summary["Jan Jansen"]
    lisbon = ZoneInfo("Europe/Lisbon")
    # Floating times in Google's calendar-wide zone (X-WR-TIMEZONE), not the property's.
    assert jan.starts_at == at(2, 14, lisbon)
    assert jan.ends_at == at(4, 10, lisbon)
    assert jan.starts_at.tzinfo == AMSTERDAM  # shown in the property's zone
    assert (jan.guest_name, jan.email) == ("Jan Jansen", "jan.jansen@example.com")  # from the folded ATTENDEE
    (grace,) = by_summary["Grace Hopper"]
    assert grace.starts_at == at(60, 9, ZoneInfo("America/New_York"))  # its own TZID wins
    weekly = by_summary["Weekly consultant"]
    assert [entry.starts_at for entry in weekly] == [at(50 + 7 * week, 16, lisbon) for week in range(3)]
    # Each occurrence has a UID of its own, stable from one read to the next.
    assert len({entry.uid for entry in weekly}) == 3
    assert all(entry.uid.startswith("weekly-consultant@google.com#") for entry in weekly)
    assert [e.uid for e in parse(ics("google.ics")).entries] == [e.uid for e in parsed.entries]


def test_folded_lines_are_unfolded() -> None:
    (entry,) = parse(ics("folded.ics")).entries
    assert entry.uid == "folded-event-with-a-rather-long-unique-identifier-that-goes-on-and-on@example.com"
    assert entry.guest_name == "Maximiliana Alexandrina von Hohenzollern-Sigmaringen of Bavaria"
    assert entry.phone_last_digits == "9876"


def test_a_cancelled_event_says_so() -> None:
    (entry,) = parse(ics("cancelled.ics")).entries
    assert entry.cancelled
    assert entry.guest_name == "Cancelled Carl"


def test_broken_events_are_skipped_with_words_and_the_rest_read() -> None:
    parsed = parse(ics("bad_events.ics"))
    assert [entry.uid for entry in parsed.entries] == ["good@example.com"]
    assert len(parsed.problems) == 3
    text = " ".join(problem.english for problem in parsed.problems)
    assert "An event without a UID was skipped" in text
    assert "No identifier" in text
    assert "“Backwards”" in text
    assert "ends before it starts" in text
    assert "Mars/Olympus_Mons" in text
    assert "does not exist" in text


def test_events_outside_the_window_are_left_out() -> None:
    body = calendar(event("past", -30, -20), event("yesterday", -3, 0), event("far", 800, 805), event("soon", 1, 2))
    uids = [entry.uid for entry in parse(body).entries]
    assert uids == ["yesterday", "soon"]  # still ending within the day before now: a stay in progress stays in


def test_a_timed_event_ending_before_it_starts_and_a_zero_length_one_are_skipped() -> None:
    body = calendar(
        f"UID:zero\nDTSTART:{today():%Y%m%d}T230000Z\nDTEND:{today():%Y%m%d}T230000Z\nSUMMARY:Zero",
        f"UID:same-day\nDTSTART;VALUE=DATE:{today() + timedelta(days=3):%Y%m%d}\n"
        f"DTEND;VALUE=DATE:{today() + timedelta(days=3):%Y%m%d}\nSUMMARY:Same day",
    )
    parsed = parse(body)
    assert parsed.entries == []
    assert len(parsed.problems) == 2
    assert all("ends before it starts" in p.english for p in parsed.problems)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "nothing at all"),
        (b"<!DOCTYPE html><html><body>Sign in to Airbnb</body></html>", "web page (perhaps a sign-in page)"),
        (b"\n\n  <html><head><title>Log in</title></head></html>", "web page"),
        (b'{"error": "not found"}', "did not answer with an iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VAL", "cut off"),
    ],
)
def test_a_body_that_is_no_calendar_is_a_feed_error_in_words(body: bytes, words: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse(body)
    assert words in caught.value.message


def test_a_truncated_real_export_is_refused_whole() -> None:
    body = ics("airbnb.ics")
    with pytest.raises(FeedError, match="cut off"):
        parse(body[: len(body) // 2])


def test_damaged_calendars_never_crash_the_reader() -> None:
    """Every line of every fixture damaged in turn (its value garbled, cut, or the line dropped): the reader answers
    entries and problems, or a FeedError in words, and nothing else."""
    damages = [
        lambda line: line.split(":", 1)[0] + ":garbage;;==\\",
        lambda line: line[: len(line) // 2],
        lambda line: "",
        lambda line: line.split(":", 1)[0] + ":99999999T999999",
        lambda line: line.split(":", 1)[0] + ";TZID=Nowhere/Atall:20301301T250000",
    ]
    tried = 0
    refusals: list[str] = []
    for name in ("airbnb.ics", "booking.ics", "vrbo.ics", "google.ics", "folded.ics", "bad_events.ics"):
        lines = ics(name).decode().split("\r\n")
        for index in range(len(lines)):
            for damage in damages:
                body = "\r\n".join([*lines[:index], damage(lines[index]), *lines[index + 1 :]]).encode()
                try:
                    parsed = parse(body)
                except FeedError as error:
                    refusals.append(error.message)
                else:
                    assert all(entry.ends_at > entry.starts_at for entry in parsed.entries)
                tried += 1
    assert tried > 500
    assert refusals  # some damage (a cut BEGIN or END line) makes no calendar at all
    assert all(refusals)


def test_a_repeat_every_minute_is_skipped_and_too_many_events_refused_whole() -> None:
    minutely = (
        f"UID:every-minute\nDTSTART:{today():%Y%m%d}T100000Z\nDTEND:{today():%Y%m%d}T100030Z\nRRULE:FREQ=MINUTELY"
    )
    parsed = parse(calendar(minutely, event("later", 10, 12)))
    assert [entry.uid for entry in parsed.entries] == ["later"]
    assert "repeats more often than every hour" in parsed.problems[0].english
    # Hourly for two years: 17,520 events. Cut at some count, the later bookings would look gone (and be
    # cancelled): the calendar is refused instead.
    hourly = "BYHOUR=" + ",".join(str(hour) for hour in range(24))
    every_hour = (
        f"UID:hourly\nDTSTART:{today():%Y%m%d}T000000Z\nDTEND:{today():%Y%m%d}T000030Z\nRRULE:FREQ=DAILY;{hourly}"
    )
    started = time_module.monotonic()
    with pytest.raises(FeedError, match="more than 5000 events"):
        parse(calendar(every_hour, event("later", 10, 12)))
    assert time_module.monotonic() - started < 10


def test_three_hundred_bookings_are_read_quickly() -> None:
    body = calendar(*(event(f"r{n}", 2 * n + 1, 2 * n + 2) for n in range(300)))
    started = time_module.monotonic()
    assert len(parse(body).entries) == 300
    assert time_module.monotonic() - started < 3  # about 0.2 s; the library's lazy reading took 15 s
