"""Fixtures for the bookings app: the code lifecycle's (a real simulator over HTTP, real RQ queues) and a private
outbox for guest messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.locks.conftest import (  # noqa: F401  (fixtures, found by pytest through this module)
    account,
    front_desk,
    guest,
    make_lock,
    org,
    owner,
    queues,
    sim_url,
    unit,
    world,
)


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    """Messages go to files under a temporary VAR_DIR (tenants.notify.FileOutbox, the default backend)."""
    settings.VAR_DIR = tmp_path
    return tmp_path / "outbox"
