"""The periodic look-ups and what serves them (issue 15): each condition is one object shared by its query and a
partial index; the plans at scale are bench/periodic_bench.py's, these check the pieces that could drift apart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from locks import convergence
from locks.models import AccessCode, CloudAccount, Lock
from tenants.models import Organisation, Unit

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
