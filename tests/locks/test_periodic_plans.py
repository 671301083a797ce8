"""The periodic look-ups and what serves them (issue 15): each condition is one object shared by its query and a
partial index; the plans at scale are bench/periodic_bench.py's, these check the pieces that could drift apart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from locks import alert_scans, convergence, enrollment, media, operations, pins, reconcile, remote, selectors
from locks.models import (
    AccessCode,
    Alert,
    CloudAccount,
    EventMedia,
    Lock,
    LockEvent,
    LockOperation,
    RemoteUnlockRequest,
    SyncCursor,
    UnlockMethod,
)
from tenants.models import Membership, Organisation, Role, Unit

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics and plans")
def test_the_sweepers_statistics_are_on_its_index_expression() -> None:
    """The statistics (migration 0019) must be on the very expression the index and query use, or PostgreSQL falls
    back to guessing and plans a parallel scan."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('code_needs_work'::regclass)")
        index = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_get_statisticsobjdef_expressions(oid) FROM pg_statistic_ext "
            "WHERE stxname = 'code_needs_work_flag'"
        )
        (expressions,) = cursor.fetchone()
    assert len(expressions) == 1
    assert f"({expressions[0]})" in index


def _code(lock: Lock, now: datetime, *, days_ago: int = -1, **fields: Any) -> AccessCode:
    values: dict[str, Any] = {
        "organisation_id": lock.organisation_id,
        "lock": lock,
        "label": "code",
        "pin": "",
        "starts_at": now - timedelta(days=days_ago + 1),
        "ends_at": now - timedelta(days=days_ago),
        "time_zone": "UTC",
    }
    return AccessCode(**(values | fields))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_the_sweeper_reads_its_index_not_the_history(org: Organisation, unit: Unit) -> None:
    """With history far larger than what is due, the planner picks the sweeper's index (statistics up to date)."""
    now = timezone.now()
    account = CloudAccount.objects.create(
        organisation=org, name="plans", access_id="id", access_secret="secret", endpoint="http://localhost"
    )
    lock = Lock.objects.create(organisation=org, cloud_account=account, device_id="dev", name="Door", unit=unit)
    removed = {"status": AccessCode.Status.REMOVED, "desired": AccessCode.Desired.REMOVED}
    history = [_code(lock, now, days_ago=400 + n % 300, **removed) for n in range(20_000)]
    AccessCode.objects.bulk_create(history, batch_size=5000)
    due = _code(lock, now, status=AccessCode.Status.REQUESTED)
    due.save()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE locks_accesscode")
    assert list(convergence.due_codes(now + timedelta(seconds=1))) == [due.pk]
    assert "code_needs_work" in convergence.due_codes(now).explain()


HISTORY = 200_000  # codes; a tenth as many of each other kind of row. Smaller, a full index scan looks cheap too


def _clone(table: str, template_id: int, count: int, **overrides: str) -> None:
    """`count` copies of a template row, made by the database (`overrides`: SQL over the series number `s.n`)."""
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
        columns = [c.name for c in description if c.name != "id" and c.name not in overrides]
        copied = ", ".join(["t." + c for c in columns] + list(overrides.values()))
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns + list(overrides))}) SELECT {copied} "
            f"FROM {table} t, generate_series(1, {count}) AS s(n) WHERE t.id = {template_id}"
        )


