"""Benchmark: dashboard pages with 10,000 locks and 1,000,000 events, next to the same pages with 1,000 events.

Run from the repo root:  .venv/bin/python bench/pages_bench.py [--locks 10000] [--events 1000000] [--requests 40]

A fresh database (DATABASE_URL when set — a throwaway database is created next to it and dropped at the end —
else a SQLite file in a temp dir) is migrated and filled with one organisation: --locks locks in properties of
100 units with one lock each, one door code per lock, and events spread over the locks and the last 90 days
(1 in 10 an alert, 1 in 5 unlocks linked to its lock's code, guest and stay). Pages are rendered in-process
through Django's test client as a signed-in owner (no network, no browser: the server's own time), --requests
times each after 3 warm-ups; printed: p50 / p95 ms and the SQL queries per page, first with 1,000 events, then
after growing the same database to --events. Goal: queries per page equal in both rounds; p95 well under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(tmp: Path) -> str:
    """Point the settings at a throwaway database before Django starts; returns what it is."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        import psycopg

        name = f"pages_bench_{os.getpid()}"
        admin_url = base.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name}")
            connection.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name
        os.environ["PAGES_BENCH_DROP"] = name
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'pages.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # As in production: DEBUG off (no query log, no debug toolbar work); the test client's host allowed.
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"  # not one request line per measured request on the console
    os.environ.setdefault("SECRET_KEY", "pages-bench-" + os.urandom(16).hex())
    from cryptography.fernet import Fernet

    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    os.environ["VAR_DIR"] = str(tmp)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production's manifest storage needs it
    from django.db import connection

    return connection.vendor


def drop_database() -> None:
    name = os.environ.get("PAGES_BENCH_DROP")
    if not name:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    admin_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")


