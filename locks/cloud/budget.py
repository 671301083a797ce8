"""One budget of cloud calls per cloud project and API, shared by every process through Redis, spent by priority.

Tuya limits calls per project and per API (docs/tuya-protocol.md, rate limits): the open-logs of every lock share
one limit, the device details another. Without a shared budget, 100k locks' event syncs, health checks and
reconciles would ask far more than any quota, and the door codes and unlocks a person waits on would get the 1199s.
Each call takes a slot of the current second of its API (`TUYA_CALLS_PER_SECOND` per project and API, counted in
Redis) before it is sent, and each priority may fill the second only up to its share:

- DOOR (unlocks, door-code writes and their read-backs, anything a person waits on in a web request): never held
  back by our count (only the cloud's own limit, which the client backs off from), but counted, so the others
  give way to it;
- PUSHED (an events sync a push message asked for, event photos): 75 %;
- POLL (the safety-net events rounds): 50 %;
- MAINTENANCE (health checks, reconcile): 35 %.

A low-priority call that finds its share used waits up to BUDGET_WAIT_SECONDS and is then deferred: `BudgetShort`
(a `port.RateLimited`, so the caller backs off as it would from the cloud's own "too frequent"). A rate-limit
answer from the cloud halves that API's budget for TUYA_BUDGET_SHRINK_SECONDS. Without Redis the call goes
ahead (the client still backs off on 1110/1111/1199).

The priority is a context variable: the worker sets it from the job's queue (locks/workers.py), a round's chunk
job lowers it (locks/jobs.py); web requests keep the default, DOOR.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import IntEnum
from functools import lru_cache

import redis
from django.conf import settings
from django.utils.translation import gettext_noop

from locks.cloud import port

logger = logging.getLogger(__name__)


class Priority(IntEnum):
    DOOR = 0
    PUSHED = 1
    POLL = 2
    MAINTENANCE = 3


SHARES = {Priority.DOOR: 1.0, Priority.PUSHED: 0.75, Priority.POLL: 0.5, Priority.MAINTENANCE: 0.35}
BY_QUEUE = {
    "unlock": Priority.DOOR,
    "codes": Priority.DOOR,
    "sync": Priority.PUSHED,  # a round's chunk job lowers itself to POLL
    "media": Priority.PUSHED,
    "maintenance": Priority.MAINTENANCE,
}
BUDGET_WAIT_SECONDS = 2.0  # how long a lower-priority call waits for room before it is deferred

current: ContextVar[Priority] = ContextVar("cloud_call_priority", default=Priority.DOOR)


class BudgetShort(port.RateLimited):
    """Deferred: the project's calls this second are kept for higher-priority work (nothing was sent)."""


@contextmanager
def at(priority: Priority) -> Iterator[None]:
    token = current.set(priority)
    try:
        yield
    finally:
        current.reset(token)


def project_key(base_url: str, access_id: str) -> str:
    """A cloud project, whatever account rows share it (two organisations may connect one Tuya project)."""
    return hashlib.sha256(f"{base_url}|{access_id}".encode()).hexdigest()[:16]


_VERSION = re.compile(r"v\d+\.\d+")


def api_of(method: str, path: str) -> str:
    """The API a call is limited under: its method and path with the ids left out ("GET /v1.1/devices/*/door-lock/
    open-logs"). An id is the segment after `devices`, or any segment with a digit but the version: the API paths'
    own words have none (docs/tuya-protocol.md lists them)."""
    segments = path.split("?", 1)[0].split("/")
    kept = [
        "*" if (i and segments[i - 1] == "devices") or (re.search(r"\d", s) and not _VERSION.fullmatch(s)) else s
        for i, s in enumerate(segments)
    ]
    return f"{method.upper()} {'/'.join(kept)}"


def _api_key(project: str, method: str, path: str) -> str:
    return f"{project}:{hashlib.sha256(api_of(method, path).encode()).hexdigest()[:8]}"


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def take(
    project: str,
    method: str,
    path: str,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Take a slot of this second of the call's API for a call at the current priority: at once for DOOR; for the
    others when their share of the second has room, waiting for it up to BUDGET_WAIT_SECONDS, else BudgetShort."""
    if float(settings.TUYA_CALLS_PER_SECOND) <= 0:
        return
    priority = current.get()
    api = _api_key(project, method, path)
    waited = 0.0
    try:
        connection = _redis()
        while True:
            now = clock()
            second = int(now)
            key = f"doors:budget:{api}:{second}"
            with connection.pipeline() as pipe:
                pipe.exists(f"doors:budget-shrunk:{api}")
                pipe.incr(key)
                pipe.expire(key, 5)
                shrunk, used, _ = pipe.execute()
            per_second = float(settings.TUYA_CALLS_PER_SECOND) / (2 if shrunk else 1)
            if priority == Priority.DOOR or int(used) <= max(1, math.floor(per_second * SHARES[priority])):
                return
            connection.decr(key)  # not taken: the slot stays free for a call that may have it
            wait = second + 1 - now
            if waited + wait > BUDGET_WAIT_SECONDS:
                connection.incr(f"doors:budget-deferred:{project}")
                raise BudgetShort(
                    gettext_noop("Deferred: this cloud project's calls are kept for door codes and unlocks right now"),
                    hint=gettext_noop("It is tried again at its next turn."),
                )
            sleep(wait)
            waited += wait
    except redis.RedisError:
        return


def shrink(project: str, method: str, path: str) -> None:
    """The cloud answered "too frequent": halve this API's budget in this project for a while."""
    try:
        _redis().set(f"doors:budget-shrunk:{_api_key(project, method, path)}", 1,
                     ex=int(settings.TUYA_BUDGET_SHRINK_SECONDS))  # fmt: skip
    except redis.RedisError:
        return
    logger.info("cloud project %s is rate-limiting %s: its call budget is halved for a while", project,
                api_of(method, path))  # fmt: skip


def deferred_count(project: str) -> int:
    try:
        return int(_redis().get(f"doors:budget-deferred:{project}") or 0)
    except redis.RedisError:
        return 0
