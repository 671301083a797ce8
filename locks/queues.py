"""Putting jobs on the queues: every enqueue of the app goes through here, naming its job by dotted path.

Services call these (after commit, `transaction.on_commit(lambda: queues.enqueue_converge(code_id))`) and never
import `locks.jobs`; `locks.jobs` imports services to run them. Naming the job by its path keeps that one
direction: the worker imports the job when it runs it. The stored job is the same as with the function itself
(RQ records the function's dotted path either way), so job ids, queue names, retries and the JSON serializer
are unchanged. tests/locks/test_queues.py checks that every path named here leads to a function.

Enqueue failures of the helpers that say so are logged, not raised: the sweeper finds every unsettled code
again, so a job lost to a Redis outage or a killed worker is only late, never lost.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import timedelta
from functools import cache
from typing import Any

import django_rq
from redis import Redis
from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.queue import Queue

logger = logging.getLogger(__name__)

CODES_QUEUE = "codes"
USERS_QUEUE = "codes"  # writes to the lock, next to door codes
SYNC_QUEUE = "sync"
MAINTENANCE_QUEUE = "maintenance"  # alert scans, health checks, reconcile, purges: never behind a sync backlog
MEDIA_QUEUE = "media"
UNLOCK_QUEUE = "unlock"
_WAITING = ("queued", "started", "scheduled", "deferred")


def enqueue(queue_name: str, job: str, *args: object, **options: Any) -> Job:
    """Enqueue the job at dotted path `job` (e.g. "locks.jobs.reconcile_lock") with RQ's own options."""
    return django_rq.get_queue(queue_name).enqueue(job, *args, **options)


def enqueue_in(delay: timedelta, queue_name: str, job: str, *args: object, **options: Any) -> Job:
    """Like `enqueue`, after `delay` (RQ's scheduled registry; a worker started --with-scheduler moves it)."""
    return django_rq.get_queue(queue_name).enqueue_in(delay, job, *args, **options)


def enqueue_once(queue_name: str, job_id: str, job: str, *args: object, **options: Any) -> bool:
    """Enqueue under a fixed id unless that job is still waiting or running, so repeated runs do not pile up
    (RQ itself would push the same id onto the queue again, and overwrite the record of a running job)."""
    queue = django_rq.get_queue(queue_name)
    try:
        status = Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer).get_status()
    except NoSuchJobError:
        status = None
    if status is not None and str(getattr(status, "value", status)) in _WAITING:
        return False
    options.setdefault("failure_ttl", 7 * 24 * 3600)
    queue.enqueue(job, *args, job_id=job_id, **options)
    return True


def _enqueue_marked(
    marker: str, seconds: int, queue_name: str, job: str, *args: object, delay: timedelta | None = None,
    **options: Any,
) -> bool:  # fmt: skip
    """Enqueue unless a job is already waiting, which a lapsing Redis marker says (the job clears it when it
    starts): a job lost with a dead scheduler or a killed worker lets the marker lapse instead of blocking."""
    queue = _queue(queue_name)
    connection = queue.connection
    if not connection.set(marker, 1, nx=True, ex=seconds):
        return False
    try:
        if delay is None:
            queue.enqueue(job, *args, **options)
        else:
            queue.enqueue_in(delay, job, *args, **options)
    except RedisError:
        with suppress(RedisError):
            connection.delete(marker)
        raise
    return True


# --- door codes, cloud accounts, lock operations ---------------------------------------------------------------

QUEUED_MARKER_SECONDS = 60  # a lost job's marker lapses, so the sweeper can hand the code out again


def queued_marker(code_id: int) -> str:
    """Says a converge job for this code waits; the job deletes it when it starts."""
    return f"doors:converge-queued:{code_id}"


