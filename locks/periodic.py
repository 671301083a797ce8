"""The periodic jobs and the loop that enqueues them (`manage.py run_periodic`, one process per deployment).

Not `rqcron`: RQ's cron scheduler enqueues with the default pickle serializer, which our JSON-only
workers refuse. The loop only enqueues; the jobs run on the workers like any other. Each is named by its dotted path
(locks/queues.py), so this table imports none of the modules it schedules.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import django_rq
from django.conf import settings
from redis.exceptions import RedisError

from locks import queues, rounds

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    job: str  # dotted path of a function taking no arguments
    queue: str
    every_seconds: int
    # A lock-wide round (locks/rounds.py): not started again until the last one has ended, however long it took.
    round: bool = False


PERIODIC = (
    # The outbox sweeper: every unsettled code gets a job, so nothing waits on a lost enqueue or a lost
    # delayed re-read (CODE_POLL_WINDOW_SECONDS=0) for more than a few seconds.
    Periodic("sweep-access-codes", "locks.jobs.sweep_access_codes", "codes", 5),
    # Drift repair: codes changed outside this app are found within one interval (docs/reliability.md R7).
    Periodic(
        rounds.RECONCILE,
        "locks.jobs.reconcile_all_locks",
        queues.MAINTENANCE_QUEUE,
        settings.RECONCILE_INTERVAL_SECONDS,
        round=True,
    ),  # fmt: skip
    Periodic("purge-old-pins", "locks.jobs.purge_old_pins", "maintenance", 3600),
    Periodic("sweep-enrollments", "locks.jobs.sweep_enrollments", "codes", 30),
    # Alerts: failed or stuck codes, refused cloud accounts, offline locks, unsent e-mails, lapsed remote unlocks;
    # and each lock's online flag and battery read from the cloud.
    Periodic("scan-alerts", "locks.alert_scans.scan", "maintenance", 60),
    Periodic(rounds.HEALTH, "locks.alert_scans.check_all_locks", "maintenance", 300, round=True),
    # Unlock and alert records of the locks that are due (locks/events.py due_lock_ids), and photos whose job was lost.
    Periodic(
        rounds.EVENTS_SYNC, "locks.jobs.sync_all_lock_events", "sync", settings.EVENTS_SYNC_INTERVAL_SECONDS, round=True
    ),
    # The webhook sweeper: due retries, deliveries whose job was lost or whose worker died (its lease lapsed),
    # endpoints failing for days (disabled, owners told).
    Periodic("sweep-webhooks", "webhooks.delivery.sweep", "webhooks", 10),
    # The API's kept answers to Idempotency-Keys, after their 24 hours.
    Periodic("purge-idempotency-keys", "api.idempotency.purge_expired", "maintenance", 3600),
    # Calendar feeds that are due: one sync job per feed (bookings/feed_sync.py), never two waiting for one feed.
    Periodic("sync-calendar-feeds", "bookings.feed_sync.sync_due_feeds", "sync", 60),
    # The arrival guarantee (bookings/arrivals.py): on "codes", beside the code sweeper, because its last check
    # issues the fallback 2 h before a guest arrives and must not wait behind the slow per-lock syncs on "sync"; it
    # only reads and writes rows (the offline passwords are their own jobs), so it holds a worker for moments.
    Periodic("check-arrivals", "bookings.arrivals.check_arrivals", "codes", 60),
    # Guest messages (bookings/messages.py): on "sync", since a send may wait seconds on a mail server and no
    # person is waiting on it, unlike the codes and unlocks of the interactive queues.
    Periodic("send-guest-messages", "bookings.messages.send_due_messages", "sync", 60),
)


def enqueue_due(now: float | None = None) -> list[str]:
    """Enqueue each periodic job whose interval has passed; safe with several schedulers running."""
    connection = django_rq.get_connection("codes")
    enqueued = []
    for task in PERIODIC:
        if task.round and rounds.running(task.name, task.queue):
            continue  # its interval is claimed once the round has ended
        # The first scheduler to claim this interval enqueues; the others skip it until it ends.
        if connection.set(f"doors:periodic:{task.name}", int(now or time.time()), nx=True, ex=task.every_seconds):
            if task.round:
                rounds.claim(task.name, task.queue)
            queues.enqueue(task.queue, task.job, failure_ttl=7 * 24 * 3600)
            enqueued.append(task.name)
    return enqueued


def run_forever(tick_seconds: float = 1.0) -> None:
    while True:
        try:
            for name in enqueue_due():
                logger.debug("enqueued %s", name)  # every few seconds: what the job did is the worker's line
        except RedisError as error:
            logger.warning("periodic jobs not enqueued (%s); retrying", error)
        time.sleep(tick_seconds)
