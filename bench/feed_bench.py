"""Calendar feeds: one full sync cycle of --units units, each with one feed of --events reservations, through the
real sync (`bookings.feed_sync.sync_feed`, called in this process one feed after another, as a worker runs the job),
next to the time to fetch and parse the same feeds alone in the same run (the floor: HTTP + iCalendar parsing).
Then a second cycle with nothing changed, which must write no stay, code or feed event: every INSERT, UPDATE and
DELETE it sends is counted, those on the feed's own row (when it was read, what came back) apart.

The calendars come from a local HTTP server in a separate process (so it does not share our GIL), each body made
up front: --events two-night reservations one after another from tomorrow, Airbnb-style all-day events, as
`GET /feed/<n>.ics`. Each unit has a Wi-Fi lock, so every stay booked also issues its door code (PIN chosen, row
written, its job enqueued after commit), as in production; no worker runs, so no cloud is called.

Production settings (DEBUG off, made-up keys, FEED_ALLOW_PRIVATE_URLS on for the local server), a temporary SQLite
database (or a throwaway PostgreSQL database beside DATABASE_URL when it is exported, dropped after), and an
embedded redis-server (or REDIS_URL, which must be empty of RQ keys).

Run from the repo root:  .venv/bin/python bench/feed_bench.py [--units 1000] [--events 50] [--quick]
Exits 1 if the first cycle did not book every reservation or the second wrote anything.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable

SERVER = r"""
import sys
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

feeds, events = int(sys.argv[1]), int(sys.argv[2])
start = date.today() + timedelta(days=1)

def body(n):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Doors bench//Calendar//EN", "CALSCALE:GREGORIAN"]
    for i in range(events):
        first = start + timedelta(days=3 * i)
        lines += ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", f"DTSTART;VALUE=DATE:{first:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{first + timedelta(days=2):%Y%m%d}", f"UID:bench-{n}-{i}@example.com",
                  "SUMMARY:Reserved",
                  f"DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HM{n:04d}{i:03d}\\n"
                  f"Phone Number (Last 4 Digits): {1000 + i}",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()

bodies = {f"/feed/{n}.ics": body(n) for n in range(feeds)}

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        data = bodies.get(self.path)
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
FEED_TABLE = "bookings_calendarfeed"


def production_env(workdir: Path) -> None:
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(workdir / "var"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "localhost",  # required in production mode; no request is served here
            "FEED_ALLOW_PRIVATE_URLS": "true",  # the calendar server is on 127.0.0.1
            "LOG_LEVEL": "WARNING",
        }
    )


