"""What the Calendar feeds page and API tests stand on: a calendar server on 127.0.0.1 (an http.server in a thread
serving what the test puts in it), iCalendar bodies made from dates relative to today, and the members who look.
Each test module makes its fixtures from these (kept out of conftest.py, which the feed-core tests share)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import django_rq
import redis
from django.test import Client
from django.utils import timezone
from rq.serializers import JSONSerializer

from locks.workers import DjangoSimpleWorker
from tenants.models import Membership, Organisation, Property, Unit
from tests.tenants.conftest import offline_lock


def day(offset: int) -> date:
    return timezone.localdate() + timedelta(days=offset)


def vevent(uid: str, start: int, end: int, summary: str = "Reserved", *, status: str = "") -> str:
    lines = [
        "BEGIN:VEVENT",
        f"DTSTAMP:{timezone.now():%Y%m%dT%H%M%SZ}",
        f"DTSTART;VALUE=DATE:{day(start):%Y%m%d}",
        f"DTEND;VALUE=DATE:{day(end):%Y%m%d}",
        f"UID:{uid}",
        f"SUMMARY:{summary}",
    ]
    if summary == "Reserved":
        lines.append(
            f"DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HM{uid[:6].upper()}"
        )
    if status:
        lines.append(f"STATUS:{status}")
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


def calendar(*events: str) -> bytes:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nCALSCALE:GREGORIAN\r\n"
    return (head + "".join(e + "\r\n" for e in events) + "END:VCALENDAR\r\n").encode()


# Two reservations and a blocked stretch, all ahead.
SMALL = calendar(
    vevent("res-one-1a2b", 3, 6),
    vevent("res-two-3c4d", 8, 10),
    vevent("blocked-5e6f", 12, 15, "Airbnb (Not available)"),
)


@dataclass
class CalendarServer:
    base: str
    bodies: dict[str, bytes] = field(default_factory=dict)  # path -> body; anything else is a 404
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def calendar_server() -> Iterator[CalendarServer]:
    """Serves `bodies` on 127.0.0.1 (FEED_ALLOW_PRIVATE_URLS must be on) until the block ends."""
    state = CalendarServer(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            body = state.bodies.get(self.path.split("?")[0])
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Place:
    org: Organisation
    prop: Property
    unit: Unit
    other_prop: Property
    other_unit: Unit


def make_place() -> Place:
    org = Organisation.objects.create(name="Canal Hotel", slug="canal")
    prop = Property.objects.create(organisation=org, name="Canal House", time_zone="Europe/Amsterdam")
    unit = Unit.objects.create(property=prop, name="Flat 1")
    other_prop = Property.objects.create(organisation=org, name="Harbour House", time_zone="Europe/Amsterdam")
    other_unit = Unit.objects.create(property=other_prop, name="Loft 9")
    for room in (unit, other_unit):  # a unit without a lock books no stay from a feed (nothing would open the door)
        offline_lock(org, room)
    return Place(org, prop, unit, other_prop, other_unit)


def member_client(
    org: Organisation, role: str, django_user_model: Any, *, only: list[Property] | None = None
) -> Client:
    user = django_user_model.objects.create_user(f"{role}-{org.slug}-{Membership.objects.count()}", password="pw-x-123")
    membership = Membership.objects.create(user=user, organisation=org, role=role)
    if only is not None:
        membership.limit_to(only)
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def run_sync_jobs() -> None:
    """Run the queued feed syncs as a worker of the `sync` queue does, in this process. The door codes they issue
    stay queued: these locks' cloud is never called."""
    queue = django_rq.get_queue("sync")
    worker = DjangoSimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer)
    worker.work(burst=True)


@contextmanager
def empty_queues(redis_url: str) -> Iterator[None]:
    """Empty queues (and markers) before and after, as tests/locks/conftest.py's `queues` does."""
    redis.Redis.from_url(redis_url).flushdb()
    yield
    redis.Redis.from_url(redis_url).flushdb()
