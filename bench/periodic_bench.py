"""What the periodic jobs' look-ups cost as history grows: each query at two table sizes, with its plan.

The periodic jobs (locks/periodic.py) run every few seconds to every hour for as long as the app runs; their cost
must follow what is due (codes to converge, to expire, PINs to erase, failed codes, open alerts, enrollments, stalled
operations, photos to fetch, remote unlocks to expire, the codes that may be on a lock), not what years of history
have stored. Each condition lives in locks/models.py beside the partial index that serves it.

The bench fills the tables with finished history (removed and expired codes, some failed long ago, resolved
alerts, finished enrollments and lock operations, old events with their photos, expired remote unlocks) at the first
size, adds a fixed set of rows that are due, measures every query, then grows the history to the second size and
measures again. Printed per query: median time at each size, the ratio
(goal: about 1), the rows it found (the same at both sizes: only the history grew), whether the plan reads an index
and which; on PostgreSQL also the same query with index scans turned off (the sequential scan the query cost before
its index: the baseline, in the same run).

Run from the repo root:
    .venv/bin/python bench/periodic_bench.py                       # SQLite, 100,000 then 1,000,000 rows
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/doors_bench .venv/bin/python bench/periodic_bench.py \\
        --sizes 1000000,10000000                                   # the issue's sizes (a throwaway database!)
    .venv/bin/python bench/periodic_bench.py --quick               # CI: seconds
With DATABASE_URL the bench migrates that database and writes into it: give it one you can drop.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DUE = {
    "needs work": 200,
    "on the lock": 300,
    "PIN kept": 150,
    "suspect": 60,
    "enrolling": 20,
    "open alerts": 40,
    "stalled operations": 10,
    "waiting operations": 10,
    "photos to fetch": 30,
    "remote unlocks": 10,
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000", help="two history sizes of the codes table")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each query per size (the median is shown)")
    parser.add_argument("--quick", action="store_true", help="CI: 2,000 then 20,000 rows, 3 runs")
    args = parser.parse_args()
    sizes = [2_000, 20_000] if args.quick else [int(size) for size in args.sizes.split(",")]
    repeat = 3 if args.quick else args.repeat

    workdir = Path(tempfile.mkdtemp(prefix="periodic-bench-"))
    try:
        return run(workdir, sizes, repeat)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(workdir: Path, sizes: list[int], repeat: int) -> int:
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(workdir / "var"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "localhost",  # required in production mode; no request is served here
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'db.sqlite3'}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from locks import convergence, media, reconcile, remote
    from locks.alert_scans import CODE_KINDS, EMAIL_RETRY_FOR
    from locks.alerts import unclaimed
    from locks.models import (
        CODE_ON_LOCK,
        CODE_PIN_KEPT,
        CODE_SUSPECT,
        AccessCode,
        Alert,
        CloudAccount,
        EventMedia,
        Lock,
        LockEvent,
        LockOperation,
        RemoteUnlockRequest,
        UnlockMethod,
    )
    from locks.pins import PIN_RETENTION
    from tenants.models import Organisation, Property, Unit

    postgres = connection.vendor == "postgresql"
    now = timezone.now()
    organisation = Organisation.objects.create(name="Fleet", slug=f"fleet-{int(time.time())}")
    prop = Property.objects.create(organisation=organisation, name="Tower", time_zone="Europe/Amsterdam")
    unit = Unit.objects.create(property=prop, name="101")
    account = CloudAccount.objects.create(
        organisation=organisation, name="bench", access_id="id", access_secret="secret", endpoint="http://localhost"
    )
    locks = Lock.objects.bulk_create(
        Lock(organisation=organisation, cloud_account=account, device_id=f"dev{n}", name=f"Door {n}", unit=unit)
        for n in range(100)
    )
    template = AccessCode.objects.create(
        organisation=organisation,
        lock=locks[0],
        label="history",
        pin="123456",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=2),
        time_zone="Europe/Amsterdam",
        status=AccessCode.Status.REMOVED,
        desired=AccessCode.Desired.REMOVED,
        pin_purged_at=now - timedelta(days=1),
    )
    method_template = UnlockMethod.objects.create(
        organisation=organisation, lock=locks[0], unlock_type="password", status=UnlockMethod.Status.DELETED
    )
    operation_template = LockOperation.objects.create(
        organisation=organisation, lock=locks[0], kind=LockOperation.Kind.SYNC_PENDING, status=LockOperation.Status.DONE
    )
    event_template = LockEvent.objects.create(
        organisation=organisation, lock=locks[0], category="alarm", occurred_at=now, natural_key="template"
    )
    media_template = EventMedia.objects.create(
        organisation=organisation, event=event_template, file_url="https://media.example/x", status="done"
    )
    request_template = RemoteUnlockRequest.objects.create(
        organisation=organisation, lock=locks[0], requested_at=now, status=RemoteUnlockRequest.Status.EXPIRED
    )

    # Each periodic look-up as the query it sends (those that update, expiry and the PIN purge, as the SELECT of the
    # rows they would change): timed as run, and explained.
    querysets: dict[str, Any] = {
        "sweeper: codes to converge": convergence.due_codes(now),
        "sweeper: codes to expire": AccessCode.objects.filter(CODE_ON_LOCK, ends_at__lte=now)
        .order_by()
        .values_list("pk", flat=True),
        "purge: PINs to erase": AccessCode.objects.filter(CODE_PIN_KEPT, ends_at__lt=now - PIN_RETENTION)
        .order_by()
        .values_list("pk", flat=True),
        "scan: failed or stuck codes": AccessCode.objects.filter(CODE_SUSPECT, ends_at__gt=now - timedelta(days=1))
        .order_by()
        .values_list("pk", flat=True),
        "scan: open code alerts": Alert.objects.filter(kind__in=CODE_KINDS, resolved_at__isnull=True).values_list(
            "organisation_id", "dedup_key"
        ),
        "enrollments to watch": UnlockMethod.objects.filter(status="enrolling", entry_sent_at__isnull=False)
        .order_by()
        .values_list("pk", flat=True),
        "sweeper: operations stalled": LockOperation.objects.filter(
            status=LockOperation.Status.RUNNING, started_at__lt=now - timedelta(minutes=5)
        ).values_list("pk", flat=True),
        "sweeper: operations waiting": LockOperation.objects.filter(
            status=LockOperation.Status.REQUESTED, created_at__lt=now - timedelta(seconds=30)
        ).values_list("pk", flat=True)[:200],
        "events: photos to fetch again": EventMedia.objects.filter(
            status=EventMedia.Status.PENDING, attempts__lt=media.MAX_ATTEMPTS, updated_at__lt=now - media.RETRY_AFTER
        )
        .order_by()
        .values_list("pk", flat=True)[:1000],
        "scan: remote unlocks to expire": RemoteUnlockRequest.objects.filter(
            status=RemoteUnlockRequest.Status.PENDING, requested_at__lte=now - remote.WINDOW
        ).values_list("pk", flat=True),
        "scan: e-mails not sent": Alert.objects.filter(
            unclaimed(now), resolved_at__isnull=True, first_seen_at__gte=now - EMAIL_RETRY_FOR
        ).values_list("pk", flat=True),
        "reconcile: codes on a lock": reconcile.codes_that_may_be_on(locks[0]),
    }

    def grow(total: int) -> None:
        """Finished history up to `total` codes (a twentieth failed long ago, a tenth as many resolved alerts and
        finished enrollments), inserted by the database itself from the template rows."""
        have = AccessCode.objects.count()
        if total > have:
            tenth = (total - have) // 10
            clone_codes(connection, template.pk, total - have, postgres)
            clone_alerts(connection, organisation.pk, tenth, postgres, first=have)
            clone_rows(connection, "locks_unlockmethod", method_template.pk, tenth, postgres)
            finished_at = hours_ago("48 + s.n % 26000", postgres)
            clone_rows(
                connection,
                "locks_lockoperation",
                operation_template.pk,
                tenth,
                postgres,
                created_at=finished_at,
                started_at=finished_at,
            )
            clone_rows(
                connection, "locks_remoteunlockrequest", request_template.pk, tenth, postgres, requested_at=finished_at
            )
            clone_events_with_media(connection, event_template.pk, media_template.pk, tenth, postgres, first=have)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    grow(sizes[0])
    add_due_rows(organisation, locks, now)
    figures: dict[str, list[tuple[float, int, str, float | None]]] = {name: [] for name in querysets}
    for size in sizes:
        grow(size)
        for name, queryset in querysets.items():
            list(queryset.all())  # warm
            times, found = [], 0
            for _ in range(repeat):
                started = time.perf_counter()
                found = len(list(queryset.all()))
                times.append(time.perf_counter() - started)
            plan = queryset.explain()
            baseline = seq_scan_time(connection, queryset, repeat) if postgres else None
            figures[name].append((statistics.median(times), found, index_in(plan), baseline))

    print(f"periodic_bench: {connection.vendor}, {platform.machine()}, Python {platform.python_version()}")
    print(f"history sizes (codes): {sizes[0]:,} → {sizes[1]:,}; due rows fixed: {DUE}; median of {repeat} runs")
    header = f"{'query':32} {'at ' + format(sizes[0], ','):>13} {'at ' + format(sizes[1], ','):>14} {'ratio':>6} "
    header += f"{'rows':>5}  index used"
    if postgres:
        header += f"   seq scan at {sizes[1]:,} (baseline)"
    print(header)
    failures = []
    for name, ((small, found_small, _, _), (big, found_big, index_big, baseline)) in figures.items():
        line = f"{name:32} {small * 1000:10.2f} ms {big * 1000:11.2f} ms {big / small:6.2f} {found_big:5}  {index_big}"
        if baseline is not None:
            line += f"   {baseline * 1000:.1f} ms"
        print(line)
        if found_small != found_big:
            failures.append(f"{name}: found {found_small} then {found_big} rows (the due rows did not change)")
        if index_big == "none" and postgres:  # SQLite matches a partial index only to literal values, not parameters
            failures.append(f"{name}: no index in the plan at {sizes[1]:,} rows")
    for failure in failures:
        print("FAIL", failure)
    return 1 if failures else 0


def hours_ago(hours: str, postgres: bool) -> str:
    return f"now() - make_interval(hours => {hours})" if postgres else f"datetime('now', '-' || ({hours}) || ' hours')"


def clone_codes(connection: Any, template_id: int, count: int, postgres: bool) -> None:
    """`count` finished codes like the template, ended over the last three years; one in twenty failed."""
    table = "locks_accesscode"
    overridden = ("id", "ends_at", "starts_at", "status", "desired")
    columns = [c for c in column_names(connection, table) if c not in overridden]
    ends, starts = hours_ago("48 + s.n % 26000", postgres), hours_ago("72 + s.n % 26000", postgres)
    # As the convergence leaves them: removed codes were wanted removed; expired and failed ones were still wanted.
    status = "CASE WHEN s.n % 20 = 0 THEN 'failed' WHEN s.n % 2 = 0 THEN 'expired' ELSE 'removed' END"
    desired = "CASE WHEN s.n % 20 <> 0 AND s.n % 2 <> 0 THEN 'removed' ELSE 'active' END"
    copied = ", ".join("t." + c for c in columns)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, ends_at, starts_at, status, desired) "
        f"SELECT {copied}, {ends}, {starts}, {status}, {desired} FROM {table} t, {numbers(count, postgres)} "
        f"WHERE t.id = {int(template_id)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def clone_alerts(connection: Any, organisation_id: int, count: int, postgres: bool, *, first: int) -> None:
    """Resolved code alerts of years past (their keys made unique as `_close` does)."""
    if count <= 0:
        return
    moment = hours_ago("48 + s.n % 26000", postgres)
    key = f"'code_not_set:code:old#' || (s.n + {int(first)})"
    sql = (
        "INSERT INTO locks_alert (organisation_id, kind, dedup_key, message, count, first_seen_at, last_seen_at, "
        f"resolved_at) SELECT {int(organisation_id)}, 'code_not_set', {key}, 'history', 1, {moment}, {moment}, "
        f"{moment} FROM {numbers(count, postgres)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def clone_rows(connection: Any, table: str, template_id: int, count: int, postgres: bool, **overrides: str) -> None:
    """`count` copies of the template row (finished enrollments, operations, remote unlocks), with `overrides`: SQL
    expressions over the series number `s.n`."""
    if count <= 0:
        return
    columns = [c for c in column_names(connection, table) if c != "id" and c not in overrides]
    copied = ", ".join(["t." + c for c in columns] + list(overrides.values()))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns + list(overrides))}) SELECT {copied} FROM {table} t, "
        f"{numbers(count, postgres)} WHERE t.id = {int(template_id)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def clone_events_with_media(
    connection: Any, event_id: int, media_id: int, count: int, postgres: bool, *, first: int
) -> None:
    """`count` old events (each its own record), each with a photo fetched long ago."""
    if count <= 0:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM locks_lockevent")
        (last,) = cursor.fetchone()
    moment = hours_ago("48 + s.n % 26000", postgres)
    clone_rows(
        connection,
        "locks_lockevent",
        event_id,
        count,
        postgres,
        natural_key=f"'history-' || (s.n + {int(first)})",
        occurred_at=moment,
        created_at=moment,
    )
    table = "locks_eventmedia"
    columns = [c for c in column_names(connection, table) if c not in ("id", "event_id")]
    copied = ", ".join("t." + c for c in columns)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, event_id) SELECT {copied}, e.id FROM {table} t, "
        f"locks_lockevent e WHERE t.id = {int(media_id)} AND e.id > {int(last)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def numbers(count: int, postgres: bool) -> str:
    """A FROM item `s` with a column `n` running 1..count."""
    if postgres:
        return f"generate_series(1, {int(count)}) AS s(n)"
    recursive = f"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {int(count)})"
    return f"({recursive} SELECT n FROM c) s"


def column_names(connection: Any, table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [column.name for column in connection.introspection.get_table_description(cursor, table)]


def add_due_rows(organisation: Any, locks: list[Any], now: Any) -> None:
    """The rows each query should find, the same number at every size."""
    from locks.models import AccessCode, Alert, EventMedia, LockEvent, LockOperation, RemoteUnlockRequest, UnlockMethod

    def code(n: int, **fields: Any) -> Any:
        values = {
            "organisation": organisation,
            "lock": locks[n % len(locks)],
            "label": "due",
            "pin": "123456",
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=2),
            "time_zone": "Europe/Amsterdam",
        }
        values.update(fields)
        return AccessCode(**values)

    Status, Desired = AccessCode.Status, AccessCode.Desired
    rows = [code(n, status=Status.REQUESTED) for n in range(DUE["needs work"])]
    rows += [code(n, status=Status.SET, ends_at=now - timedelta(minutes=1)) for n in range(DUE["on the lock"] // 3)]
    rows += [code(n, status=Status.SET) for n in range(DUE["on the lock"] - DUE["on the lock"] // 3)]
    rows += [
        code(n, status=Status.EXPIRED, starts_at=now - timedelta(days=41), ends_at=now - timedelta(days=40))
        for n in range(DUE["PIN kept"])
    ]
    rows += [code(n, status=Status.FAILED, desired=Desired.ACTIVE) for n in range(DUE["suspect"])]
    AccessCode.objects.bulk_create(rows)
    Alert.objects.bulk_create(
        Alert(
            organisation=organisation,
            kind=Alert.Kind.CODE_NOT_SET,
            dedup_key=f"code_not_set:code:due{n}",
            message="due",
            first_seen_at=now,
            last_seen_at=now,
        )
        for n in range(DUE["open alerts"])
    )
    UnlockMethod.objects.bulk_create(
        UnlockMethod(
            organisation=organisation,
            lock=locks[n],
            unlock_type="fingerprint",
            status=UnlockMethod.Status.ENROLLING,
            entry_sent_at=now,
        )
        for n in range(DUE["enrolling"])
    )
    hour_ago = now - timedelta(hours=1)
    operations = LockOperation.objects.bulk_create(
        LockOperation(organisation=organisation, lock=locks[n], kind="sync", status=status)
        for n, status in enumerate(["running"] * DUE["stalled operations"] + ["requested"] * DUE["waiting operations"])
    )
    LockOperation.objects.filter(pk__in=[o.pk for o in operations]).update(created_at=hour_ago, started_at=hour_ago)
    events = LockEvent.objects.bulk_create(
        LockEvent(organisation=organisation, lock=locks[n], category="alarm", occurred_at=now, natural_key=f"due-{n}")
        for n in range(DUE["photos to fetch"])
    )
    photos = EventMedia.objects.bulk_create(
        EventMedia(organisation=organisation, event=event, file_url="https://media.example/x") for event in events
    )
    EventMedia.objects.filter(pk__in=[p.pk for p in photos]).update(updated_at=hour_ago)
    RemoteUnlockRequest.objects.bulk_create(
        RemoteUnlockRequest(organisation=organisation, lock=locks[n], requested_at=hour_ago)
        for n in range(DUE["remote unlocks"])
    )


def index_in(plan: str) -> str:
    """The index a plan reads (PostgreSQL: `Index Scan using x`, `Bitmap Index Scan on x`; SQLite: `USING INDEX x`),
    or "none"."""
    names = []
    for line in plan.splitlines():
        for marker in (" using ", " on ", "USING INDEX ", "USING COVERING INDEX "):
            if ("Index" in line or "INDEX" in line) and marker in line:
                names.append(line.split(marker, 1)[1].split()[0])
                break
    return ", ".join(dict.fromkeys(names)) or "none"


def seq_scan_time(connection: Any, queryset: Any, repeat: int) -> float:
    """The query as it ran before its index: index and bitmap scans off for this session."""
    times = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off")
        try:
            for _ in range(max(3, repeat // 3)):
                started = time.perf_counter()
                len(list(queryset.all()))
                times.append(time.perf_counter() - started)
        finally:
            cursor.execute("RESET enable_indexscan; RESET enable_bitmapscan; RESET enable_indexonlyscan")
    return statistics.median(times)


if __name__ == "__main__":
    raise SystemExit(main())
