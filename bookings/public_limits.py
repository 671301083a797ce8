"""A request budget for the pages anyone may open without signing in (the guest page, a unit's calendar export and
arrival link): a fixed one-minute window per client address and per link, counted in Redis and shared by every web
process; and for an answer that may be guessed (the arrival link's phone digits), a sliding window of wrong tries.

Tokens are unguessable (192 bits), so this is not what keeps them secret: it keeps one client, or one leaked link
polled by a script, from costing every request a database look-up and an audit check."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from redis.exceptions import RedisError

from locks import queues


def spend(buckets: list[str], *, limit: int | None = None, now: float | None = None) -> int | None:
    """Count one request in each bucket ("ip:<address>", "pass:<hash prefix>"); past the budget in any of them, the
    seconds to wait (the caller answers 429), else None. Redis down: the request goes through (the page matters more
    to a guest at the door than the budget does)."""
    budget = settings.GUEST_PAGE_RATE_LIMIT_PER_MINUTE if limit is None else limit
    if budget <= 0 or not buckets:
        return None
    moment = now if now is not None else time.time()
    window = int(moment // 60)
    names = [f"doors:public:rate:{bucket}:{window}" for bucket in buckets]
    try:
        pipe = queues.connection(queues.CODES_QUEUE).pipeline()
        for name in names:
            pipe.incr(name)
            pipe.expire(name, 120)
        counts = pipe.execute()[0::2]
    except RedisError:
        return None
    if any(int(count) > budget for count in counts):
        return max(1, int((window + 1) * 60 - moment) + 1)
    return None


# --- wrong answers: a sliding window that never fails open ------------------------------------------------------


class LimitUnavailable(Exception):
    """Redis did not answer: the tries cannot be counted, so the caller refuses (a guess must never go uncounted)."""


@dataclass(frozen=True)
class Try:
    """One try counted in each bucket: `counts` per bucket (in the order given, this try included); `refused_for`
    the seconds until the oldest try leaves the window when a bucket is past its limit (this try was then taken
    back: a refused try is never checked, so it does not count), else None."""

    member: str
    counts: tuple[int, ...]
    refused_for: int | None


def count_try(buckets: list[str], *, limit: int, window: int = 3600, now: float | None = None) -> Try:
    """Count a try before it is checked (two at once cannot both slip under the limit); the caller takes a right
    answer back (`take_back`), so only wrong ones stay counted for `window` seconds. Redis down: LimitUnavailable."""
    moment = now if now is not None else time.time()
    member = f"{moment:.6f}:{secrets.token_hex(4)}"
    names = [_tries_key(bucket) for bucket in buckets]
    try:
        redis = queues.connection(queues.CODES_QUEUE)
        pipe = redis.pipeline()
        for name in names:
            pipe.zremrangebyscore(name, "-inf", moment - window)
            pipe.zadd(name, {member: moment})
            pipe.zcard(name)
            pipe.expire(name, window)
        counts = [int(count) for count in pipe.execute()[2::4]]
        over = [name for name, count in zip(names, counts, strict=True) if count > limit]
        if not over:
            return Try(member, tuple(counts), None)
        firsts = [cast(list[tuple[bytes, float]], redis.zrange(name, 0, 0, withscores=True)) for name in over]
        oldest = min(score for first in firsts for _, score in first)
        take_back(buckets, member)
    except RedisError as error:
        raise LimitUnavailable from error
    return Try(member, tuple(counts), max(1, int(oldest + window - moment) + 1))


def take_back(buckets: list[str], member: str) -> None:
    """Forget one counted try (a right answer, or one refused unchecked). Redis down: it stays counted, which only
    ever errs on the careful side, so the error is not the caller's."""
    try:
        pipe = queues.connection(queues.CODES_QUEUE).pipeline()
        for bucket in buckets:
            pipe.zrem(_tries_key(bucket), member)
        pipe.execute()
    except RedisError:
        pass


def _tries_key(bucket: str) -> str:
    return f"doors:public:tries:{bucket}"
