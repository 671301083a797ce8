"""RQ jobs: load by id, check it is still wanted, call a service. Each is safe to run twice.

Nothing enqueues a job by importing this module: `locks.queues` names each job by its dotted path, so the
services this module imports never import it back.
"""

from __future__ import annotations

import logging
from contextlib import suppress

import django_rq
from redis.exceptions import RedisError

from locks import (
    accounts,
    code_batches,
    convergence,
    enrollment,
    events,
    lock_users,
    media,
    operations,
    pins,
    queues,
    reconcile,
    rounds,
    unlock_methods,
    user_sync,
)
from locks.cloud import budget
from locks.models import Lock

logger = logging.getLogger(__name__)


def converge_access_code(code_id: int) -> str:
    """Move one door code towards its desired state on the lock."""
    # From here on, a new request for this code gets a job of its own (this one may have read old wishes).
    with suppress(RedisError):  # the process's client: a new one per job costs a connection
        queues.connection(queues.CODES_QUEUE).delete(queues.queued_marker(code_id))
    return convergence.converge_access_code(code_id)


def run_code_batch(account_id: int) -> int:
    """Settle every code the locks of one cloud account confirmed; returns how many."""
    # From here on, a code that starts waiting gets a job of its own (this one may have looked already).
    with suppress(RedisError):
        queues.connection(queues.CODES_QUEUE).delete(queues.code_batch_marker(account_id))
    return code_batches.run_batch(account_id)


def sweep_access_codes() -> int:
    """Periodic: enqueue every code that is not settled and due, and expire codes past their end."""
    convergence.expire_codes()
    due = list(convergence.due_codes())
    for code_id in due:
        queues.enqueue_converge(code_id)
    for operation_id in operations.stalled_operations():
        queues.enqueue_lock_operation(operation_id)
    return len(due)


def purge_old_pins() -> int:
    """Periodic: erase PINs 30 days after their code ended (docs/reliability.md S7)."""
    return pins.purge_old_pins()


def import_cloud_locks(account_id: int) -> str:
    """Bring in a connected cloud project's locks (retried when the cloud is busy or unreachable)."""
    return accounts.run_import(account_id)


def reconcile_lock(lock_id: int) -> int:
    """Compare one lock's passwords in the cloud with ours; returns how many codes were sent for repair."""
    lock = Lock.objects.select_related("cloud_account").filter(pk=lock_id).first()
    if lock is None:
        return 0  # deleted since: nothing to do
    return len(reconcile.reconcile_lock(lock).repaired)


def reconcile_all_locks() -> int:
    """Periodic: the reconcile round, one job per chunk of locks on the maintenance queue (locks/rounds.py)."""
    with rounds.starting(rounds.RECONCILE, queues.MAINTENANCE_QUEUE):
        lock_ids = list(Lock.objects.order_by("pk").values_list("pk", flat=True))
        return rounds.start(rounds.RECONCILE, queues.MAINTENANCE_QUEUE, "locks.jobs.reconcile_locks", lock_ids)


def reconcile_locks(round_name: str, lock_ids: list[int]) -> int:
    """One chunk of the reconcile round; returns how many codes were sent for repair."""
    return rounds.run_chunk(round_name, queues.MAINTENANCE_QUEUE, lock_ids, reconcile_lock, "reconcile")


def run_lock_operation(operation_id: int) -> str:
    """Carry out an offline/dynamic/advanced password request, a hotel clear or a sync."""
    return operations.run_lock_operation(operation_id)


# --- lock users and unlock methods (issue #6) ------------------------------------------------------------------
# Ids only; each job reloads the row and does nothing when nothing is pending, so running twice is safe.


def push_lock_user(lock_user_id: int) -> str:
    """Send a person's pending add, change or removal to the cloud."""
    return lock_users.push_user(lock_user_id)


def push_unlock_method(method_id: int) -> str:
    """Start or cancel an enrollment, or send a rename, duress, assignment or deletion."""
    return unlock_methods.push_method(method_id)


def watch_enrollment(method_id: int) -> str:
    """Look for the enrolled method in the cloud; enqueues itself again until it appears or time runs out."""
    return enrollment.watch_enrollment(method_id)


def sync_lock_users(lock_id: int) -> str:
    """Read a lock's people and unlock methods from the cloud."""
    return str(user_sync.sync_lock(lock_id))


def sweep_enrollments() -> int:
    """Periodic: an enrollment whose watch chain was lost (Redis outage, killed worker) gets a new one."""
    connection = django_rq.get_connection(queues.USERS_QUEUE)
    restarted = 0
    for method_id in enrollment.enrolling_method_ids():
        if not connection.exists(queues.watch_marker(method_id)):
            queues.enqueue_enrollment_watch(method_id, delay=None)
            restarted += 1
    return restarted


# --- events sync and event photos (issue #6 items 1-3: locks/events.py, locks/media.py) ------------------------


def sync_lock_events(lock_id: int) -> int:
    """Read one lock's new unlock and alert records; returns how many events were new."""
    lock = Lock.objects.select_related("cloud_account").filter(pk=lock_id).first()
    if lock is None or not events.streams_for(lock.kind):
        return 0  # deleted since, or a kind with no records to read
    connection = django_rq.get_connection(queues.SYNC_QUEUE)
    # From here on, a new message about this lock gets a job of its own (this one may read too early).
    with suppress(RedisError):
        connection.delete(
            *(queues.sync_soon_marker(name, lock_id) for name in (queues.UNLOCK_QUEUE, queues.SYNC_QUEUE))
        )
    guard, again = f"doors:events-sync-running:{lock_id}", f"doors:events-sync-again:{lock_id}"
    new = 0
    while True:
        if not connection.set(guard, 1, nx=True, ex=600):
            # Another worker is syncing this lock and may have read the cloud before the record that brought
            # this job: it reads once more when done. Asked again after raising the flag, so a holder that
            # let go in between is not missed.
            connection.set(again, 1, ex=600)
            if not connection.set(guard, 1, nx=True, ex=600):
                return new
        try:
            connection.delete(again)
            new += events.sync_lock(lock).new
        finally:
            connection.delete(guard)
        if not connection.exists(again):
            return new


def sync_all_lock_events() -> int:
    """Periodic: the events-sync round over the locks that are due (events.due_lock_ids), one job per chunk;
    returns how many locks it enqueued."""
    with rounds.starting(rounds.EVENTS_SYNC, queues.SYNC_QUEUE):
        for media_id in media.due_media_ids():
            queues.enqueue_media(media_id)  # photos whose job was lost, or whose last try hit a passing problem
        due = events.due_lock_ids()
        return rounds.start(rounds.EVENTS_SYNC, queues.SYNC_QUEUE, "locks.jobs.sync_locks_events", due)


def sync_locks_events(round_name: str, lock_ids: list[int]) -> int:
    """One chunk of the events-sync round (safety-net polling: it gives way to pushed syncs and door codes in the
    project's call budget); returns how many events were new."""
    with budget.at(budget.Priority.POLL):
        return rounds.run_chunk(round_name, queues.SYNC_QUEUE, lock_ids, sync_lock_events, "events sync")


def fetch_event_media(media_id: int) -> str:
    """Download, decrypt and store one event photo and its thumbnail."""
    return media.fetch_media(media_id)