def enqueue_converge(code_id: int, *, delay: timedelta | None = None) -> None:
    """One waiting job per code is enough: it reads the latest wishes when it starts.

    A marker, not the job's status, says "already waiting": a job stuck in a dead scheduler's registry
    or on a killed worker must not keep the code from ever getting a new one. With a delay the job waits
    in RQ's scheduled registry (moved to the queue by a worker started --with-scheduler, about every second).
    """
    try:
        _enqueue_marked(
            queued_marker(code_id), QUEUED_MARKER_SECONDS, CODES_QUEUE, "locks.jobs.converge_access_code", code_id,
            delay=delay, retry=Retry(max=5, interval=[5, 15, 60, 300, 900]), failure_ttl=30 * 24 * 3600,
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue code %s; the sweeper will pick it up", code_id)


# A lost batch job's marker lapses, so the next code of the account gets one again; its codes meanwhile fall back to
# the sweeper.
CODE_BATCH_MARKER_SECONDS = 30
# A code left to its account's batch job (new, or waiting for its lock) is due to the sweeper only after this: then
# the batch job was lost (Redis, a killed scheduler or worker) and the code gets a converge job of its own. Longer
# than a batch's usual delay (a poll, the scheduler's second, a queue behind a burst), so the sweeper does not send
# or read codes the batch job is about to.
CODE_BATCH_FALLBACK = timedelta(seconds=15)


def code_batch_marker(account_id: int) -> str:
    """Says a batch job for this cloud account waits; the job deletes it when it starts."""
    return f"doors:code-batch-queued:{account_id}"


def enqueue_code_batch(account_id: int, *, delay: timedelta | None = None) -> None:
    """One waiting batch job per cloud account is enough: it sends the account's new codes and reads every code
    waiting on its locks when it starts (locks/code_batches.py)."""
    try:
        _enqueue_marked(
            code_batch_marker(account_id), CODE_BATCH_MARKER_SECONDS, CODES_QUEUE, "locks.jobs.run_code_batch",
            account_id, delay=delay, failure_ttl=7 * 24 * 3600,
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue the code batch of cloud account %s; the sweeper will", account_id)


def enqueue_import(account_id: int) -> bool:
    """False when Redis refused it: the caller ends the import with an error (no sweeper looks for imports)."""
    try:
        enqueue(
            SYNC_QUEUE, "locks.jobs.import_cloud_locks", account_id, retry=Retry(max=3, interval=[5, 30, 120]),
            failure_ttl=7 * 24 * 3600,
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue the lock import of cloud account %s", account_id)
        return False
    return True


def enqueue_lock_operation(operation_id: int) -> None:
    try:
        enqueue_once(
            CODES_QUEUE, f"lock-operation-{operation_id}", "locks.jobs.run_lock_operation", operation_id,
            retry=Retry(max=3, interval=[5, 30, 120]), failure_ttl=30 * 24 * 3600,
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue lock operation %s; the sweeper will pick it up", operation_id)


# --- lock users and unlock methods ---------------------------------------------------------------------------

USERS_RETRY = {"retry": Retry(max=5, interval=[5, 15, 60, 300, 900]), "failure_ttl": 30 * 24 * 3600}


def enqueue_lock_user(lock_user_id: int) -> None:
    try:
        enqueue(USERS_QUEUE, "locks.jobs.push_lock_user", lock_user_id, **USERS_RETRY)
    except RedisError:
        logger.warning("Could not enqueue lock user %s", lock_user_id)


def enqueue_unlock_method(method_id: int) -> None:
    try:
        enqueue(USERS_QUEUE, "locks.jobs.push_unlock_method", method_id, **USERS_RETRY)
    except RedisError:
        logger.warning("Could not enqueue unlock method %s", method_id)


WATCH_MARKER_SECONDS = 30  # a watch chain renews this each time it looks again; a lost chain lets it lapse


def watch_marker(method_id: int) -> str:
    """Says an enrollment's watch chain is alive; the periodic sweep restarts a chain whose marker lapsed."""
    return f"doors:enroll-watch:{method_id}"


def enqueue_enrollment_watch(method_id: int, *, delay: timedelta | None) -> None:
    queue = django_rq.get_queue(USERS_QUEUE)
    options = {"retry": Retry(max=10, interval=5), "failure_ttl": 7 * 24 * 3600}
    try:
        lapse = max(WATCH_MARKER_SECONDS, int(5 * delay.total_seconds()) if delay else 0)
        queue.connection.set(watch_marker(method_id), 1, ex=lapse)
        if delay is None:
            queue.enqueue("locks.jobs.watch_enrollment", method_id, **options)
        else:
            queue.enqueue_in(delay, "locks.jobs.watch_enrollment", method_id, **options)
    except RedisError:
        logger.warning("Could not enqueue the enrollment watch of unlock method %s; the sweep will", method_id)


def enqueue_lock_user_sync(lock_id: int) -> None:
    try:
        enqueue_once(
            SYNC_QUEUE, f"lock-users-sync-{lock_id}", "locks.jobs.sync_lock_users", lock_id,
            retry=Retry(max=3, interval=[5, 30, 120]),
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue the user sync of lock %s", lock_id)


# --- events sync, event photos, lock health ----------------------------------------------------------------

SYNC_SOON_MARKER_SECONDS = 60  # a lost job's marker lapses, so the next message gets a job again


def sync_soon_marker(queue_name: str, lock_id: int) -> str:
    """Says an events sync of this lock waits on that queue; the job deletes it when it starts."""
    return f"doors:events-sync-queued:{queue_name}:{lock_id}"


# A live push connection renews this marker every 30 s (locks/push.py); it lapses soon after the connection drops.
PUSH_ALIVE_SECONDS = 90


def push_alive_marker(account_id: int) -> str:
    return f"doors:push-alive:{account_id}"


def enqueue_events_sync_soon(lock_id: int, *, urgent: bool = False) -> bool:
    """The cloud says a lock has a new record (a push message): sync it now, not at the next periodic run.

    Urgent (a doorbell: someone waits at the door, and the lock's window is about a minute) goes on the `unlock`
    queue, ahead of any sync backlog, and is dropped if no worker starts it within that minute. One waiting job
    per lock and queue is enough: it reads everything new when it starts.
    """
    queue_name = UNLOCK_QUEUE if urgent else SYNC_QUEUE
    return _enqueue_marked(
        sync_soon_marker(queue_name, lock_id), SYNC_SOON_MARKER_SECONDS, queue_name, "locks.jobs.sync_lock_events",
        lock_id, job_timeout=120, ttl=60 if urgent else None, failure_ttl=7 * 24 * 3600,
    )  # fmt: skip


def enqueue_media(media_id: int) -> None:
    try:
        enqueue_once(MEDIA_QUEUE, f"event-media-{media_id}", "locks.jobs.fetch_event_media", media_id)
    except RedisError:
        logger.warning("Could not enqueue photo %s; the events sync sweeps pending photos", media_id)


REMOTE_UNLOCK_JOBS = ("locks.remote.open_door", "locks.remote.tell_rejected", "locks.remote.expire_request")


def enqueue_remote_unlock(job: str, request_id: int, *, delay: timedelta | None = None) -> None:
    """A remote-unlock request's job (open the door, tell the lock no, or let the request lapse at its deadline)
    on the `unlock` queue, ahead of any backlog."""
    if job not in REMOTE_UNLOCK_JOBS:
        raise ValueError(f"not a remote-unlock job: {job}")
    try:
        if delay is None:
            enqueue(UNLOCK_QUEUE, job, request_id, failure_ttl=7 * 24 * 3600)
        else:
            enqueue_in(delay, UNLOCK_QUEUE, job, request_id, failure_ttl=7 * 24 * 3600)
    except RedisError:
        # The periodic scan (alert_scans.scan → expire_requests) and the row's state cover a lost enqueue.
        logger.warning("remote unlock %s: job not enqueued", request_id)


# --- webhooks -----------------------------------------------------------------------------------------------------

WEBHOOKS_QUEUE = "webhooks"  # its own workers: a slow receiver never holds up a door code or a sync
# A lost job's marker lapses, so the sweeper can hand the delivery out again. Longer than the codes' minute: a
# worker killed mid-send is covered by the delivery's lease (the job clears the marker when it starts), and a long
# backlog behind a slow receiver should not get a second job per delivery every minute.
WEBHOOK_MARKER_SECONDS = 300


def webhook_queued_marker(delivery_id: int) -> str:
    """Says a job for this webhook delivery waits; the job deletes it when it starts."""
    return f"doors:webhook-queued:{delivery_id}"


def enqueue_webhook_delivery(delivery_id: int) -> bool:
    """One waiting job per delivery. No RQ retries: the delivery keeps its own schedule (webhooks/delivery.py), and
    the sweeper hands out whatever is due and was lost (Redis down at commit, a killed worker)."""
    try:
        return _enqueue_marked(
            webhook_queued_marker(delivery_id), WEBHOOK_MARKER_SECONDS, WEBHOOKS_QUEUE, "webhooks.delivery.deliver",
            delivery_id, failure_ttl=7 * 24 * 3600,
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue webhook delivery %s; the sweeper will pick it up", delivery_id)
        return False


@cache
def _queue(queue_name: str) -> Queue:
    """One queue object per queue and process for the marked enqueues (a code's every step, every issue): like
    `connection` below, `get_queue` would build a new client, and open a new connection, on every call."""
    return django_rq.get_queue(queue_name)


@cache
def connection(queue_name: str) -> Redis:
    """One client per queue's Redis and process, for the calls made on every delivery or request (the webhook
    markers, the API's rate limit): `get_connection` builds a new pool (and connection) on every call, which cost a
    third of a delivery's time (bench/webhook_bench.py). redis-py's pool reconnects in a forked child by itself."""
    return django_rq.get_connection(queue_name)


def clear_webhook_marker(delivery_id: int) -> None:
    """The job has started: from here on the sweeper may hand the delivery out again (once its lease allows)."""
    with suppress(RedisError):
        connection(WEBHOOKS_QUEUE).delete(webhook_queued_marker(delivery_id))


# --- calendar feeds (bookings/feed_sync.py) -----------------------------------------------------------------------

# A lost job's marker lapses, so the periodic look-up hands the feed out again; longer than a minute of periodic
# runs, shorter than the 15 minutes feeds wait between syncs.
FEED_SYNC_MARKER_SECONDS = 600


def feed_sync_marker(feed_id: int) -> str:
    """Says a sync job for this calendar feed waits; the job deletes it when it starts."""
    return f"doors:feed-sync-queued:{feed_id}"


def enqueue_feed_sync(feed_id: int) -> bool:
    """One waiting sync per calendar feed (the job leases the feed as well, so a second one would only wait)."""
    try:
        return _enqueue_marked(
            feed_sync_marker(feed_id), FEED_SYNC_MARKER_SECONDS, SYNC_QUEUE, "bookings.feed_sync.sync_feed", feed_id,
            job_timeout=600, failure_ttl=7 * 24 * 3600,
        )  # fmt: skip
    except RedisError:
        logger.warning("Could not enqueue the sync of calendar feed %s; the periodic look-up will", feed_id)
        return False


def clear_feed_sync_marker(feed_id: int) -> None:
    """The sync has started: a new request for this feed gets a job of its own from here on."""
    with suppress(RedisError):
        connection(SYNC_QUEUE).delete(feed_sync_marker(feed_id))
