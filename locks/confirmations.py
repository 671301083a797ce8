"""Confirming door codes in batches: one job per cloud account reads each waiting lock once and settles every code
its lock confirmed.

A create (or a change, freeze or unfreeze) reaches the lock a moment after the cloud accepts it. Rather than one
delayed converge job per code to read its one password (a job with its Redis round trips, a claim, a load, a read
and two writes, per code), the converge job leaves the code waiting and asks for its account's confirmation job
(`queues.enqueue_confirmations`, one waiting per account). That job claims the account's waiting codes in one
statement, reads each lock once (its one waiting password, or the lock's list when several wait on it), writes
every confirmation in one transaction with its webhook events, and gives anything else back to the code's own
converge job, which knows every case: a failure, a password gone, a wish changed meanwhile, a code past the
confirmation window. It runs again while codes still wait.

Leases as the converge job's: a code is claimed (`lease_until`) before it is read and released in the write that
records what was read, so a converge job and a confirmation never work on one code at once, and a killed worker's
codes are free again when the lease ends. The sweeper remains the outbox: a waiting code whose confirmation job is
lost is due to it after `convergence.CONFIRM_FALLBACK` and gets a converge job of its own.
"""

from __future__ import annotations

import contextvars
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from locks import convergence, queues
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.cloud.port import CloudPassword, LockCloud
from locks.failures import healthy
from locks.models import CODE_NEEDS_WORK_NOW, AccessCode
from webhooks import payloads
from webhooks.emit import emit_each

Status = AccessCode.Status
Desired = AccessCode.Desired

BATCH = 500  # codes claimed per run; a run that leaves some waiting runs again
READERS = 8  # locks read at once by one run (the cloud's own limit is per project; the client backs off from it)
WAITING_OPS = ("create", "modify", "freeze", "unfreeze")  # steps confirmed by reading the password's state
# What a confirmed step leaves, for the code's wish: anything else is the converge job's to sort out.
SETTLED: dict[tuple[str, str], str] = {("set", Desired.ACTIVE): Status.SET, ("frozen", Desired.FROZEN): Status.FROZEN}
ACCOUNT_WIDE = (port.Unavailable, port.AccountRefused)  # every lock of the account would answer the same


@dataclass
class Outcome:
    settled: dict[str, list[AccessCode]] = field(default_factory=lambda: defaultdict(list))
    waiting: list[int] = field(default_factory=list)
    handed_back: list[int] = field(default_factory=list)


def confirm_waiting(account_id: int) -> int:
    """Read the locks of one cloud account whose codes wait for confirmation and settle what they confirmed;
    returns how many codes were settled. Safe to run twice or concurrently (each code is leased)."""
    now = timezone.now()
    ready_before = now - timedelta(seconds=settings.CODE_POLL_SECONDS)  # given the lock a moment, as one poll did
    candidates = list(_waiting(account_id).values_list("pk", "op_started_at")[:BATCH])
    ready = [pk for pk, started in candidates if started is None or started <= ready_before]
    claimed = _claim(ready, now)
    outcome = Outcome()
    if claimed:
        codes = list(AccessCode.objects.filter(pk__in=claimed).select_related("lock__cloud_account").defer("pin"))
        _read_locks(cloud_for(codes[0].lock.cloud_account), codes, now, outcome)
        _record(codes, outcome, now)
    if len(candidates) > len(ready) or outcome.waiting or len(candidates) == BATCH:
        queues.enqueue_confirmations(account_id, delay=timedelta(seconds=settings.CODE_POLL_SECONDS))
    return sum(len(codes) for codes in outcome.settled.values())


def _waiting(account_id: int) -> QuerySet[AccessCode]:
    """The account's codes waiting for their lock to confirm a step, that no worker holds (the `code_needs_work`
    index: every one of them needs work)."""
    now = timezone.now()
    return (
        AccessCode.objects.filter(CODE_NEEDS_WORK_NOW, lock__cloud_account_id=account_id)
        .filter(pending_op__in=WAITING_OPS, cloud_password_id__isnull=False, needs_modify=False)
        .exclude(desired=Desired.REMOVED)
        .exclude(lease_until__gte=now)
        .order_by()
    )


