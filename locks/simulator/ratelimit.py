"""Tuya's frequency control: a token bucket per (cloud project, API), answering 1199 when empty.

Tuya limits calls per project, per API, in requests per second (docs/tuya-protocol.md, rate limits); the lock APIs'
figures are not published, so the rate is a setting (SIM_RATE_LIMIT per second, 0 = no limit). Buckets
live in process memory: a simulator restart forgets them, as a real quota window would roll over.
"""

from __future__ import annotations

import threading
import time

from locks.simulator import conf

_buckets: dict[tuple[str, str], tuple[float, float]] = {}  # key → (tokens left, last refill, monotonic)
_lock = threading.Lock()


def allow(access_id: str, api_label: str) -> bool:
    """Take one token for this project and API; False when the caller must be told 1199."""
    rate = conf.rate_limit()
    if rate <= 0:
        return True
    burst = max(1.0, conf.rate_burst() or rate * 2)
    now = time.monotonic()
    key = (access_id, api_label)
    with _lock:
        tokens, last = _buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < 1:
            _buckets[key] = (tokens, now)
            return False
        _buckets[key] = (tokens - 1, now)
        return True


def reset() -> None:
    with _lock:
        _buckets.clear()
