"""Fixtures of the Tuya client tests: a recording fake transport and a LockApi over it."""

from __future__ import annotations

import pytest

from locks.tuya.api import LockApi
from tests.tuya.fakes import FakeTransport, make_api


@pytest.fixture
def fake() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def api(fake: FakeTransport) -> LockApi:
    return make_api(fake)
