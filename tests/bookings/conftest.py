"""Fixtures for the bookings app: the code lifecycle's (a real simulator over HTTP, real RQ queues) and a private
outbox for guest messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from locks.models import CloudAccount, Lock
from tenants.models import Unit
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


def attach_lock(room: Unit, name: str = "Room door") -> Lock:
    """A Wi-Fi lock on the unit whose cloud is never called (these tests set code states themselves)."""
    cloud, _ = CloudAccount.objects.get_or_create(
        organisation=room.property.organisation,
        name="Cloud",
        defaults={"endpoint": "http://127.0.0.1:9", "access_id": "x", "access_secret": "y"},
    )
    return Lock.objects.create(
        organisation=room.property.organisation,
        cloud_account=cloud,
        unit=room,
        device_id=f"dev-{room.pk}-{name}",
        name=name,
        kind="wifi",
    )
