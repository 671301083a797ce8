"""Door codes in batches per cloud account: one job sends the account's new codes and confirms its waiting ones.

Two RQ jobs per code (the create, then a delayed one only to read the password back) cost more than the cloud
calls they made: each job's Redis round trips, a claim, a load and its writes, and every cloud call waited on by
one worker in turn. Instead the account's batch job (`queues.enqueue_code_batch`, one waiting per account):

- sends new codes (issued, never tried: `issue_access_code` asks for this job instead of a converge job): claims
  them in one statement, records "sending" for all in one write before any call (a crash after it is known to have
  possibly sent: the converge job then looks for the password by its marker before creating again), creates them
  up to WORKERS at a time, and records every password id in one write;
- confirms codes waiting for their lock (a create, change, freeze or unfreeze sent, by this job or a converge job
  that then asked for it): reads each lock once (its one waiting password, or its list when several wait), up to
  WORKERS locks at a time, and writes every confirmation with its webhook events in one transaction.

Anything else goes back to the code's own converge job, which knows every case: a failed call or delivery, a
password gone, a wish changed meanwhile, a code past the confirmation window. The job runs again at once while
more codes are ready than one run takes (so both workers share a burst), and after a poll while codes wait.

Leases as the converge job's: a code is claimed (`lease_until`) before it is sent or read and released in the write
that records the outcome, so a converge job and a batch never work on one code at once, and a killed worker's codes
are free again when the lease ends. The sweeper remains the outbox: a code whose batch job is lost is due to it after
`queues.CODE_BATCH_FALLBACK` and gets a converge job of its own.
"""

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
from locks.models import CODE_NEEDS_WORK_NOW, NO_FAILURE, AccessCode
from webhooks import payloads
from webhooks.emit import emit_each

Status = AccessCode.Status
Desired = AccessCode.Desired

SEND_BATCH = 50  # new codes sent per run: a burst is shared between runs, and so between workers
CONFIRM_BATCH = 500  # waiting codes read per run
WORKERS = 8  # cloud calls in flight at once per run: each waits on the network (the client backs off from 1199s)
WAITING_OPS = ("create", "modify", "freeze", "unfreeze")  # steps confirmed by reading the password's state
# What a confirmed step leaves, for the code's wish: anything else is the converge job's to sort out.
SETTLED: dict[tuple[str, str], str] = {("set", Desired.ACTIVE): Status.SET, ("frozen", Desired.FROZEN): Status.FROZEN}
ACCOUNT_WIDE = (port.Unavailable, port.AccountRefused)  # every lock of the account would answer the same


@dataclass
class Outcome:
    sent: list[AccessCode] = field(default_factory=list)
    settled: dict[str, list[AccessCode]] = field(default_factory=lambda: defaultdict(list))
    waiting: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # recorded already: only the lease to release
    handed_back: list[int] = field(default_factory=list)


def run_batch(account_id: int) -> int:
    """Send the account's new codes and settle what its locks confirmed; returns how many codes were sent or
    settled. Safe to run twice or concurrently (each code is leased)."""
    now = timezone.now()
    fresh = list(_fresh(account_id, now).values_list("pk", flat=True)[: SEND_BATCH + 1])
    ready_before = now - timedelta(seconds=settings.CODE_POLL_SECONDS)  # given the lock a moment, as one poll did
    waiting = list(_waiting(account_id, now).values_list("pk", "op_started_at")[: CONFIRM_BATCH + 1])
    ready = [pk for pk, started in waiting if started is None or started <= ready_before]
    claimed = _claim(fresh[:SEND_BATCH] + ready[:CONFIRM_BATCH], now)
    if len(fresh) > SEND_BATCH or len(ready) > CONFIRM_BATCH:
        queues.enqueue_code_batch(account_id)  # more than one run takes: the next run starts on another worker
    outcome = Outcome()
    if claimed:
        codes = list(AccessCode.objects.filter(pk__in=claimed).select_related("lock__cloud_account"))
        cloud = cloud_for(codes[0].lock.cloud_account)
        new = [code for code in codes if _is_new(code, now)]
        waiting_now = [code for code in codes if code not in new and _is_waiting(code)]
        # Neither any more (a converge job took a step between the look-up and the claim): that job's to go on with.
        outcome.handed_back += [code.pk for code in codes if code not in new and code not in waiting_now]
        _send(cloud, new, now, outcome)
        _read_locks(cloud, waiting_now, now, outcome)
        _record(codes, outcome, now)
    if outcome.sent or outcome.waiting or len(waiting) > len(ready):
        queues.enqueue_code_batch(account_id, delay=timedelta(seconds=settings.CODE_POLL_SECONDS))
    return len(outcome.sent) + sum(len(codes) for codes in outcome.settled.values())


