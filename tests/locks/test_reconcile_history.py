"""Reconciliation costs the codes that may still be on the lock, not the history it has had: a lock with thousands of
codes removed long ago reconciles with the queries and rows of one without them, decrypts no PIN, and still finds
the same foreign and missing passwords (real simulator over HTTP)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from locks import codes, reconcile
from locks.cloud.tuya import client as cloud
from locks.models import AccessCode, Lock
from tests.locks.conftest import run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)
Status, Desired = AccessCode.Status, AccessCode.Desired
HISTORY = 3000


def set_code(lock: Lock, capture: Any) -> AccessCode:
    starts, ends = window()
    with capture(execute=True):
        code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    run_workers()
    code.refresh_from_db()
    assert code.status == Status.SET
    return code


def add_history(lock: Lock, count: int) -> None:
    """Codes as years of stays leave them: removed or expired, ended long ago, their PINs erased (locks/pins.py)."""
    now = timezone.now()
    AccessCode.objects.bulk_create(
        (
            AccessCode(
                organisation_id=lock.organisation_id,
                lock=lock,
                label=f"Guest {n}",
                pin="",
                pin_purged_at=now - timedelta(days=n % 700),
                starts_at=now - timedelta(days=40 + n % 700, hours=30),
                ends_at=now - timedelta(days=40 + n % 700),
                time_zone="UTC",
                status=Status.REMOVED if n % 2 else Status.EXPIRED,
                desired=Desired.REMOVED if n % 2 else Desired.ACTIVE,
                cloud_password_id=10_000_000 + n,  # passwords the cloud forgot long ago
            )
            for n in range(count)
        ),
        batch_size=1000,
    )


@contextmanager
def counting() -> Iterator[dict[str, Any]]:
    """The queries the reconciliation sends and the codes it loads (model instances made from rows)."""
    loaded: list[int] = []

    def count(sender: type[AccessCode], instance: AccessCode, **kwargs: Any) -> None:
        loaded.append(1)

    post_init.connect(count, sender=AccessCode)
    found: dict[str, Any] = {}
    try:
        with CaptureQueriesContext(connection) as queries:
            yield found
    finally:
        post_init.disconnect(count, sender=AccessCode)
    found.update(queries=len(queries), rows=len(loaded), sql=[q["sql"] for q in queries])


def test_a_lock_with_thousands_of_old_codes_reconciles_like_one_without(
    make_lock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fresh, historic = make_lock("wifi"), make_lock("wifi")
    set_code(fresh, django_capture_on_commit_callbacks)
    set_code(historic, django_capture_on_commit_callbacks)
    add_history(historic, HISTORY)
    results = {}
    for lock in (fresh, historic):
        with counting() as cost:
            result = reconcile.reconcile_lock(lock)
        results[lock.pk] = (result, cost)
    (fresh_result, fresh_cost), (historic_result, historic_cost) = results[fresh.pk], results[historic.pk]
    assert fresh_result == historic_result == reconcile.Reconciliation([], [])
    assert (historic_cost["queries"], historic_cost["rows"]) == (fresh_cost["queries"], fresh_cost["rows"]) == (2, 1)
    assert not any(re.search(r'"pin"', sql) for sql in historic_cost["sql"])  # no PIN read, none decrypted


def test_a_password_the_cloud_still_lists_for_an_old_code_is_ours_not_foreign(
    make_lock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The cloud keeps listing expired passwords: one of a code whose PIN was erased long ago is still recognised."""
    lock = make_lock("wifi")
    old = set_code(lock, django_capture_on_commit_callbacks)
    now = timezone.now()
    AccessCode.objects.filter(pk=old.pk).update(status=Status.EXPIRED, pin="", pin_purged_at=now)
    add_history(lock, 50)
    with counting() as cost:
        assert reconcile.reconcile_lock(lock) == reconcile.Reconciliation([], [])
    assert (cost["queries"], cost["rows"]) == (3, 1)  # the codes that may be on it (none), then that one by its id


def test_codes_removed_here_but_still_on_the_lock_are_removed_again_and_missing_ones_put_back(
    make_lock: Any, world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lock = make_lock("wifi")
    still_there, deleted_outside = (set_code(lock, django_capture_on_commit_callbacks) for _ in range(2))
    add_history(lock, 200)
    # Removed here (as if the cloud had confirmed it), still on the lock: the next reconciliation deletes it again.
    AccessCode.objects.filter(pk=still_there.pk).update(status=Status.REMOVED, desired=Desired.REMOVED)
    password_id = deleted_outside.cloud_password_id
    assert password_id is not None
    cloud.api_for(lock.cloud_account).passwords.delete_temp_password(lock.device_id, password_id)
    deadline = time.monotonic() + 10  # the lock takes the deletion after the simulated delivery delay
    while any(p["password_id"] == password_id and p["phase"] != 0 for p in world.passwords(lock.device_id)):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with django_capture_on_commit_callbacks(execute=True):
        result = reconcile.reconcile_lock(lock)
    assert result == reconcile.Reconciliation([], sorted([still_there.pk, deleted_outside.pk]))
    run_workers()
    still_there.refresh_from_db()
    deleted_outside.refresh_from_db()
    assert (still_there.status, deleted_outside.status) == (Status.REMOVED, Status.SET)
    assert not world.opens(lock.device_id, still_there.pin)
    assert world.opens(lock.device_id, deleted_outside.pin)
