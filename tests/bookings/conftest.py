"""Fixtures for calendar feeds: a real calendar server on 127.0.0.1 (an http.server in a thread that answers each
path as told: a body with an ETag and 304s, a redirect, an error, a slow or enormous answer), the fixture calendars
of tests/bookings/feeds/ with their dates relative to today, and a rental unit with a lock."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from bookings.models import CalendarFeed
from locks.models import Lock
from tenants.models import Organisation, Property, Unit
from tests.locks.conftest import (  # noqa: F401  (fixtures, found by pytest through this module)
    account,
    make_lock,
    org,
    queues,
    sim_url,
    unit,
    world,
)
from tests.tenants.conftest import offline_lock

FEEDS = Path(__file__).parent / "feeds"
ZONE = "Europe/Amsterdam"
TOKEN = re.compile(r"\{\{([+-]\d+|stamp)\}\}")


def today() -> date:
    return timezone.now().astimezone(Property(time_zone=ZONE).tz).date()


def day(offset: int) -> str:
    """The date `offset` days from today at the property, as iCalendar writes a DATE."""
    return (today() + timedelta(days=offset)).strftime("%Y%m%d")


def ics(name: str, *, stamp: datetime | None = None) -> bytes:
    """A fixture calendar with its {{+N}} days filled in (and DTSTAMP, the export's time), lines ended CRLF."""
    text = (FEEDS / name).read_text(encoding="utf-8")
    moment = (stamp or timezone.now()).strftime("%Y%m%dT%H%M%SZ")
    text = TOKEN.sub(lambda match: moment if match.group(1) == "stamp" else day(int(match.group(1))), text)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def calendar(*events: str) -> bytes:
    """A calendar of the given VEVENT bodies (each a few property lines)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Doors tests//EN"]
    for event in events:
        lines += ["BEGIN:VEVENT", *event.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def event(uid: str, start: int, end: int, summary: str = "Reserved", *extra: str) -> str:
    """An all-day event from `start` to `end` days from today."""
    return "\n".join([f"UID:{uid}", f"DTSTART;VALUE=DATE:{day(start)}", f"DTEND;VALUE=DATE:{day(end)}",
                      f"SUMMARY:{summary}", *extra])  # fmt: skip


def timed(uid: str, start: datetime, end: datetime, summary: str = "Reserved") -> str:
    """An event between two instants (written in UTC)."""
    return f"UID:{uid}\nDTSTART:{start:%Y%m%dT%H%M%SZ}\nDTEND:{end:%Y%m%dT%H%M%SZ}\nSUMMARY:{summary}"


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    etag: str = ""  # set: a request with this If-None-Match gets a 304
    headers: dict[str, str] = field(default_factory=dict)
    drip_seconds: float = 0.0  # wait this long between pieces of the body
    repeat_bytes: int = 0  # set: an endless-looking body of this many bytes, streamed without a Content-Length


@dataclass
class CalendarServer:
    base: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, body: bytes, **options: Any) -> str:
        self.answers[path] = Answer(body=body, **options)
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for requested, _ in self.requests if requested == path)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on purpose (a body over its limit, a timeout) is no error here


@pytest.fixture
def calendar_server() -> Iterator[CalendarServer]:
    state = CalendarServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            answer = state.answers.get(self.path, Answer(body=b"not here", status=404))
            if answer.etag and self.headers.get("If-None-Match") == answer.etag:
                self.send_response(304)
                self.send_header("ETag", answer.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.etag:
                self.send_header("ETag", answer.etag)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            if answer.repeat_bytes:
                self.send_header("Connection", "close")
                self.end_headers()
                piece = b"X" * 65536
                try:
                    for _ in range(answer.repeat_bytes // len(piece) + 1):
                        self.wfile.write(piece)
                except OSError:
                    pass  # the client stopped reading: that is the point
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if answer.drip_seconds:
                try:
                    for index in range(0, len(answer.body), 16):
                        self.wfile.write(answer.body[index : index + 16])
                        self.wfile.flush()
                        time.sleep(answer.drip_seconds)
                except OSError:
                    pass
                return
            with contextlib.suppress(OSError):  # the client gave up (a body over its limit)
                self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _feeds_may_read_the_test_server(settings: Any) -> None:
    settings.FEED_ALLOW_PRIVATE_URLS = True  # the calendar server is on 127.0.0.1; tests that refuse it turn it off


@pytest.fixture
def rental(org: Organisation) -> Unit:  # noqa: F811
    prop = Property.objects.create(organisation=org, name="Canal Flats", kind=Property.Kind.RENTAL, time_zone=ZONE)
    return Unit.objects.create(property=prop, name="Flat 2")


@pytest.fixture
def flat_lock(org: Organisation, rental: Unit) -> Lock:  # noqa: F811
    return offline_lock(org, rental, name="Flat 2 door")


@pytest.fixture
def make_feed(org: Organisation, rental: Unit) -> Callable[..., CalendarFeed]:  # noqa: F811
    def make(url: str, name: str = "Airbnb", **extra: Any) -> CalendarFeed:
        options: dict[str, Any] = {"organisation": org, "unit": rental, "name": name, "url": url, **extra}
        return CalendarFeed.objects.create(**options)

    return make
