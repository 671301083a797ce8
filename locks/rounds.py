"""Lock-wide periodic work in rounds: one job per chunk of locks, and a guard that ends when the round ends.

A round (events sync, health checks, reconcile) used to enqueue one job per lock from inside one job, a Redis round
trip each (~3 ms a lock: 100k locks took minutes to enqueue), and its periodic marker lapsed after the interval
whether or not the round had finished, so slow rounds piled up. Now:

- `run_periodic` claims a round only when its guard (`doors:round:<name>`) is absent, and sets it before enqueuing
  the round's first job (locks/periodic.py), so the next round starts after this one ends, never on top of it;
- the first job lists the locks that are due and enqueues their chunks in one Redis pipeline (`start`), the guard
  now counting the chunks left;
- each chunk job says it is done (`chunk_done`) whatever happened to its locks; the last one removes the guard.
  Each chunk that ends pushes the guard's expiry out again, so a round whose jobs were lost (a killed worker, a
  flushed queue) ends by itself once nothing has moved for ROUND_STALL_SECONDS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import django_rq
from django.conf import settings
from rq.queue import Queue
from rq.timeouts import JobTimeoutException

logger = logging.getLogger(__name__)

# The rounds, by the name of their periodic task (locks/periodic.py).
EVENTS_SYNC = "sync-lock-events"
HEALTH = "check-lock-health"
RECONCILE = "reconcile-all-locks"

# Longer than any chunk job may run (the queues' timeouts are 600 s at most) plus the wait for a free worker.
ROUND_STALL_SECONDS = 1800


def guard_key(name: str) -> str:
    return f"doors:round:{name}"


def running(name: str, queue_name: str) -> bool:
    return bool(django_rq.get_connection(queue_name).exists(guard_key(name)))


def claim(name: str, queue_name: str) -> None:
    """The round is about to be enqueued: no other starts until its first job has run and its chunks are done."""
    django_rq.get_connection(queue_name).set(guard_key(name), 1, ex=ROUND_STALL_SECONDS)


@contextmanager
def starting(name: str, queue_name: str) -> Iterator[None]:
    """Around a round's first job: if it fails before its chunks are enqueued (the database away, a timeout), the
    guard goes at once, so the next interval starts a round instead of waiting out ROUND_STALL_SECONDS."""
    try:
        yield
    except BaseException:
        django_rq.get_connection(queue_name).delete(guard_key(name))
        raise


def start(name: str, queue_name: str, chunk_job: str, lock_ids: Sequence[int], *, chunk: int | None = None) -> int:
    """Enqueue `chunk_job(name, ids)` for each chunk of `lock_ids` in one round trip; returns how many locks."""
    size = max(1, chunk or int(settings.LOCK_ROUND_CHUNK))
    chunks = [list(lock_ids[i : i + size]) for i in range(0, len(lock_ids), size)]
    connection = django_rq.get_connection(queue_name)
    if not chunks:
        connection.delete(guard_key(name))
        return 0
    queue = django_rq.get_queue(queue_name)
    with connection.pipeline() as pipe:
        pipe.set(guard_key(name), len(chunks), ex=ROUND_STALL_SECONDS)
        queue.enqueue_many(
            [Queue.prepare_data(chunk_job, args=(name, ids), failure_ttl=24 * 3600) for ids in chunks], pipeline=pipe
        )
        pipe.execute()
    return len(lock_ids)


def chunk_done(name: str, queue_name: str) -> None:
    connection = django_rq.get_connection(queue_name)
    key = guard_key(name)
    with connection.pipeline() as pipe:
        pipe.decr(key)
        pipe.expire(key, ROUND_STALL_SECONDS)
        left, _ = pipe.execute()
    if int(left) <= 0:
        connection.delete(key)
        logger.debug("round %s: done", name)


def run_chunk(name: str, queue_name: str, lock_ids: Sequence[int], work: Callable[[int], int], what: str) -> int:
    """`work(lock_id)` for each lock of one chunk; one lock's failure is logged and the others still get their turn
    (the next round tries it again). Returns the sum of what `work` returned."""
    done = 0
    try:
        for lock_id in lock_ids:
            try:
                done += work(lock_id)
            except JobTimeoutException:
                raise  # the chunk ran out of time: RQ records it; the rest of its locks wait for the next round
            except Exception:
                logger.exception("%s of lock %s failed; the next round tries it again", what, lock_id)
    finally:
        chunk_done(name, queue_name)
    return done
