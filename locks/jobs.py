"""RQ jobs: load by id, check it is still wanted, call a service. Each is safe to run twice.

Enqueue failures are logged, not raised: the sweeper finds every unsettled code again, so a job lost
to a Redis outage or a killed worker is only late, never lost.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import timedelta

import django_rq
from redis.exceptions import RedisError
from rq import Retry

from locks import services

logger = logging.getLogger(__name__)

CODES_QUEUE = "codes"


def converge_access_code(code_id: int) -> str:
    """Move one door code towards its desired state on the lock."""
    # From here on, a new request for this code gets a job of its own (this one may have read old wishes).
    with suppress(RedisError):
        django_rq.get_connection(CODES_QUEUE).delete(_queued_marker(code_id))
    return services.converge_access_code(code_id)


def sweep_access_codes() -> int:
    """Periodic: enqueue every code that is not settled and due, and expire codes past their end."""
    services.expire_codes()
    due = list(services.due_codes())
    for code_id in due:
        enqueue_converge(code_id)
    for operation_id in services.stalled_operations():
        enqueue_lock_operation(operation_id)
    return len(due)


QUEUED_MARKER_SECONDS = 60  # a lost job's marker lapses, so the sweeper can hand the code out again


def _queued_marker(code_id: int) -> str:
    return f"doors:converge-queued:{code_id}"


def enqueue_converge(code_id: int, *, delay: timedelta | None = None) -> None:
    """One waiting job per code is enough: it reads the latest wishes when it starts.

    A marker, not the job's status, says "already waiting": a job stuck in a dead scheduler's registry
    or on a killed worker must not keep the code from ever getting a new one. With a delay the job waits
    in RQ's scheduled registry (moved to the queue by a worker started --with-scheduler, about every second).
    """
    try:
        connection = django_rq.get_connection(CODES_QUEUE)
        if not connection.set(_queued_marker(code_id), 1, nx=True, ex=QUEUED_MARKER_SECONDS):
            return
        queue = django_rq.get_queue(CODES_QUEUE)
        options = {"retry": Retry(max=5, interval=[5, 15, 60, 300, 900]), "failure_ttl": 30 * 24 * 3600}
        if delay is None:
            queue.enqueue(converge_access_code, code_id, **options)
        else:
            queue.enqueue_in(delay, converge_access_code, code_id, **options)
    except RedisError:
        logger.warning("Could not enqueue code %s; the sweeper will pick it up", code_id)


def purge_old_pins() -> int:
    """Periodic: erase PINs 30 days after their code ended (RELIABILITY S7)."""
    return services.purge_old_pins()


def reconcile_lock(lock_id: int) -> int:
    """Compare one lock's passwords in the cloud with ours; returns how many codes were sent for repair."""
    from locks.models import Lock

    lock = Lock.objects.select_related("cloud_account").filter(pk=lock_id).first()
    if lock is None:
        return 0  # deleted since: nothing to do
    return len(services.reconcile_lock(lock).repaired)


def reconcile_all_locks() -> int:
    """Periodic: one reconcile job per lock on the sync queue, paced by the workers."""
    from locks.models import Lock

    queue = django_rq.get_queue("sync")
    lock_ids = list(Lock.objects.values_list("pk", flat=True))
    for lock_id in lock_ids:
        queue.enqueue(reconcile_lock, lock_id, job_id=f"reconcile-{lock_id}", failure_ttl=7 * 24 * 3600)
    return len(lock_ids)


def run_lock_operation(operation_id: int) -> str:
    """Carry out an offline/dynamic/advanced password request, a hotel clear or a sync."""
    return services.run_lock_operation(operation_id)


def enqueue_lock_operation(operation_id: int) -> None:
    try:
        django_rq.get_queue(CODES_QUEUE).enqueue(
            run_lock_operation,
            operation_id,
            job_id=f"lock-operation-{operation_id}",
            retry=Retry(max=3, interval=[5, 30, 120]),
            failure_ttl=30 * 24 * 3600,
        )
    except RedisError:
        logger.warning("Could not enqueue lock operation %s; the sweeper will pick it up", operation_id)