def _fresh(account_id: int, now: datetime) -> QuerySet[AccessCode]:
    """The account's new codes, never tried (a code that failed or backed off is its converge job's), on locks the
    breaker has not paused, that no worker holds (the `code_needs_work` index)."""
    return (
        AccessCode.objects.filter(CODE_NEEDS_WORK_NOW, lock__cloud_account_id=account_id, status=Status.REQUESTED)
        .filter(cloud_password_id__isnull=True, desired=Desired.ACTIVE, needs_modify=False, attempts=0)
        .filter(ends_at__gt=now)
        .exclude(lease_until__gte=now)
        .exclude(lock__paused_until__gt=now)
        .order_by()
    )


def _is_new(code: AccessCode, now: datetime) -> bool:
    """Still new once claimed, as `_fresh` says (a converge job may have taken a step between the two)."""
    return (
        code.status == Status.REQUESTED
        and code.cloud_password_id is None
        and code.desired == Desired.ACTIVE
        and not code.needs_modify
        and code.attempts == 0
        and code.ends_at > now
    )


def _is_waiting(code: AccessCode) -> bool:
    """Still waiting for its lock once claimed, as `_waiting` says."""
    return (
        code.pending_op in WAITING_OPS
        and code.cloud_password_id is not None
        and not code.needs_modify
        and code.desired != Desired.REMOVED
    )


def _send(cloud: LockCloud, codes: list[AccessCode], now: datetime, outcome: Outcome) -> None:
    """Create the new codes' passwords, up to WORKERS at a time; every outcome is written by `_record`."""
    if not codes:
        return
    # Recorded before any call: a crash after it is known to have possibly sent, and the converge job looks for the
    # password by its marker before creating again.
    AccessCode.objects.filter(pk__in=[code.pk for code in codes]).update(
        status=Status.SENDING, pending_op="create", op_started_at=now, updated_at=now
    )
    for code in codes:
        code.status, code.pending_op, code.op_started_at = Status.SENDING, "create", now
    specs = [convergence.password_spec(code) for code in codes]  # the PINs decrypted here, not in the threads
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(codes))) as pool:
        # Each call in a copy of this context: the call budget's priority is a context variable (the job's queue).
        calls = [
            pool.submit(contextvars.copy_context().run, cloud.create_password, code.lock, spec)
            for code, spec in zip(codes, specs, strict=True)
        ]
        for code, call in zip(codes, calls, strict=True):
            try:
                code.cloud_password_id = call.result()
            except port.CloudError as error:
                # Recorded as the converge job would (backoff, account paused, failed); later tries are its own.
                convergence.record_failed_create(code, error)
                outcome.failed.append(code.pk)
            else:
                outcome.sent.append(code)


def _waiting(account_id: int, now: datetime) -> QuerySet[AccessCode]:
    """The account's codes waiting for their lock to confirm a step, that no worker holds (the `code_needs_work`
    index: every one of them needs work)."""
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
    WORKERS locks at a time."""
    by_lock: dict[int, list[AccessCode]] = defaultdict(list)
    for code in codes:
        by_lock[code.lock_id].append(code)
    groups = list(by_lock.values())
    if not groups:
        return
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(groups))) as pool:
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
    """What the cloud and the locks said, in one transaction: password ids, confirmations (with their webhook
    events), the next look's time, leases released; whatever goes back to its converge job is enqueued after."""
    later = now + queues.CODE_BATCH_FALLBACK
    with transaction.atomic():
        # A wish changed since the load (a service does not wait for the lease) is the converge job's to act on.
        loaded = {code.pk: code.version for code in codes}
        current = dict(AccessCode.objects.select_for_update().filter(pk__in=list(loaded)).values_list("pk", "version"))
        changed = {pk for pk, version in loaded.items() if current.get(pk) != version}
        if outcome.sent:  # the password ids are facts whatever changed: a changed code goes on from its id
            for code in outcome.sent:
                code.next_attempt_at, code.lease_until = (now if code.pk in changed else later), None
            AccessCode.objects.bulk_update(outcome.sent, ["cloud_password_id", "next_attempt_at", "lease_until"])
            outcome.handed_back += [code.pk for code in outcome.sent if code.pk in changed]
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
        if outcome.failed:
            AccessCode.objects.filter(pk__in=outcome.failed).update(lease_until=None)
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
        status=status, pending_op="", attempts=0, **NO_FAILURE, failure_code=None, lease_until=None,
        updated_at=now,
    )  # fmt: skip
    events: list[tuple[int, payloads.Data, datetime]] = []
    for code in codes:
        before, code.status = code.status, status
        code.pending_op, code.attempts, code.failure_code = "", 0, None
        code.note_failure(None)
        if before != status:
            events.append((code.organisation_id, payloads.access_code(code), now))
    event_type = convergence.CONFIRMED_EVENTS.get(status)
    if event_type is not None and events:
        emit_each(event_type, events)