def database(workdir: Path) -> tuple[str, str | None]:
    """The bench's own database: a throwaway PostgreSQL database beside DATABASE_URL, or a temporary SQLite file."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("postgres"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
        return "SQLite (temporary file)", None
    import psycopg

    name = f"doors_feed_bench_{os.getpid()}"
    base, _, _ = given.rpartition("/")
    with psycopg.connect(given, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{base}/{name}"
    return f"PostgreSQL ({name}, dropped after)", given


def drop(admin_url: str | None) -> None:
    if admin_url is None:
        return
    import psycopg

    name = os.environ["DATABASE_URL"].rpartition("/")[2]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_for_redis(url: str) -> None:
    import redis

    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return
        except (OSError, redis.RedisError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Statements:
    """Counts the statements sent while installed (`connection.execute_wrapper`), and the writes by table: no
    query log to fill up, and a bulk insert counts once, as it is sent once."""

    def __init__(self) -> None:
        self.count = 0
        self.writes: Counter[str] = Counter()

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        match = WRITE.match(sql)
        if match:
            self.writes[f"{match.group(1).split()[0].upper()} {match.group(2)}"] += 1
        return execute(sql, params, many, context)


def progress(label: str, done: int, total: int, started: float) -> None:
    """A line every tenth of a long cycle (on stderr), so a run cut short still says how fast it went."""
    if total >= 100 and done % (total // 10) == 0:
        print(f"  {label}: {done}/{total} feeds in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


def forget_jobs() -> None:
    """The code jobs and markers the bench left in Redis (a REDIS_URL given is not the bench's to keep filling; it
    was checked empty of them first). The embedded redis-server goes with the temporary directory anyway."""
    import redis

    url = os.environ.get("REDIS_URL", "")
    if not url:
        return
    try:
        connection = redis.Redis.from_url(url)
        for pattern in ("rq:*", "doors:*"):
            for key in connection.scan_iter(pattern, count=1000):
                connection.delete(key)
    except (OSError, redis.RedisError) as error:
        print(f"could not clean Redis up: {error}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50, help="reservations per feed")
    parser.add_argument("--quick", action="store_true", help="20 units x 10 events (CI)")
    args = parser.parse_args()
    if args.quick:
        args.units, args.events = 20, 10
    workdir = Path(tempfile.mkdtemp(prefix="feed-bench-"))
    production_env(workdir)
    db_label, admin_url = database(workdir)
    procs: list[subprocess.Popen[str]] = []
    try:
        redis_url = os.environ.get("REDIS_URL", "")
        if not redis_url:
            (workdir / "redis").mkdir()
            procs.append(subprocess.Popen([PYTHON, "-m", "config.embedded_redis", str(workdir / "redis")], cwd=ROOT))
            redis_url = f"unix://{workdir / 'redis' / 'redis.sock'}"
            os.environ["REDIS_URL"] = redis_url
            wait_for_redis(redis_url)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
        server = subprocess.Popen(
            [PYTHON, "-c", SERVER, str(args.units), str(args.events)], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        procs.append(server)
        port = int(server.stdout.readline()) if server.stdout else 0
        return run(args, db_label, f"http://127.0.0.1:{port}")
    finally:
        forget_jobs()
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        drop(admin_url)
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, db_label: str, base_url: str) -> int:
    import django

    django.setup()
    import django_rq
    from django.db import connection
    from django.utils import timezone

    from bookings import feed_sync, fetch, ical
    from bookings.models import CalendarFeed, FeedEvent
    from locks.models import AccessCode, CloudAccount, Lock
    from tenants.models import Organisation, Property, Stay, Unit

    redis = django_rq.get_queue("codes").connection
    if redis.keys("rq:*"):
        print("REDIS_URL holds RQ keys already: give the bench an empty database.", file=sys.stderr)
        return 1

    # --- seed: one rental property, its units, a Wi-Fi lock on each door, a feed per unit ----------------------
    started = time.perf_counter()
    org = Organisation.objects.create(name="Bench Lettings", slug="bench")
    prop = Property.objects.create(organisation=org, name="Bench Flats", time_zone="Europe/Amsterdam")
    account = CloudAccount.objects.create(organisation=org, name="EU", endpoint="eu", access_id="a", access_secret="s")
    units = Unit.objects.bulk_create([Unit(property=prop, name=f"Flat {n:04d}") for n in range(args.units)])
    Lock.objects.bulk_create(
        [
            Lock(
                organisation=org,
                cloud_account=account,
                unit=unit,
                property=prop,
                device_id=f"bench{n:06d}",
                name="Door",
                kind="wifi",
            )
            for n, unit in enumerate(units)
        ]
    )
    now = timezone.now()
    feeds = [
        CalendarFeed.objects.create(
            organisation=org, unit=unit, name="Airbnb", url=f"{base_url}/feed/{n}.ics", next_sync_at=now
        )
        for n, unit in enumerate(units)
    ]
    seed_seconds = time.perf_counter() - started

    # --- the floor: fetch and parse every feed, nothing stored ----------------------------------------------
    started = time.perf_counter()
    parsed_events = 0
    for feed in feeds:
        body = fetch.fetch_feed(feed.url).body
        parsed = ical.parse_feed(
            body, zone=prop.tz, check_in=prop.check_in_time, check_out=prop.check_out_time, now=timezone.now()
        )
        parsed_events += len(parsed.entries)
    floor_seconds = time.perf_counter() - started

    # --- cycle 1: every feed synced, as the job does it -------------------------------------------------------
    per_feed: list[float] = []
    queries: list[int] = []
    outcomes: Counter[str] = Counter()
    first_writes: Counter[str] = Counter()  # the counting itself is checked: cycle 1 must be seen writing
    started = time.perf_counter()
    for done, feed in enumerate(feeds, 1):
        one = time.perf_counter()
        statements = Statements()
        with connection.execute_wrapper(statements):
            outcomes[str(feed_sync.sync_feed(feed.pk))[:60]] += 1
        per_feed.append(time.perf_counter() - one)
        queries.append(statements.count)
        first_writes.update(statements.writes)
        progress("cycle 1", done, len(feeds), started)
    cycle_seconds = time.perf_counter() - started
    stays = Stay.objects.filter(unit__property=prop, status=Stay.Status.BOOKED).count()
    codes = AccessCode.objects.count()
    events = FeedEvent.objects.filter(state=FeedEvent.State.BOOKED).count()
    errors = list(CalendarFeed.objects.exclude(last_error="").values_list("last_error", flat=True)[:3])

    # --- cycle 2: nothing changed -----------------------------------------------------------------------------
    CalendarFeed.objects.update(next_sync_at=timezone.now())
    writes: Counter[str] = Counter()
    again: list[float] = []
    started = time.perf_counter()
    again_queries: list[int] = []
    for done, feed in enumerate(feeds, 1):
        one = time.perf_counter()
        statements = Statements()
        with connection.execute_wrapper(statements):
            feed_sync.sync_feed(feed.pk)
        again.append(time.perf_counter() - one)
        again_queries.append(statements.count)
        writes.update({table: n for table, n in statements.writes.items() if not table.endswith(" " + FEED_TABLE)})
        progress("cycle 2", done, len(feeds), started)
    again_seconds = time.perf_counter() - started
    jobs = django_rq.get_queue("codes").count

    n = len(feeds)
    expected = n * args.events
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {db_label}")
    print(f"{n} units with a Wi-Fi lock each, one feed of {args.events} two-night reservations per unit "
          f"(bodies of ~{len(fetch.fetch_feed(feeds[0].url).body) // 1024 or 1} KiB from a local server); "
          f"seeded in {seed_seconds:.1f} s")  # fmt: skip
    print(f"fetch + parse only (the floor): {floor_seconds:.2f} s = {1000 * floor_seconds / n:.1f} ms per feed "
          f"({parsed_events} events read)")  # fmt: skip
    print(f"cycle 1 (everything new): {cycle_seconds:.2f} s = {1000 * statistics.mean(per_feed):.1f} ms per feed "
          f"(p95 {1000 * sorted(per_feed)[int(0.95 * (n - 1))]:.1f} ms, max {1000 * max(per_feed):.1f} ms), "
          f"{statistics.mean(queries):.0f} queries per feed (max {max(queries)}); "
          f"{stays} stays, {codes} codes ({jobs} code jobs queued), {events} events booked")  # fmt: skip
    print(
        f"cycle 2 (nothing changed): {again_seconds:.2f} s = {1000 * statistics.mean(again):.1f} ms per feed, "
        f"{statistics.mean(again_queries):.0f} queries per feed; "
        f"writes other than the feed's own row: {sum(writes.values())}{' ' + str(dict(writes)) if writes else ''}"
    )
    per_booking = ", ".join(f"{name} {count / max(expected, 1):.1f}" for name, count in first_writes.most_common(8))
    print(f"cycle 1 writes per reservation: {per_booking}")
    print(f"sync_feed said: {dict(outcomes)}")
    seen_writing = first_writes["INSERT tenants_stay"] == expected  # the counter sees what it must not see later
    ok = stays == codes == events == expected and not writes and not errors and seen_writing
    if not ok:
        print(
            f"CHECK FAILED: expected {expected} stays, codes and booked events; errors {errors}; writes {dict(writes)}"
        )
    else:
        print("check: every reservation booked once with its code; the unchanged cycle wrote nothing")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
