"""Tuya's frequency control: per project and per API, 1199 once the bucket is empty."""

import time

import pytest

from locks.simulator import ratelimit
from tests.simulator.conftest import TuyaTestClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def lock(make_device):
    return make_device("wifi")


@pytest.fixture
def tuya(settings):
    settings.SIM_RATE_LIMIT = 5
    settings.SIM_RATE_BURST = 5
    client = TuyaTestClient()
    client.connect()
    return client


def codes(replies):
    return [reply.get("code") for reply in replies]


def test_calls_beyond_the_burst_get_1199(tuya, lock):
    replies = [tuya.request("GET", f"/v1.0/devices/{lock.id}") for _ in range(8)]
    assert codes(replies)[:5] == [None] * 5
    assert set(codes(replies)[5:]) == {1199}
    assert replies[-1]["msg"] == "your requests are too frequent"


def test_limits_are_per_api(tuya, lock):
    for _ in range(6):
        tuya.request("GET", f"/v1.0/devices/{lock.id}")
    assert tuya.request("GET", f"/v1.0/devices/{lock.id}/door-lock/temp-passwords")["success"] is True


def test_bucket_refills_over_time(tuya, lock):
    for _ in range(6):
        tuya.request("GET", f"/v1.0/devices/{lock.id}")
    time.sleep(0.25)  # 5 per second: a little over one token back
    assert tuya.request("GET", f"/v1.0/devices/{lock.id}")["success"] is True


def test_zero_disables_the_limit(tuya, lock, settings):
    settings.SIM_RATE_LIMIT = 0
    assert all(tuya.request("GET", f"/v1.0/devices/{lock.id}")["success"] for _ in range(20))


def test_reset_empties_every_bucket(tuya, lock):
    for _ in range(6):
        tuya.request("GET", f"/v1.0/devices/{lock.id}")
    ratelimit.reset()
    assert tuya.request("GET", f"/v1.0/devices/{lock.id}")["success"] is True