def _claim(code_ids: list[int], now: datetime) -> list[int]:
    """Lease these codes unless a worker holds one; returns those this run took, in one statement (RETURNING:
    PostgreSQL and SQLite ≥ 3.35), so two runs never take the same code."""
    if not code_ids:
        return []
    table = AccessCode._meta.db_table
    marks = ", ".join(["%s"] * len(code_ids))
    sql = (
        f"UPDATE {table} SET lease_until = %s WHERE id IN ({marks}) "  # noqa: S608 - placeholders, our table name
        "AND (lease_until IS NULL OR lease_until < %s) RETURNING id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [now + convergence.LEASE, *code_ids, now])
        return [row[0] for row in cursor.fetchall()]


def _read_locks(cloud: LockCloud, codes: list[AccessCode], now: datetime, outcome: Outcome) -> None:
    """Read each lock once (its one waiting password, or the list of its passwords when several wait), up to
    READERS locks at a time: each read waits on the network, and one job reading a burst's locks one by one would
    leave the other workers idle behind it."""
    by_lock: dict[int, list[AccessCode]] = defaultdict(list)
    for code in codes:
        by_lock[code.lock_id].append(code)
    groups = list(by_lock.values())
    with ThreadPoolExecutor(max_workers=min(READERS, len(groups))) as pool:
        # Each read in a copy of this context: the call budget's priority is a context variable (the job's queue).
        reads = [pool.submit(contextvars.copy_context().run, _read, cloud, group) for group in groups]
        for group, read in zip(groups, reads, strict=True):
            try:
                states = read.result()
            except ACCOUNT_WIDE:
                # Busy or refused: the converge job backs off, or pauses the account, and says why.
                outcome.handed_back += [code.pk for code in group]
                continue
            except port.CloudError:
                outcome.handed_back += [code.pk for code in group]  # offline, a bad reply: the converge job knows
                continue
            for code in group:
                _judge(code, states.get(code.cloud_password_id or 0), now, outcome)


def _read(cloud: LockCloud, waiting: list[AccessCode]) -> dict[int, CloudPassword]:
    lock = waiting[0].lock
    if len(waiting) == 1:
        password_id = waiting[0].cloud_password_id
        assert password_id is not None  # the look-up asks for codes with a password
        return {password_id: cloud.read_password(lock, password_id)}
    return {password.password_id: password for password in cloud.list_passwords(lock)}


def _judge(code: AccessCode, state: CloudPassword | None, now: datetime, outcome: Outcome) -> None:
    if state is not None and state.state == "pending":
        started = code.op_started_at or code.updated_at
        if now - started <= convergence.CONFIRMATION_WINDOW:
            outcome.waiting.append(code.pk)
            return
    settled = SETTLED.get((state.state, code.desired)) if state is not None else None
    if settled is None:
        outcome.handed_back.append(code.pk)  # failed, gone, past the window, or a step still to take
    else:
        outcome.settled[settled].append(code)


def _record(codes: list[AccessCode], outcome: Outcome, now: datetime) -> None:
    """What the locks said, in one transaction: confirmations (with their webhook events), leases released."""
    later = now + convergence.CONFIRM_FALLBACK
    with transaction.atomic():
        # A wish changed since the load (a service does not wait for the lease) is the converge job's to act on.
        loaded = {code.pk: code.version for code in codes}
        current = dict(AccessCode.objects.select_for_update().filter(pk__in=list(loaded)).values_list("pk", "version"))
        changed = {pk for pk, version in loaded.items() if current.get(pk) != version}
        for status, settled in outcome.settled.items():
            kept = [code for code in settled if code.pk not in changed]
            outcome.handed_back += [code.pk for code in settled if code.pk in changed]
            outcome.settled[status] = kept
            if kept:
                _settle(kept, status, now)
        waiting = [pk for pk in outcome.waiting if pk not in changed]
        outcome.handed_back += [pk for pk in outcome.waiting if pk in changed]
        outcome.waiting = waiting
        if waiting:
            AccessCode.objects.filter(pk__in=waiting).update(lease_until=None, next_attempt_at=later)
        if outcome.handed_back:
            AccessCode.objects.filter(pk__in=outcome.handed_back).update(lease_until=None, next_attempt_at=now)
            handed_back = list(outcome.handed_back)
            transaction.on_commit(lambda: _enqueue_each(handed_back))
    for lock in {code.lock_id: code.lock for settled in outcome.settled.values() for code in settled}.values():
        healthy(lock)  # writes only for a lock or account that had been failing


def _enqueue_each(code_ids: list[int]) -> None:
    for code_id in code_ids:
        queues.enqueue_converge(code_id)


def _settle(codes: list[AccessCode], status: str, now: datetime) -> None:
    """The lock confirmed: one write for all of them, and the webhook event of each whose status changed."""
    AccessCode.objects.filter(pk__in=[code.pk for code in codes]).update(
        status=status, pending_op="", attempts=0, failure_reason="", failure_code=None, lease_until=None,
        updated_at=now,
    )  # fmt: skip
    events: list[tuple[int, payloads.Data, datetime]] = []
    for code in codes:
        before, code.status = code.status, status
        code.pending_op, code.attempts, code.failure_reason, code.failure_code = "", 0, "", None
        if before != status:
            events.append((code.organisation_id, payloads.access_code(code), now))
    event_type = convergence.CONFIRMED_EVENTS.get(status)
    if event_type is not None and events:
        emit_each(event_type, events)
