"""A request budget for the pages anyone may open without signing in (the guest page, a unit's calendar export): a
fixed one-minute window per client address and per link, counted in Redis and shared by every web process.

Tokens are unguessable (192 bits), so this is not what keeps them secret: it keeps one client, or one leaked link
polled by a script, from costing every request a database look-up and an audit check."""

from __future__ import annotations

import time

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
