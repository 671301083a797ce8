"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"The read-only shared/ folder is expected next to the repository, at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the suite runs against: REDIS_URL (CI), or the embedded one `dev.py test` starts."""
    import redis
    from django.conf import settings

    try:
        redis.Redis.from_url(settings.REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.fail(f"No Redis at {settings.REDIS_URL} ({exc}): run the suite with `python3 dev.py test`.")
    return settings.REDIS_URL


@pytest.fixture(autouse=True)
def _fresh_simulator_rate_limits() -> None:
    """Each test starts with full buckets, as if it were the only caller of the simulated cloud."""
    from locks.simulator import ratelimit

    ratelimit.reset()
