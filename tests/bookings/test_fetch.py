"""bookings/fetch.py reads a calendar's URL over real HTTP (a server on 127.0.0.1): conditional GETs and 304s, at
most three redirects each checked again, a size and a time limit, and every failure in words."""

from __future__ import annotations

import pytest

from bookings.fetch import fetch_feed, url_refusal
from bookings.ical import FeedError
from tests.bookings.conftest import CalendarServer, calendar, event


def test_a_calendar_is_read_with_its_etag_and_then_not_modified(calendar_server: CalendarServer) -> None:
    body = calendar(event("a", 1, 3))
    stamp = {"Last-Modified": "Fri, 04 Dec 2026 10:00:00 GMT"}
    url = calendar_server.serve("/cal.ics", body, etag='"v1"', headers=stamp)
    first = fetch_feed(url)
    assert (first.not_modified, first.body, first.etag) == (False, body, '"v1"')
    assert first.last_modified == "Fri, 04 Dec 2026 10:00:00 GMT"
    again = fetch_feed(url, etag=first.etag, last_modified=first.last_modified)
    assert again.last_modified == first.last_modified  # the 304 did not repeat it: kept, not forgotten
    assert again.not_modified
    assert again.body == b""
    assert again.etag == '"v1"'
    sent = calendar_server.requests[-1][1]
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == first.last_modified


def test_redirects_are_followed_three_times_and_no_more(calendar_server: CalendarServer) -> None:
    body = calendar(event("a", 1, 3))
    calendar_server.serve("/final.ics", body)
    for hop in range(1, 5):
        target = "/final.ics" if hop == 1 else f"/hop{hop - 1}"
        calendar_server.serve(f"/hop{hop}", b"", status=302, headers={"Location": target})
    assert fetch_feed(calendar_server.url("/hop3")).body == body  # three redirects
    with pytest.raises(FeedError, match="redirected more than 3 times"):
        fetch_feed(calendar_server.url("/hop4"))


def test_a_redirect_to_something_not_http_is_refused(calendar_server: CalendarServer) -> None:
    url = calendar_server.serve("/away", b"", status=301, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FeedError, match="Enter a full http"):
        fetch_feed(url)


@pytest.mark.parametrize(
    ("status", "words"), [(500, "500 Internal Server Error"), (403, "403 Forbidden"), (404, "404 Not Found")]
)
def test_an_error_status_is_said_in_words(calendar_server: CalendarServer, status: int, words: str) -> None:
    url = calendar_server.serve("/broken.ics", b"oops", status=status)
    with pytest.raises(FeedError) as caught:
        fetch_feed(url)
    assert caught.value.message == f"The calendar server answered {words}."


def test_a_huge_body_is_stopped_at_the_limit(calendar_server: CalendarServer, settings) -> None:
    settings.FEED_MAX_BYTES = 1024 * 1024
    url = calendar_server.serve("/huge.ics", b"", repeat_bytes=50 * 1024 * 1024)  # no Content-Length: read and stop
    with pytest.raises(FeedError, match="larger than 1 MB"):
        fetch_feed(url)
    declared = calendar_server.serve("/declared.ics", b"x" * (2 * 1024 * 1024))  # a Content-Length says so at once
    with pytest.raises(FeedError, match="larger than 1 MB"):
        fetch_feed(declared)


def test_a_slow_server_runs_out_of_time(calendar_server: CalendarServer, settings) -> None:
    settings.FEED_FETCH_TIMEOUT_SECONDS = 0.5
    url = calendar_server.serve("/slow.ics", calendar(event("a", 1, 3)) * 4, drip_seconds=0.05)
    with pytest.raises(FeedError, match=r"within 0.5 s"):
        fetch_feed(url)


def test_an_unreachable_server_is_said_in_words() -> None:
    with pytest.raises(FeedError, match=r"Could not connect to 127.0.0.1 \(refused or unreachable\)"):
        fetch_feed("http://127.0.0.1:9/cal.ics")


def test_private_addresses_are_refused_when_the_setting_is_off(calendar_server: CalendarServer, settings) -> None:
    url = calendar_server.serve("/cal.ics", calendar(event("a", 1, 3)))
    settings.FEED_ALLOW_PRIVATE_URLS = False
    refusal = url_refusal(url)
    assert refusal is not None
    assert refusal.english == "127.0.0.1 is a private or local address; this server does not call those."
    assert url_refusal("https://localhost/cal.ics") is not None
    assert url_refusal("http://169.254.169.254/latest/meta-data") is not None  # the cloud's metadata address
    # Checked again where it connects (a name may resolve elsewhere by then): the request is never made.
    with pytest.raises(FeedError, match="127.0.0.1 is a private or local address"):
        fetch_feed(url)
    assert calendar_server.hits("/cal.ics") == 0
    settings.FEED_ALLOW_PRIVATE_URLS = True
    assert url_refusal(url) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "Paste the calendar's export"),
        ("webcal://calendar.google.com/calendar/ical/x/basic.ics", "replace webcal:// with https://"),
        ("ftp://example.com/cal.ics", "Enter a full http(s) URL"),
        ("not a url", "Enter a full http(s) URL"),
        ("https://user:secret@example.com/cal.ics", "Leave user names and passwords out"),
        ("https://example.com/" + "x" * 2000, "at most 2000 characters"),
    ],
)
def test_urls_that_are_not_http_are_refused_in_words(url: str, words: str) -> None:
    refusal = url_refusal(url)
    assert refusal is not None
    assert words in refusal.english
    with pytest.raises(FeedError, match=words.replace("(", r"\(").replace(")", r"\)")):
        fetch_feed(url)