def build(n_locks: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from locks.models import AccessCode, CloudAccount, Lock
    from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit

    # The pages, not the sign-in, are measured: the owner signs in with a password alone, as in an organisation
    # from before the second factor.
    org = Organisation.objects.create(name="Bench Estates", slug="bench", require_second_factor=False)
    owner = get_user_model().objects.create_user("bench-owner")
    Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)
    account = CloudAccount.objects.create(organisation=org, name="c", endpoint="eu", access_id="a", access_secret="s")
    now = timezone.now()
    properties = Property.objects.bulk_create(
        Property(organisation=org, name=f"Building {p:03d}", kind="hotel", time_zone="Europe/Amsterdam")
        for p in range((n_locks + 99) // 100)
    )
    units = Unit.objects.bulk_create(
        Unit(property=properties[i // 100], name=f"Room {i % 100 + 1:03d}") for i in range(n_locks)
    )
    locks = Lock.objects.bulk_create(
        Lock(organisation=org, cloud_account=account, unit=unit, property_id=unit.property_id, device_id=f"dev{i:06d}",
             name=f"Door {i:05d}",
             kind="zigbee", battery=random.randint(5, 100), online=random.random() > 0.02)
        for i, unit in enumerate(units)
    )  # fmt: skip
    guests = Guest.objects.bulk_create(Guest(organisation=org, name=f"Guest {i:05d}") for i in range(n_locks))
    stays = Stay.objects.bulk_create(
        Stay(unit=unit, guest=guest, check_in=now - timedelta(days=1), check_out=now + timedelta(days=2))
        for unit, guest in zip(units, guests, strict=True)
    )
    codes = AccessCode.objects.bulk_create(
        AccessCode(organisation=org, lock=lock, stay=stay, guest=stay.guest, label=stay.guest.name,
                   pin=f"{random.randint(0, 999999):06d}", starts_at=stay.check_in, ends_at=stay.check_out,
                   time_zone="Europe/Amsterdam", status="set", cloud_password_id=1000 + i)
        for i, (lock, stay) in enumerate(zip(locks, stays, strict=True))
    )  # fmt: skip
    return {"org": org, "owner": owner, "properties": properties, "locks": locks, "codes": codes, "stays": stays}


def add_events(world: dict[str, Any], start: int, stop: int, batch: int = 20_000) -> float:
    """Events number start..stop-1, spread over the locks and 90 days; returns seconds taken."""
    from django.utils import timezone

    from locks.models import LockEvent

    began = time.perf_counter()
    org, locks, codes, stays = world["org"], world["locks"], world["codes"], world["stays"]
    properties = world["properties"]
    now = timezone.now()
    span = 90 * 24 * 3600
    rng = random.Random(start)
    for chunk in range(start, stop, batch):
        rows = []
        for n in range(chunk, min(stop, chunk + batch)):
            i = rng.randrange(len(locks))
            # Some events on the measured lock and property in both rounds, so the pages compare like with like.
            if n % 100 == 0:
                i = measured_lock_index(locks)
            elif n % 100 == 50:
                i = min(len(locks) - 1, 100 + rng.randrange(100))
            alarm = n % 10 == 0
            linked = not alarm and n % 5 == 1
            rows.append(
                LockEvent(
                    organisation=org,
                    lock=locks[i],
                    unit_id=locks[i].unit_id,
                    property_id=properties[i // 100].pk,  # a hundred rooms a property, as made above
                    category="alarm" if alarm else "unlock",
                    dp_code="alarm_lock" if alarm else "unlock_temporary",
                    classification="wrong code" if alarm else "temporary code",
                    occurred_at=now - timedelta(seconds=rng.randrange(span)),
                    natural_key=f"bench:{n}",
                    access_code=codes[i] if linked else None,
                    stay=stays[i] if linked else None,
                    guest=stays[i].guest if linked else None,
                )  # fmt: skip
            )
        LockEvent.objects.bulk_create(rows, batch_size=5000)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE locks_lockevent")
    return time.perf_counter() - began


def measured_lock_index(locks: list[Any]) -> int:
    return len(locks) // 2


def pages(world: dict[str, Any], client: Any) -> list[tuple[str, str]]:
    from django.urls import reverse

    lock = world["locks"][measured_lock_index(world["locks"])]
    first = client.get(reverse("locks:activity"), secure=True)
    cursor = first.context["next_cursor"] if first.context else ""
    return [
        ("portfolio", reverse("locks:portfolio")),
        ("property (100 locks)", reverse("locks:property", args=[world["properties"][0].pk])),
        ("lock page", reverse("locks:lock", args=[lock.pk])),
        ("timeline, organisation", reverse("locks:activity")),
        ("timeline, next page", reverse("locks:activity") + f"?before={cursor}"),
        ("timeline, one lock", reverse("locks:activity") + f"?lock={lock.pk}"),
        ("timeline, one property", reverse("locks:activity") + f"?property={world['properties'][1].pk}"),
        ("timeline, alerts only", reverse("locks:activity") + "?category=alarm"),
    ]


def measure(client: Any, url: str, repeats: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code, response.headers.get("Location"))
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        client.get(url, secure=True)
        times.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url, secure=True)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locks", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000, help="events in the first round (default 1,000)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page (default 40)")
    args = parser.parse_args()
    random.seed(7)
    tmp = Path(tempfile.mkdtemp(prefix="pages-bench-"))
    try:
        vendor = setup_django(tmp)
        from django.test import Client

        began = time.perf_counter()
        world = build(args.locks)
        print(f"python {platform.python_version()}, {os.cpu_count()} cpus, database {vendor}")
        print(f"built {args.locks} locks, {len(world['codes'])} codes in {time.perf_counter() - began:.1f} s")
        client = Client()  # requests go as HTTPS (secure=True): production mode redirects plain HTTP
        client.force_login(world["owner"])
        rounds: dict[int, dict[str, tuple[float, float, int]]] = {}
        for target in (args.small, args.events):
            done = 0 if not rounds else args.small
            seconds = add_events(world, done, target)
            print(f"events: {target:,} (added {target - done:,} in {seconds:.1f} s)")
            rounds[target] = {name: measure(client, url, args.requests) for name, url in pages(world, client)}
        small, large = rounds[args.small], rounds[args.events]
        head = f"{'p50 ms':>8} {'p95 ms':>8} {'queries':>8}"
        print(f"\n{'page':26} {head}   | {head}")
        print(f"{'':26} {f'with {args.small:,} events':>26}   | {f'with {args.events:,} events':>26}")
        grew = []
        for name, (p50, p95, q) in small.items():
            lp50, lp95, lq = large[name]
            print(f"{name:26} {p50:8.1f} {p95:8.1f} {q:8d}   | {lp50:8.1f} {lp95:8.1f} {lq:8d}")
            if lq != q:
                grew.append(name)
        print("\nqueries per page " + ("grew on: " + ", ".join(grew) if grew else "did not grow with the data"))
        return 1 if grew else 0
    finally:
        drop_database()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
