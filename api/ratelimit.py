"""A request budget per API key: a fixed one-minute window counted in Redis, shared by every web process."""

from __future__ import annotations

import time

from django.conf import settings
from redis.exceptions import RedisError

from api.problems import RATE_LIMITED, ApiProblem
from locks import queues
from tenants.models import ApiKey


def spend(key: ApiKey, *, now: float | None = None) -> None:
    """Count one request of `key`; past the budget a 429 with `Retry-After` (seconds to the next window).

    Redis down: the request goes through. The budget protects the cloud and the server from a runaway script;
    refusing every request while Redis is out would stop a hotel's PMS for nothing."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    if limit <= 0:
        return
    moment = now if now is not None else time.time()
    window = int(moment // 60)
    name = f"doors:api:rate:{key.pk}:{window}"
    try:
        pipe = queues.connection(queues.CODES_QUEUE).pipeline()
        pipe.incr(name)
        pipe.expire(name, 120)
        count = int(pipe.execute()[0])
    except RedisError:
        return
    if count > limit:
        retry_after = max(1, int((window + 1) * 60 - moment) + 1)
        raise ApiProblem(
            429,
            f"This key has made more than {limit} requests this minute; try again in {retry_after} s.",
            type=RATE_LIMITED,
            headers={"Retry-After": str(retry_after)},
        )
