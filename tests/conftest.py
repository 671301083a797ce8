"""Fixtures shared by the whole suite."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
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


@contextlib.contextmanager
def production_log(level: int | None = None) -> Iterator[io.StringIO]:
    """What production writes: the root logger's records through our filters and the JSON formatter, into a
    string; with a level, the root logger is set to it meanwhile (LOG_LEVEL=DEBUG writes the most)."""
    from config import logs

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.addFilter(logs.RedactFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    try:
        yield stream
    finally:
        root.setLevel(previous)
        root.removeHandler(handler)


@pytest.fixture
def everything_logged() -> Iterator[io.StringIO]:
    """Every record at DEBUG, as a deployment with LOG_LEVEL=DEBUG would write it."""
    with production_log(logging.DEBUG) as stream:
        yield stream
