"""RQ jobs: load by id, check it is still wanted, call a service. Each is safe to run twice.

Enqueue failures are logged, not raised: the sweeper finds every unsettled code again, so a job lost
to a Redis outage or a killed worker is only late, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

import django_rq
from redis.exceptions import RedisError
from rq import Retry

from locks import services

logger = logging.getLogger(__name__)

CODES_QUEUE = "codes"
_WAITING = ("queued", "started", "scheduled", "deferred")


def enqueue_once(queue_name: str, job_id: str, func: Callable[..., object], *args: object, **options: Any) -> bool:
    """Enqueue under a fixed id unless that job is still waiting or running, so repeated runs do not pile up
    (RQ itself would push the same id onto the queue again, and overwrite the record of a running job)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    queue = django_rq.get_queue(queue_name)
    try:
        status = Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer).get_status()
    except NoSuchJobError:
        status = None
    if status is not None and str(getattr(status, "value", status)) in _WAITING:
        return False
    options.setdefault("failure_ttl", 7 * 24 * 3600)
    queue.enqueue(func, *args, job_id=job_id, **options)
    return True


def _enqueue_marked(
    marker: str, seconds: int, queue_name: str, func: Callable[..., object], *args: object,
    delay: timedelta | None = None, **options: Any,
) -> bool:  # fmt: skip
    """Enqueue unless a job is already waiting, which a lapsing Redis marker says (the job clears it when it
    starts): a job lost with a dead scheduler or a killed worker lets the marker lapse instead of blocking."""
    connection = django_rq.get_connection(queue_name)
    if not connection.set(marker, 1, nx=True, ex=seconds):
        return False
    queue = django_rq.get_queue(queue_name)
    try:
        if delay is None:
            queue.enqueue(func, *args, **options)
        else:
            queue.enqueue_in(delay, func, *args, **options)
    except RedisError:
        with suppress(RedisError):
            connection.delete(marker)
        raise
    return True


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
        _enqueue_marked(
            _queued_marker(code_id), QUEUED_MARKER_SECONDS, CODES_QUEUE, converge_access_code, code_id, delay=delay,
            retry=Retry(max=5, interval=[5, 15, 60, 300, 900]), failure_ttl=30 * 24 * 3600,
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue code %s; the sweeper will pick it up", code_id)


def purge_old_pins() -> int:
    """Periodic: erase PINs 30 days after their code ended (docs/reliability.md S7)."""
    return services.purge_old_pins()


def import_cloud_locks(account_id: int) -> str:
    """Bring in a connected cloud project's locks (retried when the cloud is busy or unreachable)."""
    return services.run_import(account_id)


def enqueue_import(account_id: int) -> None:
    try:
        django_rq.get_queue("sync").enqueue(
            import_cloud_locks, account_id, retry=Retry(max=3, interval=[5, 30, 120]), failure_ttl=7 * 24 * 3600
        )
    except RedisError:
        logger.warning("Could not enqueue the lock import of cloud account %s", account_id)
        services.import_not_started(account_id)


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

    lock_ids = list(Lock.objects.values_list("pk", flat=True))
    for lock_id in lock_ids:
        enqueue_once("sync", f"reconcile-{lock_id}", reconcile_lock, lock_id)
    return len(lock_ids)


def run_lock_operation(operation_id: int) -> str:
    """Carry out an offline/dynamic/advanced password request, a hotel clear or a sync."""
    return services.run_lock_operation(operation_id)


def enqueue_lock_operation(operation_id: int) -> None:
    try:
        enqueue_once(
            CODES_QUEUE, f"lock-operation-{operation_id}", run_lock_operation, operation_id,
            retry=Retry(max=3, interval=[5, 30, 120]), failure_ttl=30 * 24 * 3600,
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue lock operation %s; the sweeper will pick it up", operation_id)


# --- lock users and unlock methods (issue #6) ------------------------------------------------------------------
# Ids only; each job reloads the row and does nothing when nothing is pending, so running twice is safe.

USERS_QUEUE = "codes"  # writes to the lock, next to door codes
USERS_RETRY = {"retry": Retry(max=5, interval=[5, 15, 60, 300, 900]), "failure_ttl": 30 * 24 * 3600}


def push_lock_user(lock_user_id: int) -> str:
    """Send a person's pending add, change or removal to the cloud."""
    from locks import lock_users

    return lock_users.push_user(lock_user_id)


def push_unlock_method(method_id: int) -> str:
    """Start or cancel an enrollment, or send a rename, duress, assignment or deletion."""
    from locks import lock_users

    return lock_users.push_method(method_id)


def watch_enrollment(method_id: int) -> str:
    """Look for the enrolled method in the cloud; enqueues itself again until it appears or time runs out."""
    from locks import lock_users

    return lock_users.watch_enrollment(method_id)


def sync_lock_users(lock_id: int) -> str:
    """Read a lock's people and unlock methods from the cloud."""
    from locks import lock_users

    return str(lock_users.sync_lock(lock_id))


def enqueue_lock_user(lock_user_id: int) -> None:
    try:
        django_rq.get_queue(USERS_QUEUE).enqueue(push_lock_user, lock_user_id, **USERS_RETRY)
    except RedisError:
        logger.warning("Could not enqueue lock user %s", lock_user_id)


def enqueue_unlock_method(method_id: int) -> None:
    try:
        django_rq.get_queue(USERS_QUEUE).enqueue(push_unlock_method, method_id, **USERS_RETRY)
    except RedisError:
        logger.warning("Could not enqueue unlock method %s", method_id)


WATCH_MARKER_SECONDS = 30  # a watch chain renews this each time it looks again; a lost chain lets it lapse


def _watch_marker(method_id: int) -> str:
    return f"doors:enroll-watch:{method_id}"


def enqueue_enrollment_watch(method_id: int, *, delay: timedelta | None) -> None:
    queue = django_rq.get_queue(USERS_QUEUE)
    options = {"retry": Retry(max=10, interval=5), "failure_ttl": 7 * 24 * 3600}
    try:
        lapse = max(WATCH_MARKER_SECONDS, int(5 * delay.total_seconds()) if delay else 0)
        queue.connection.set(_watch_marker(method_id), 1, ex=lapse)
        if delay is None:
            queue.enqueue(watch_enrollment, method_id, **options)
        else:
            queue.enqueue_in(delay, watch_enrollment, method_id, **options)
    except RedisError:
        logger.warning("Could not enqueue the enrollment watch of unlock method %s; the sweep will", method_id)


def sweep_enrollments() -> int:
    """Periodic: an enrollment whose watch chain was lost (Redis outage, killed worker) gets a new one."""
    from locks import lock_users

    connection = django_rq.get_connection(USERS_QUEUE)
    restarted = 0
    for method_id in lock_users.enrolling_method_ids():
        if not connection.exists(_watch_marker(method_id)):
            enqueue_enrollment_watch(method_id, delay=None)
            restarted += 1
    return restarted


def enqueue_lock_user_sync(lock_id: int) -> None:
    try:
        enqueue_once(
            "sync", f"lock-users-sync-{lock_id}", sync_lock_users, lock_id, retry=Retry(max=3, interval=[5, 30, 120])
        )
    except RedisError:
        logger.warning("Could not enqueue the user sync of lock %s", lock_id)


# --- events sync and event photos (issue #6 items 1-3: locks/events.py, locks/media.py) ------------------------

SYNC_QUEUE = "sync"
MEDIA_QUEUE = "media"


def sync_lock_events(lock_id: int) -> int:
    """Read one lock's new unlock and alert records; returns how many events were new."""
    from locks import events
    from locks.models import Lock

    lock = Lock.objects.select_related("cloud_account").filter(pk=lock_id).first()
    if lock is None or not events.streams_for(lock.kind):
        return 0  # deleted since, or a kind with no records to read
    connection = django_rq.get_connection(SYNC_QUEUE)
    # From here on, a new message about this lock gets a job of its own (this one may read too early).
    with suppress(RedisError):
        connection.delete(*(_sync_soon_marker(name, lock_id) for name in (UNLOCK_QUEUE, SYNC_QUEUE)))
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


UNLOCK_QUEUE = "unlock"
SYNC_SOON_MARKER_SECONDS = 60  # a lost job's marker lapses, so the next message gets a job again


def _sync_soon_marker(queue_name: str, lock_id: int) -> str:
    return f"doors:events-sync-queued:{queue_name}:{lock_id}"


def enqueue_events_sync_soon(lock_id: int, *, urgent: bool = False) -> bool:
    """The cloud says a lock has a new record (a push message): sync it now, not at the next periodic run.

    Urgent (a doorbell: someone waits at the door, and the lock's window is about a minute) goes on the `unlock`
    queue, ahead of any sync backlog, and is dropped if no worker starts it within that minute. One waiting job
    per lock and queue is enough: it reads everything new when it starts.
    """
    queue_name = UNLOCK_QUEUE if urgent else SYNC_QUEUE
    return _enqueue_marked(
        _sync_soon_marker(queue_name, lock_id), SYNC_SOON_MARKER_SECONDS, queue_name, sync_lock_events, lock_id,
        job_timeout=120, ttl=60 if urgent else None, failure_ttl=7 * 24 * 3600,
    )  # fmt: skip


def sync_all_lock_events() -> int:
    """Periodic: one sync job per lock (a fixed job id, so they do not pile up), skipping locks in back-off."""
    from locks import events, media

    enqueued = 0
    for lock_id in events.due_lock_ids():
        try:
            enqueued += enqueue_once(SYNC_QUEUE, f"sync-events-{lock_id}", sync_lock_events, lock_id)
        except RedisError:
            logger.warning("Could not enqueue the events sync of lock %s", lock_id)
    for media_id in media.due_media_ids():
        enqueue_media(media_id)  # photos whose job was lost, or whose last try hit a passing problem
    return enqueued


def fetch_event_media(media_id: int) -> str:
    """Download, decrypt and store one event photo and its thumbnail."""
    from locks import media

    return media.fetch_media(media_id)


def enqueue_media(media_id: int) -> None:
    try:
        enqueue_once(MEDIA_QUEUE, f"event-media-{media_id}", fetch_event_media, media_id)
    except RedisError:
        logger.warning("Could not enqueue photo %s; the events sync sweeps pending photos", media_id)