def _history(locks: list[Lock], now: datetime) -> None:
    """Years of finished rows in every table a periodic job reads, and a few rows that are due in each; the codes
    spread over the fleet's locks as stays leave them (one lock's rows are not side by side on disk)."""
    lock, org = locks[0], locks[0].organisation_id
    long_ago = now - timedelta(days=400)
    any_lock = f"(ARRAY{[lock.pk for lock in locks]})[1 + s.n % {len(locks)}]"
    days_ago = "now() - make_interval(days => {})".format
    finished = _code(lock, now, days_ago=800, status="removed", desired="removed", pin_purged_at=long_ago)
    finished.save()
    _clone("locks_accesscode", finished.pk, HISTORY, lock_id=any_lock, ends_at=days_ago("40 + s.n % 700"))
    # The last month's, their PINs still kept, and the codes of the stays to come: what may still be on the locks.
    _clone(
        "locks_accesscode",
        finished.pk,
        HISTORY // 10,
        lock_id=any_lock,
        ends_at=days_ago("1 + s.n % 28"),
        pin_purged_at="NULL",
    )
    _clone(
        "locks_accesscode",
        finished.pk,
        HISTORY // 20,
        lock_id=any_lock,
        ends_at=days_ago("-2 - s.n % 300"),
        pin_purged_at="NULL",
        status="'set'",
        desired="'active'",
    )
    # Codes that failed on stays long gone (the convergence leaves them failed), their PINs erased.
    _clone("locks_accesscode", finished.pk, HISTORY // 20, lock_id=any_lock, ends_at=days_ago("40 + s.n % 700"),
           status="'failed'", desired="'active'")  # fmt: skip
    _code(lock, now, days_ago=0, status=AccessCode.Status.SET).save()  # just ended: to expire
    _code(lock, now, days_ago=40, status=AccessCode.Status.EXPIRED).save()  # its PIN to erase
    operation = LockOperation.objects.create(organisation_id=org, lock=lock, kind="offline", status="done")
    _clone("locks_lockoperation", operation.pk, HISTORY // 10, created_at=days_ago("s.n % 700"))
    LockOperation.objects.bulk_create(
        LockOperation(organisation_id=org, lock=lock, kind="sync", status=status, started_at=now - timedelta(hours=1))
        for status in ("requested", "running")
    )
    LockOperation.objects.filter(kind="sync").update(created_at=now - timedelta(hours=1))
    event = LockEvent.objects.create(
        organisation_id=org, lock=lock, category="unlock", occurred_at=long_ago, natural_key="r"
    )
    _clone("locks_lockevent", event.pk, HISTORY // 10, natural_key="'r' || s.n")
    photo = EventMedia.objects.create(
        organisation_id=org, event=event, file_url="https://media.example/x", status="done"
    )
    _clone("locks_eventmedia", photo.pk, HISTORY // 10, event_id=f"{event.pk} + s.n")  # the events just made
    EventMedia.objects.bulk_create(
        EventMedia(organisation_id=org, event=event, position=position, file_url="https://media.example/x")
        for position in (1, 2, 3)
    )
    request = RemoteUnlockRequest.objects.create(
        organisation_id=org, lock=lock, requested_at=long_ago, status="expired"
    )
    _clone("locks_remoteunlockrequest", request.pk, HISTORY // 10, requested_at=days_ago("s.n % 700"))
    RemoteUnlockRequest.objects.bulk_create(
        RemoteUnlockRequest(organisation_id=org, lock=lock, requested_at=long_ago, status=status)
        for status in ("pending", "approving")
    )
    alert = Alert.objects.create(
        organisation_id=org,
        lock=lock,
        kind=Alert.Kind.OFFLINE,
        dedup_key="old#0",
        message="history",
        first_seen_at=long_ago,
        last_seen_at=long_ago,
        resolved_at=long_ago,
    )
    # Some never e-mailed: nobody to send them to.
    _clone(
        "locks_alert",
        alert.pk,
        HISTORY // 10,
        dedup_key="'old#' || s.n",
        first_seen_at=days_ago("s.n % 700"),
        emailed_at="CASE WHEN s.n % 3 = 0 THEN NULL ELSE now() END",
        kind="CASE WHEN s.n % 2 = 0 THEN 'offline' ELSE 'code_not_set' END",
    )
    method = UnlockMethod.objects.create(organisation_id=org, lock=lock, unlock_type="card", status="deleted")
    _clone("locks_unlockmethod", method.pk, HISTORY // 10)
    # Streams read lately (every lock's, at steady state), a failing one read long ago, and one that is behind.
    recent = SyncCursor.objects.create(lock=lock, stream="recent", last_synced_at=now)
    _clone("locks_synccursor", recent.pk, HISTORY // 10, stream="'s' || s.n")
    SyncCursor.objects.create(lock=lock, stream="failing", last_synced_at=long_ago, failures=5)
    _clone("locks_synccursor", recent.pk, HISTORY // 10, stream="'f' || s.n", failures="1 + s.n % 5",
           last_synced_at=days_ago("s.n % 30"))  # fmt: skip
    SyncCursor.objects.create(lock=locks[1], stream="open-logs", last_synced_at=now - timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _plans_of(job: Callable[[], object]) -> list[tuple[str, str]]:
    """Each statement the job sends (as sent, its parameters bound) with PostgreSQL's plan for it."""
    with CaptureQueriesContext(connection) as queries:
        job()
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    plans = []
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return plans


def _fleet(org: Organisation, unit: Unit, now: datetime) -> list[Lock]:
    """Fifty locks on one unit's property, with years of history (`_history`)."""
    account = CloudAccount.objects.create(
        organisation=org, name="plans", access_id="id", access_secret="secret", endpoint="http://localhost"
    )
    locks = Lock.objects.bulk_create(
        Lock(organisation=org, cloud_account=account, device_id=f"dev{n}", name=f"Door {n}", unit=unit,
             property_id=unit.property_id)
        for n in range(50)
    )  # fmt: skip
    _history(locks, now)
    return locks


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_a_property_page_counts_the_codes_that_failed_lately_not_every_failure_kept(
    org: Organisation, unit: Unit, django_user_model
) -> None:
    """The property page's count of failed codes per lock reads each lock's recent failures, not the failed codes
    of every stay before (which `lock, status` held, growing with history)."""
    _fleet(org, unit, timezone.now())
    owner = django_user_model.objects.create_user("plans-owner")
    membership = Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)
    plans = _plans_of(lambda: list(selectors.property_locks(membership, unit.property)))
    assert any("code_suspect_lock_ends" in plan for _, plan in plans), plans


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_every_periodic_look_up_reads_its_index_not_the_history(org: Organisation, unit: Unit) -> None:
    """Every statement the periodic jobs send (locks/periodic.py and the jobs it enqueues) reads the partial index of
    what is due, with history far larger than what is due: none scans a table of history."""
    now = timezone.now()
    locks = _fleet(org, unit, now)
    lock = locks[0]
    # The project behind has its alert open and e-mailed already: what follows are the minute's look-ups alone.
    alert_scans.scan_events_behind(now)
    Alert.objects.filter(kind=Alert.Kind.EVENTS_BEHIND).update(emailed_at=now)
    # Each job, and the indexes its statements may read (each statement one of them).
    jobs: dict[str, tuple[Callable[[], object], tuple[str, ...]]] = {
        "sweeper: codes to expire": (lambda: convergence.expire_codes(now), ("code_on_lock_ends",)),
        "sweeper: stalled operations": (
            lambda: operations.stalled_operations(now),
            ("operation_running", "operation_waiting"),
        ),
        # Either index holds only the codes whose PIN is still kept: none of the history.
        "purge: PINs to erase": (lambda: pins.purge_old_pins(now), ("code_pin_kept_ends", "code_may_be_on_lock")),
        "enrollments to watch": (enrollment.enrolling_method_ids, ("method_enrolling",)),
        "scan: failed or stuck codes": (lambda: alert_scans.scan_codes(now), ("code_suspect_ends", "alert_open")),
        "scan: offline locks, low batteries": (lambda: alert_scans.scan_locks(now), ("alert_open",)),
        "scan: e-mails not sent": (lambda: alert_scans.email_unsent(now), ("alert_open",)),
        "scan: event sync behind": (lambda: alert_scans.scan_events_behind(now), ("cursor_read_ok", "alert_open")),
        "scan: remote unlocks to expire": (lambda: remote.expire_requests(now), ("remote_unlock_open",)),
        "events sync: photos to fetch again": (
            lambda: media.due_media_ids(now + timedelta(hours=1)),
            ("media_pending",),
        ),
        "reconcile: codes that may be on the lock": (
            lambda: list(reconcile.codes_that_may_be_on(lock)),
            ("code_may_be_on_lock",),
        ),
    }
    found: dict[str, int] = {}
    misses = []
    for name, (job, indexes) in jobs.items():
        plans = _plans_of(job)
        found[name] = len(plans)
        misses += [f"{name}: {sql}\n{plan}" for sql, plan in plans if not any(index in plan for index in indexes)]
    assert all(found.values()), found  # every job sent its statements
    assert not misses, "\n\n".join(misses)
