"""The fleet at size (issue 15 item 7): every periodic job against 100,000 locks and years of history, its database
cost per run at two history sizes, the Tuya calls per second the lock-wide rounds make at steady state with push
on and off next to the project's budget, and the dashboard pages at each size.

The fleet: --locks Wi-Fi locks (each a unit of its own) over --properties hotel properties, one cloud account (one
Tuya project), a current stay and door code on every tenth lock (--current-share), SyncCursor rows for both streams
of every lock. When each lock was last heard of (its cursors' `last_synced_at`, its `last_seen_at`) is spread evenly
over the last EVENTS_SAFETY_NET_SECONDS + the events sync's (the health round's) interval, as it is at steady state
when push tells of every event and each quiet lock is polled once per safety net: so the locks due at one moment are
one interval's worth (counted when the fleet is built, before the bench's own run time lets more cross the safety
net). After each growth of history those times move forward by the minutes the bench took (`hold_still`), so each
size measures the same due work. A share of the locks (--active-share) had an event in the last minutes: with push
these are polled every EVENTS_ACTIVE_POLL_SECONDS (their last polls spread over it), without push every interval.
Plus periodic_bench's fixed set of due rows (codes to converge, to expire, PINs to erase, failed codes, enrollments,
stalled operations, photos to fetch, remote unlocks).

History, inserted by the database itself (INSERT … SELECT over generate_series, as periodic_bench does): finished
codes (PIN erased) and events in the same number, spread over the locks, their units and properties (the events'
place columns filled), over two years, one event in ten with a photo row. Grown from the first size of --sizes to
the second; the jobs and pages are measured at each.

The cloud is a fake that counts calls per method: events pages come back empty, device details say online with a
full battery, a lock's passwords are the ones its current code should have (so reconcile has nothing to write but
its own stamp). It is installed by replacing `cloud_for` in every module that imported it.

Per periodic job (locks/periodic.py PERIODIC; a round as its starter, with push on and off, and one chunk job of
LOCK_ROUND_CHUNK locks): the database time (the time spent inside the driver's execute, summed over the run, median
of --repeat runs after one warm-up run that settles one-off work) and the queries per run, per due item (what the
job returned: codes enqueued, locks enqueued; for a chunk, its locks), the ratio between the two sizes (goal ≤ 1.2).
Then the steady-state Tuya calls per second of each round (due locks × calls per lock measured on the fake cloud in
its chunk ÷ its interval; reconcile takes every lock, push or not), and of each API (a port method is one Tuya API:
Tuya limits each API of a project on its own, and so does the budget) next to TUYA_CALLS_PER_SECOND, and how long
a round takes within its priority's share when over. A fleet sets RECONCILE_INTERVAL_SECONDS to hours (README,
"Scaling out"): export it to see the steady state as deployed.
The pages (portfolio, one property, the organisation's and one property's timeline) through Django's test client in
this process as a signed-in owner (no HTTP server, no browser): p50 / p95 and queries.

Production settings (DEBUG off, made-up keys, e-mail to the dummy backend), a throwaway PostgreSQL database beside
DATABASE_URL (required but with --quick, which may use a temporary SQLite file; dropped after), an embedded
redis-server (or REDIS_URL, which must hold no RQ keys; the bench's keys are deleted after).

Run from the repo root:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/doors .venv/bin/python bench/fleet_bench.py   # the issue's size
    DATABASE_URL=… .venv/bin/python bench/fleet_bench.py --locks 10000 --sizes 20000,200000          # medium
    .venv/bin/python bench/fleet_bench.py --quick                                                    # CI: seconds
Exits 1 when something is structurally wrong (a job raised or logged an error, a page did not answer 200, a round
made no cloud call), not on timings.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from feed_bench import drop, production_env, wait_for_redis
from pages_bench import measure
from periodic_bench import add_due_rows, clone_rows, column_names, hours_ago

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable

# The chunk job of each round (locks/jobs.py, locks/alert_scans.py), by the round's name (locks/rounds.py).
CHUNK_JOBS = {
    "sync-lock-events": "locks.jobs.sync_locks_events",
    "check-lock-health": "locks.alert_scans.check_locks_health",
    "reconcile-all-locks": "locks.jobs.reconcile_locks",
}
GOAL_RATIO = 1.2
NOISE_MS = 1.0  # a ratio between two times under a millisecond apart says nothing on a shared machine
GOAL_SWEEPER_MS = 20.0
GOAL_PAGE_P95_MS = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locks", type=int, default=100_000)
    parser.add_argument("--properties", type=int, default=100)
    parser.add_argument("--sizes", default="1000000,10000000", help="two history sizes (codes; events the same)")
    parser.add_argument("--current-share", type=float, default=0.1, help="locks with a current stay and code")
    parser.add_argument("--active-share", type=float, default=0.02, help="locks with an event in the last minutes")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each job per size (the median is shown)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page and size")
    parser.add_argument("--quick", action="store_true", help="CI: 200 locks, 2,000 then 20,000 rows (SQLite allowed)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (to EXPLAIN in it after)")
    args = parser.parse_args()
    if args.quick:
        args.locks, args.properties, args.sizes, args.repeat, args.requests = 200, 4, "2000,20000", 3, 5
    sizes = [int(size) for size in args.sizes.split(",")]
    if len(sizes) != 2 or sizes[0] >= sizes[1]:
        parser.error("--sizes takes two growing sizes, e.g. 1000000,10000000")
    if not args.quick and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("the fleet at size needs PostgreSQL: export DATABASE_URL (a throwaway database is made beside it)")

    workdir = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    admin_url: str | None = None
    redis_server: subprocess.Popen[bytes] | None = None
    try:
        production_env(workdir)
        os.environ["ALLOWED_HOSTS"] = "testserver"  # the test client's host; no other request is served
        os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"  # alert e-mails go nowhere
        database_name, admin_url = database()
        if not os.environ.get("REDIS_URL"):
            redis_dir = workdir / "redis"
            redis_server = subprocess.Popen([PYTHON, "-m", "config.embedded_redis", str(redis_dir)], cwd=ROOT)
            os.environ["REDIS_URL"] = f"unix://{redis_dir / 'redis.sock'}"
        wait_for_redis(os.environ["REDIS_URL"])
        return run(args, sizes, database_name)
    finally:
        if "django" in sys.modules:
            from django.db import connections  # Django is only set up by run(); close before the database goes

            connections.close_all()
        if args.keep and admin_url is not None:
            print(f"kept: {os.environ['DATABASE_URL']} (drop it yourself)")
        else:
            drop(admin_url)
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def database() -> tuple[str, str | None]:
    """A throwaway PostgreSQL database beside DATABASE_URL, or a temporary SQLite file (VAR_DIR is the temp dir)."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("postgres"):
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(os.environ['VAR_DIR']).parent / 'fleet.sqlite3'}"
        return "SQLite (temporary file)", None
    import psycopg  # only with PostgreSQL

    name = f"doors_fleet_bench_{os.getpid()}"
    with psycopg.connect(given, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{given.rpartition('/')[0]}/{name}"
    return f"PostgreSQL ({name}, dropped after)", given


# --- the fake cloud -------------------------------------------------------------------------------------------


class FleetCloud:
    """The LockCloud port methods the periodic work calls, answering as a quiet, healthy fleet would; every call
    counted by method. Any other method is counted and refused (a periodic job calling it is a finding)."""

    def __init__(self, passwords: dict[str, list[Any]]):
        self.passwords = passwords  # device id → the CloudPasswords its current codes should be
        self.calls: Counter[str] = Counter()

    def lock(self, device_id: str) -> Any:
        from locks.cloud.port import CloudLock

        self.calls["lock"] += 1
        return CloudLock(device_id=device_id, name=device_id, kind="wifi", online=True, local_key="", battery=80)

    def unlock_page(self, lock: Any, **_: Any) -> Any:
        self.calls["unlock_page"] += 1
        return empty_page()

    def alert_page(self, lock: Any, **_: Any) -> Any:
        self.calls["alert_page"] += 1
        return empty_page()

    def access_record_page(self, lock: Any, **_: Any) -> Any:
        self.calls["access_record_page"] += 1
        return empty_page()

    def list_passwords(self, lock: Any) -> list[Any]:
        self.calls["list_passwords"] += 1
        return list(self.passwords.get(lock.device_id, ()))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            raise NotImplementedError(f"the fleet bench's cloud does not answer {name}")

        return refused


def empty_page() -> Any:
    from locks.cloud.port import EventPage

    return EventPage(events=(), received=0, total=0, has_more=False)


def install(cloud: FleetCloud) -> list[str]:
    """Replace `cloud_for` wherever a module imported it (`from locks.cloud.accounts import cloud_for`)."""
    from locks.cloud import accounts

    original = accounts.cloud_for
    patched = []
    for name, module in list(sys.modules.items()):
        if module is not accounts and getattr(module, "cloud_for", None) is original:
            module.cloud_for = lambda account: cloud  # type: ignore[attr-defined]
            patched.append(name)
    return sorted(patched)


# --- the fleet and its history --------------------------------------------------------------------------------


@dataclass
class Fleet:
    organisation: Any
    owner: Any
    account: Any
    properties: list[Any]
    locks: list[Any]
    first_lock: int
    first_unit: int
    first_property: int
    per_property: int
    code_template: Any
    event_template: Any
    media_template: Any
    passwords: dict[str, list[Any]] = field(default_factory=dict)
    history: int = 0


def build(args: argparse.Namespace, now: datetime) -> Fleet:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from locks import rounds
    from locks.cloud.port import CloudPassword
    from locks.models import AccessCode, CloudAccount, EventMedia, Lock, LockEvent, SyncCursor
    from locks.periodic import PERIODIC
    from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit

    # The pages, not the sign-in, are measured: the owner signs in with a password alone.
    organisation = Organisation.objects.create(name="Fleet Hotels", slug="fleet", require_second_factor=False)
    owner = get_user_model().objects.create_user("fleet-owner")
    Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    account = CloudAccount.objects.create(
        organisation=organisation, name="project", endpoint="eu", access_id="fleet", access_secret="secret"
    )
    per_property = math.ceil(args.locks / args.properties)
    properties = Property.objects.bulk_create(
        Property(organisation=organisation, name=f"Hotel {p:03d}", kind="hotel", time_zone="Europe/Amsterdam")
        for p in range(args.properties)
    )
    units = Unit.objects.bulk_create(
        (
            Unit(property=properties[i // per_property], name=f"Room {i % per_property + 1:04d}")
            for i in range(args.locks)
        ),
        batch_size=5000,
    )
    # When each lock was last heard of, evenly over the safety net and one round's interval (steady state: each
    # quiet lock is looked at once per safety net, so one interval's worth is due at any moment); the events sync
    # (its cursors) and the health check (the lock's last_seen_at) on their own intervals. Active locks: minutes ago.
    safety_net = int(settings.EVENTS_SAFETY_NET_SECONDS)
    events_window = safety_net + int(settings.EVENTS_SYNC_INTERVAL_SECONDS)
    health_window = safety_net + next(task.every_seconds for task in PERIODIC if task.name == rounds.HEALTH)
    active_every = max(1, round(1 / args.active_share)) if args.active_share > 0 else 0
    current_every = max(1, round(1 / args.current_share)) if args.current_share > 0 else 0

    def heard(i: int) -> datetime:
        if active_every and i % active_every == 0:
            return now - timedelta(minutes=5)
        return now - timedelta(seconds=(i * 7919) % health_window)

    locks = Lock.objects.bulk_create(
        (
            Lock(organisation=organisation, cloud_account=account, unit=unit, property_id=unit.property_id,
                 device_id=f"fleet{i:06d}",
                 name=f"Door {i:06d}", kind="wifi", online=True, battery=15 if i % 100 == 7 else 80,
                 last_seen_at=heard(i))
            for i, unit in enumerate(units)
        ),
        batch_size=5000,
    )  # fmt: skip
    for rows in (properties, units, locks):
        if rows[-1].pk - rows[0].pk + 1 != len(rows):
            raise RuntimeError("ids not contiguous: the history's SQL places rows by id arithmetic")
    current = [i for i in range(args.locks) if current_every and i % current_every == 0]
    guests = Guest.objects.bulk_create(
        (Guest(organisation=organisation, name=f"Guest {i:06d}") for i in current), batch_size=5000
    )
    stays = Stay.objects.bulk_create(
        (
            Stay(unit=units[i], guest=guest, check_in=now - timedelta(days=1), check_out=now + timedelta(days=2))
            for i, guest in zip(current, guests, strict=True)
        ),
        batch_size=5000,
    )
    AccessCode.objects.bulk_create(
        (
            AccessCode(organisation=organisation, lock=locks[i], stay=stay, guest=stay.guest, label=stay.guest.name,
                       pin=f"{(i * 7919) % 1_000_000:06d}", starts_at=stay.check_in, ends_at=stay.check_out,
                       time_zone="Europe/Amsterdam", status="set", cloud_password_id=1_000_000 + i)
            for i, stay in zip(current, stays, strict=True)
        ),
        batch_size=2000,
    )  # fmt: skip
    passwords = {
        locks[i].device_id: [CloudPassword(password_id=1_000_000 + i, name=f"guest {i}", state="set")] for i in current
    }
    first_lock = locks[0].pk
    postgres = connection.vendor == "postgresql"
    index = f"(l.id - {first_lock})"
    active = f"{active_every} > 0 AND {index} % {active_every or 1} = 0"
    # An active lock of a pushed project is polled every EVENTS_ACTIVE_POLL_SECONDS: its last poll spread over that.
    active_window = int(settings.EVENTS_ACTIVE_POLL_SECONDS) + int(settings.EVENTS_SYNC_INTERVAL_SECONDS)
    synced = (
        f"CASE WHEN {active} THEN ({index} / {active_every or 1}) * 7919 % {active_window} "
        f"ELSE {index} * 7919 % {events_window} END"
    )
    cursor_sql = (
        "INSERT INTO locks_synccursor (lock_id, stream, last_event_at, last_synced_at, last_error, failures) "
        f"SELECT l.id, st.stream, CASE WHEN {active} THEN {seconds_ago('300', postgres)} ELSE NULL END, "
        f"{seconds_ago(synced, postgres)}, '', 0 FROM locks_lock l, "
        "(SELECT 'open-logs' AS stream UNION ALL SELECT 'alarm-logs') st"
    )
    with connection.cursor() as cursor:
        cursor.execute(cursor_sql)
    # A few locks wait out a back-off after a failed sync: not due, whatever their cadence.
    backing_off = [lock.pk for lock in locks[3::1000]]
    SyncCursor.objects.filter(lock_id__in=backing_off).update(failures=1, retry_at=now + timedelta(minutes=10))
    add_due_rows(organisation, locks[:300], now)

    code_template = AccessCode.objects.create(
        organisation=organisation, lock=locks[0], label="history", pin="123456", starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=2), time_zone="Europe/Amsterdam", status=AccessCode.Status.REMOVED,
        desired=AccessCode.Desired.REMOVED, pin_purged_at=now - timedelta(days=1),
    )  # fmt: skip
    event_template = LockEvent.objects.create(
        organisation=organisation, lock=locks[0], unit_id=locks[0].unit_id, property_id=properties[0].pk,
        category="unlock", dp_code="unlock_password", classification="temporary code", occurred_at=now - timedelta(
            days=800), natural_key="template",
    )  # fmt: skip
    media_template = EventMedia.objects.create(
        organisation=organisation, event=event_template, file_url="https://media.example/x", status="done"
    )
    return Fleet(
        organisation=organisation,
        owner=owner,
        account=account,
        properties=properties,
        locks=locks,
        first_lock=first_lock,
        first_unit=units[0].pk,
        first_property=properties[0].pk,
        per_property=per_property,
        code_template=code_template,
        event_template=event_template,
        media_template=media_template,
        passwords=passwords,
    )


def seconds_ago(seconds: str, postgres: bool) -> str:
    """An SQL moment `seconds` (an SQL expression) before now, as periodic_bench's hours_ago."""
    if postgres:
        return f"now() - make_interval(secs => {seconds})"
    return f"datetime('now', '-' || ({seconds}) || ' seconds')"


def grow(fleet: Fleet, total: int) -> float:
    """History up to `total` finished codes and `total` events (one in ten with a photo), inserted by the database;
    returns the seconds it took."""
    from django.db import connection

    began = time.perf_counter()
    postgres = connection.vendor == "postgresql"
    count, first, locks = total - fleet.history, fleet.history, len(fleet.locks)
    if count <= 0:
        return 0.0
    place = f"((s.n + {first}) % {locks})"  # the lock's index: its unit's too; its property's times per_property
    clone_rows(
        connection,
        "locks_accesscode",
        fleet.code_template.pk,
        count,
        postgres,
        lock_id=f"{fleet.first_lock} + {place}",
        ends_at=hours_ago("48 + s.n % 26000", postgres),
        starts_at=hours_ago("72 + s.n % 26000", postgres),
        # As the convergence leaves them: removed codes were wanted removed; expired and failed ones were still wanted.
        status="CASE WHEN s.n % 20 = 0 THEN 'failed' WHEN s.n % 2 = 0 THEN 'expired' ELSE 'removed' END",
        desired="CASE WHEN s.n % 20 <> 0 AND s.n % 2 <> 0 THEN 'removed' ELSE 'active' END",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM locks_lockevent")
        (last_event,) = cursor.fetchone()
    moment = hours_ago("1 + s.n % 17520", postgres)  # over two years
    clone_rows(
        connection,
        "locks_lockevent",
        fleet.event_template.pk,
        count,
        postgres,
        lock_id=f"{fleet.first_lock} + {place}",
        unit_id=f"{fleet.first_unit} + {place}",
        property_id=f"{fleet.first_property} + {place} / {fleet.per_property}",
        natural_key=f"'history-' || (s.n + {first})",
        occurred_at=moment,
        created_at=moment,
        category="CASE WHEN s.n % 10 = 0 THEN 'alarm' ELSE 'unlock' END",
        dp_code="CASE WHEN s.n % 10 = 0 THEN 'alarm_lock' ELSE 'unlock_password' END",
    )
    media_columns = [c for c in column_names(connection, "locks_eventmedia") if c not in ("id", "event_id")]
    copied = ", ".join("t." + c for c in media_columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO locks_eventmedia ({', '.join(media_columns)}, event_id) SELECT {copied}, e.id "
            f"FROM locks_eventmedia t, locks_lockevent e WHERE t.id = {int(fleet.media_template.pk)} "
            f"AND e.id > {int(last_event)} AND e.id % 10 = 0"
        )
        # Fresh statistics and visibility map, as autovacuum would leave them after a bulk load.
        for table in ("locks_accesscode", "locks_lockevent", "locks_eventmedia"):
            cursor.execute(f"VACUUM ANALYZE {table}" if postgres else f"ANALYZE {table}")
    fleet.history = total
    return time.perf_counter() - began


def hold_still(since: datetime) -> datetime:
    """Move when every lock was last heard of forward by the time since `since`, as its syncs and health checks
    would have at steady state: the history's growth and the measuring take minutes, during which ~9 streams a
    second would otherwise cross the safety net and grow what is due at the second size. Returns the new `since`."""
    from django.db import connection
    from django.db.models import F
    from django.utils import timezone

    from locks.models import Lock, SyncCursor

    now = timezone.now()
    passed = now - since
    Lock.objects.filter(last_seen_at__isnull=False).update(last_seen_at=F("last_seen_at") + passed)
    SyncCursor.objects.filter(last_synced_at__isnull=False).update(last_synced_at=F("last_synced_at") + passed)
    SyncCursor.objects.filter(last_event_at__isnull=False).update(last_event_at=F("last_event_at") + passed)
    with connection.cursor() as cursor:
        for table in ("locks_lock", "locks_synccursor"):
            cursor.execute(f"VACUUM ANALYZE {table}" if connection.vendor == "postgresql" else f"ANALYZE {table}")
    return now


# --- measuring the jobs ---------------------------------------------------------------------------------------


class QueryTimer:
    """A `connection.execute_wrapper`: time inside the driver and statements, whatever DEBUG says."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class ErrorLog(logging.Handler):
    """Errors logged while a job runs: a round's chunk logs a lock's failure and goes on, which is still a failure
    of the bench."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Job:
    name: str
    run: Callable[..., Any]
    args: tuple[Any, ...] = ()
    push: bool = True  # the project's push connection alive while it runs
    chunk: int = 0  # a round's chunk job: its locks


@dataclass
class Measured:
    db_ms: float
    wall_ms: float
    queries: int
    items: int
    calls: Counter[str]


def jobs(fleet: Fleet, chunk_ids: list[int]) -> list[Job]:
    from django.utils.module_loading import import_string

    from locks.periodic import PERIODIC

    table = []
    for task in PERIODIC:
        job = import_string(task.job)
        if not task.round:
            table.append(Job(task.name, job))
            continue
        table.append(Job(f"{task.name}: start, push on", job, push=True))
        table.append(Job(f"{task.name}: start, push off", job, push=False))
        chunk_job = import_string(CHUNK_JOBS[task.name])
        table.append(Job(f"{task.name}: a chunk", chunk_job, (task.name, chunk_ids), chunk=len(chunk_ids)))
    return table


def starter_count(job: Job, fleet: Fleet) -> int:
    """Run a round's starter once: how many locks it enqueued."""
    set_push(fleet, job.push)
    count = job.run(*job.args)
    empty_queues()
    set_push(fleet, True)
    return int(count)


def set_push(fleet: Fleet, alive: bool) -> None:
    import django_rq

    from locks import queues

    connection = django_rq.get_connection(queues.SYNC_QUEUE)
    if alive:
        connection.set(queues.push_alive_marker(fleet.account.pk), 1)
    else:
        connection.delete(queues.push_alive_marker(fleet.account.pk))


def empty_queues() -> None:
    """The jobs the periodic work enqueued: no worker runs them (their markers stay, so they are not enqueued
    twice, as in production while a job waits)."""
    import django_rq
    from django.conf import settings

    for name in settings.RQ_QUEUES:
        django_rq.get_queue(name).empty()


def measure_job(job: Job, fleet: Fleet, cloud: FleetCloud, repeat: int) -> Measured:
    from django.db import connection

    set_push(fleet, job.push)
    job.run(*job.args)  # warm-up: one-off work (codes to expire, PINs to erase) is done by the first run
    db, wall, queries, items = [], [], [], 0
    calls: Counter[str] = Counter()
    for _ in range(repeat):
        cloud.calls.clear()
        timer = QueryTimer()
        began = time.perf_counter()
        with connection.execute_wrapper(timer):
            result = job.run(*job.args)
        wall.append(time.perf_counter() - began)
        db.append(timer.seconds)
        queries.append(timer.count)
        items = job.chunk or (result if isinstance(result, int) else 0)
        calls = Counter(cloud.calls)
    empty_queues()
    set_push(fleet, True)
    return Measured(statistics.median(db) * 1000, statistics.median(wall) * 1000, max(queries), items, calls)


# --- the pages ------------------------------------------------------------------------------------------------


def page_urls(fleet: Fleet) -> list[tuple[str, str]]:
    from django.urls import reverse

    one = fleet.properties[len(fleet.properties) // 2].pk
    return [
        ("portfolio", reverse("locks:portfolio")),
        (f"property ({fleet.per_property:,} locks)", reverse("locks:property", args=[one])),
        ("timeline, organisation", reverse("locks:activity")),
        ("timeline, one property", reverse("locks:activity") + f"?property={one}"),
    ]


# --- the run --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, sizes: list[int], database_name: str) -> int:
    import django

    django.setup()
    import django_rq
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from locks import queues
    from locks.cloud import budget

    if django_rq.get_connection(queues.SYNC_QUEUE).keys("rq:*"):
        print("REDIS_URL holds RQ keys already: give the bench an empty database.", file=sys.stderr)
        return 1
    try:
        began = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)  # production's manifest storage needs it
        fleet = build(args, timezone.now())
        print(f"fleet_bench: {database_name}, {platform.machine()}, {os.cpu_count()} cpus, "
              f"Python {platform.python_version()}, Redis at {os.environ['REDIS_URL'].split('://')[0]}")  # fmt: skip
        print(f"fleet: {args.locks:,} locks over {args.properties} properties, {len(fleet.passwords):,} current codes, "
              f"built in {time.perf_counter() - began:.1f} s")  # fmt: skip
        chunk_size = int(settings.LOCK_ROUND_CHUNK)
        step = max(1, len(fleet.locks) // chunk_size)
        chunk_ids = [lock.pk for lock in fleet.locks[1::step]][:chunk_size]  # across the properties
        table = jobs(fleet, chunk_ids)  # imports every job's module before `cloud_for` is replaced in them
        cloud = FleetCloud(fleet.passwords)
        patched = install(cloud)
        print(f"fake cloud in: {', '.join(patched)}")
        # Each round's due locks at the moment the fleet was built: later, more locks have crossed the safety net
        # while the bench ran (at 100,000 locks, 4-5 a second), which no steady state would leave waiting.
        due_at_start = {job.name: starter_count(job, fleet) for job in table if ": start," in job.name}
        errors = ErrorLog()
        logging.getLogger().addHandler(errors)
        client = Client()  # requests go as HTTPS (secure=True): production mode redirects plain HTTP
        client.force_login(fleet.owner)

        results: dict[str, list[Measured]] = {job.name: [] for job in table}
        pages: dict[str, list[tuple[float, float, int]]] = {}
        failures: list[str] = []
        held_at = timezone.now()
        for size in sizes:
            seconds = grow(fleet, size)
            print(f"history: {size:,} codes and {size:,} events ({size // 10:,} photos) in {seconds:.1f} s")
            held_at = hold_still(held_at)
            for job in table:
                errors.records.clear()
                try:
                    results[job.name].append(measure_job(job, fleet, cloud, args.repeat))
                except Exception as error:  # reported with the others; the bench goes on to say what else holds
                    failures.append(f"{job.name} at {size:,}: {type(error).__name__}: {error}")
                    continue
                if errors.records:
                    record = errors.records[0]
                    cause = f" ({record.exc_info[1]!r})" if record.exc_info else ""
                    failures.append(f"{job.name} at {size:,}: logged “{record.getMessage()}”{cause}")
                if job.chunk and not sum(results[job.name][-1].calls.values()):
                    failures.append(f"{job.name} at {size:,}: no cloud call (is the fake cloud installed?)")
                refused = {m: n for m, n in results[job.name][-1].calls.items() if not hasattr(FleetCloud, m)}
                if refused:
                    failures.append(
                        f"{job.name} at {size:,}: called cloud methods the bench does not answer: {refused}"
                    )
            for name, url in page_urls(fleet):
                try:
                    pages.setdefault(name, []).append(measure(client, url, args.requests))
                except AssertionError as error:
                    failures.append(f"page {name} at {size:,}: {error}")

        print_jobs(results, sizes, args.repeat)
        print_steady_state(results, due_at_start, fleet, budget, settings)
        print_pages(pages, sizes, args.requests)
        for failure in failures:
            print("FAIL", failure)
        return 1 if failures else 0
    finally:
        connection = django_rq.get_connection(queues.SYNC_QUEUE)
        for pattern in ("rq:*", "doors:*"):
            for key in connection.scan_iter(pattern, count=1000):
                connection.delete(key)


def print_jobs(results: dict[str, list[Measured]], sizes: list[int], repeat: int) -> None:
    small, big = (format(size, ",") for size in sizes)
    print(f"\nperiodic jobs: database time per run (median of {repeat}, after a warm-up run), queries, due items; "
          f"flagged: ratio over {GOAL_RATIO} and more than {NOISE_MS:g} ms apart")  # fmt: skip
    print(f"{'job':44} {'db ms at ' + small:>16} {'db ms at ' + big:>17} {'ratio':>6} {'queries':>9} "
          f"{'items':>7} {'db ms/item':>11} {'wall ms':>8}")  # fmt: skip
    for name, measured in results.items():
        if len(measured) != len(sizes):
            print(f"{name:44} (failed)")
            continue
        first, last = measured
        ratio = last.db_ms / first.db_ms if first.db_ms else float("nan")
        per_item = f"{last.db_ms / last.items:11.3f}" if last.items else f"{'-':>11}"
        queries = f"{first.queries}→{last.queries}" if first.queries != last.queries else str(last.queries)
        flag = "" if ratio <= GOAL_RATIO or last.db_ms - first.db_ms < NOISE_MS else f"  over {GOAL_RATIO}"
        print(f"{name:44} {first.db_ms:16.2f} {last.db_ms:17.2f} {ratio:6.2f} {queries:>9} {last.items:7,} "
              f"{per_item} {last.wall_ms:8.1f}{flag}")  # fmt: skip
    sweeper = results.get("sweep-access-codes", [])
    if len(sweeper) == len(sizes):
        verdict = "met" if sweeper[-1].db_ms < GOAL_SWEEPER_MS else "missed"
        print(f"sweeper at {big} codes: {sweeper[-1].db_ms:.2f} ms of database time (goal < {GOAL_SWEEPER_MS:.0f} ms: "
              f"{verdict})")  # fmt: skip


def print_steady_state(
    results: dict[str, list[Measured]], due_at_start: dict[str, int], fleet: Fleet, budget: Any, settings: Any
) -> None:
    """Calls per second of each round: its due locks per interval (as its starter counted them when the fleet was
    built) × the calls per lock its chunk made on the fake cloud (at the last size) ÷ the interval; then the same
    summed per API (port method), which is what the budget limits."""
    from locks.periodic import PERIODIC

    per_second = float(settings.TUYA_CALLS_PER_SECOND)
    shares = {"sync-lock-events": budget.Priority.POLL}  # the others: maintenance (locks/cloud/budget.py)
    print(f"\nsteady state: Tuya calls per second of one project ({len(fleet.locks):,} locks; budget "
          f"TUYA_CALLS_PER_SECOND = {per_second:g} per API; EVENTS_SAFETY_NET_SECONDS "
          f"{settings.EVENTS_SAFETY_NET_SECONDS}, EVENTS_ACTIVE_POLL_SECONDS {settings.EVENTS_ACTIVE_POLL_SECONDS}, "
          f"RECONCILE_INTERVAL_SECONDS {settings.RECONCILE_INTERVAL_SECONDS})")  # fmt: skip
    shares_text = "; ".join(f"{p.name.lower()} {share:.0%}" for p, share in budget.SHARES.items() if p)
    print(f"{'round':22} {'every':>7} {'calls/lock':>11} {'due, push on':>13} {'calls/s':>8} "
          f"{'due, push off':>14} {'calls/s':>8}   a round within its share of each API ({shares_text})")  # fmt: skip
    totals = {True: 0.0, False: 0.0}
    per_api: dict[bool, dict[str, float]] = {True: {}, False: {}}
    for task in (t for t in PERIODIC if t.round):
        chunk = results[f"{task.name}: a chunk"]
        on, off = due_at_start[f"{task.name}: start, push on"], due_at_start[f"{task.name}: start, push off"]
        if not chunk:
            print(f"{task.name:22} (failed)")
            continue
        items = max(1, chunk[-1].items)
        per_lock = sum(chunk[-1].calls.values()) / items
        busiest = max(chunk[-1].calls.values()) / items  # the round's calls a lock on its busiest API
        priority = shares.get(task.name, budget.Priority.MAINTENANCE)
        room = per_second * budget.SHARES[priority]
        line = f"{task.name:22} {task.every_seconds:5d} s {per_lock:11.2f}"
        notes = []
        for push, due in ((True, on), (False, off)):
            rate = due * per_lock / task.every_seconds
            totals[push] += rate
            for method, calls in chunk[-1].calls.items():
                per_api[push][method] = per_api[push].get(method, 0.0) + due * calls / items / task.every_seconds
            line += f" {due:13,} {rate:8.2f}" if push else f" {due:14,} {rate:8.2f}"
            takes = due * busiest / room if room else float("inf")
            if due * busiest / task.every_seconds > room:
                notes.append(f"push {'on' if push else 'off'}: {duration(takes)} (interval {task.every_seconds} s)")
        print(line + "   " + ("; ".join(notes) or "within its interval"))
    for push, total in totals.items():
        mode = "on " if push else "off"
        worst = max(per_api[push].values(), default=0.0)
        verdict = "within" if worst <= per_second else f"{worst / per_second:.1f}× over"
        apis = ", ".join(f"{method} {rate:.2f}" for method, rate in sorted(per_api[push].items(), key=lambda m: -m[1]))
        print(f"push {mode}: {total:8.2f} calls/s in all; per API: {apis} — the busiest API {verdict} the budget "
              f"of {per_second:g}")  # fmt: skip


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def print_pages(pages: dict[str, list[tuple[float, float, int]]], sizes: list[int], requests: int) -> None:
    print(f"\ndashboard pages (in-process test client, signed-in owner, {requests} timed requests after 3 warm-ups)")
    head = f"{'p50 ms':>8} {'p95 ms':>8} {'queries':>8}"
    print(f"{'page':28} {head}   | {head}")
    print(f"{'':28} {f'{sizes[0]:,} events':>26}   | {f'{sizes[1]:,} events':>26}")
    for name, measured in pages.items():
        if len(measured) != len(sizes):
            print(f"{name:28} (failed)")
            continue
        (p50, p95, queries), (last50, last95, last_queries) = measured
        flag = "" if last95 <= GOAL_PAGE_P95_MS else f"  p95 over {GOAL_PAGE_P95_MS:.0f} ms"
        print(f"{name:28} {p50:8.1f} {p95:8.1f} {queries:8d}   | {last50:8.1f} {last95:8.1f} {last_queries:8d}{flag}")


if __name__ == "__main__":
    sys.exit(main())
