"""How our client maps and retries the simulator's errors and injected faults, over real HTTP."""

from __future__ import annotations

import pytest

from locks.simulator import conf
from locks.tuya import (
    TuyaClient,
    TuyaDeviceOfflineError,
    TuyaNetworkError,
    TuyaNotFoundError,
    TuyaRateLimitedError,
    TuyaServerError,
    TuyaSignatureError,
    TuyaUnsupportedError,
)
from locks.tuya.api import LockApi
from tests.contract.conftest import Sim, now_s

UNKNOWN_DEVICE = "vdevo000000000000000"
DAY = 86400


def create(sim: Sim, dev: str, pin: str = "1357924") -> int:
    now = now_s()
    return sim.api.passwords.create_temp_password(
        dev, lock_kind="wifi", pin=pin, name="e", effective_time=now - 60, invalid_time=now + DAY
    ).id


def test_unknown_device_is_not_found(sim: Sim) -> None:
    for call in (
        lambda: sim.api.device.get_device(UNKNOWN_DEVICE),
        lambda: sim.api.passwords.get_ticket(UNKNOWN_DEVICE),
        lambda: sim.api.passwords.list_temp_passwords(UNKNOWN_DEVICE),
    ):
        with pytest.raises(TuyaNotFoundError) as exc:
            call()
        assert exc.value.code == 2010
    # A refusal is an answer: nothing was repeated (one token grant, three calls).
    assert len(sim.transport.sent) == 4


def test_unknown_password_is_not_found(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    with pytest.raises(TuyaNotFoundError) as exc:
        sim.api.passwords.get_temp_password(dev, 1234567)
    assert exc.value.code == 2323
    with pytest.raises(TuyaNotFoundError):
        sim.api.passwords.delete_temp_password(dev, 1234567)


@pytest.mark.parametrize("kind", ["zigbee", "wifi"])
def test_device_details_match_the_world(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind, battery=15)
    world = sim.world("GET", f"/_sim/devices/{dev}")
    details = sim.api.device.get_device(dev)
    assert (details.id, details.name, details.local_key, details.category) == (
        dev,
        world["name"],
        world["local_key"],
        world["category"],
    )
    assert details.online is True
    assert details.sub is world["sub"]
    assert details.time_zone in ("+01:00", "+02:00")  # Europe/Amsterdam, shown as an offset
    assert {s.code: s.value for s in details.status} == {"residual_electricity": 15, "battery_state": "low"}
    sim.set_online(dev, False)
    assert sim.api.device.get_device(dev).online is False


def test_expired_token_fault_is_refreshed_transparently(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    sim.api.device.get_device(dev)
    first = sim.client.tokens.current().access_token
    sim.fault(endpoint="device_details", kind="tuya_code", code=1010, count=1)
    assert sim.api.device.get_device(dev).id == dev
    assert sim.client.tokens.current().access_token != first
    assert sim.transport.count("GET", f"/devices/{dev}") == 3  # ok, 1010, ok after the new token


def test_short_lived_tokens_are_renewed_with_the_refresh_token(sim: Sim, sim_settings: object) -> None:
    sim_settings.SIM_TOKEN_TTL = 60  # below the client's safety margin: each call renews first
    dev = sim.make_device("wifi")
    for _ in range(3):
        assert sim.api.device.get_device(dev).id == dev
    refreshes = [path for method, path in sim.transport.sent if "/v1.0/token/" in path]
    assert len(refreshes) >= 2  # the refresh call (old-token path) is accepted by the simulator
    assert sim.transport.count("GET", "/v1.0/token") == 1  # one grant only


def test_rate_limited_calls_are_retried(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    sim.fault(endpoint="device_details", kind="tuya_code", code=1199, count=2)
    assert sim.api.device.get_device(dev).id == dev
    assert sim.transport.count("GET", f"/devices/{dev}") == 3
    assert len(sim.sleeps) == 2


def test_rate_limited_create_is_retried_and_creates_once(sim: Sim) -> None:
    """1199 means the cloud refused before doing anything, so even a create may be repeated."""
    dev = sim.make_device("wifi")
    sim.fault(endpoint="temp_password_create", kind="tuya_code", code=1199, count=1)
    pid = create(sim, dev)
    assert sim.transport.count("POST", "/door-lock/temp-password") == 2
    assert [p.id for p in sim.api.passwords.list_temp_passwords(dev)] == [pid]


def test_persistent_rate_limit_gives_up(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    sim.fault(endpoint="device_details", kind="tuya_code", code=1199)
    with pytest.raises(TuyaRateLimitedError):
        sim.api.device.get_device(dev)
    assert sim.transport.count("GET", f"/devices/{dev}") == 1 + sim.client.max_retries


def test_the_simulators_own_rate_limit_is_absorbed_by_retries(sim: Sim, sim_settings: object) -> None:
    sim_settings.SIM_RATE_LIMIT = 20
    sim_settings.SIM_RATE_BURST = 2
    dev = sim.make_device("wifi")
    for _ in range(6):
        assert sim.api.device.get_device(dev).id == dev
    assert sim.sleeps  # some calls were refused with 1199 and repeated after a pause


def test_offline_fault(sim: Sim) -> None:
    dev = sim.make_device("zigbee")
    sim.fault(endpoint="device_details", device_id=dev, kind="tuya_code", code=2001, count=1)
    with pytest.raises(TuyaDeviceOfflineError) as exc:
        sim.api.device.get_device(dev)
    assert exc.value.code == 2001
    assert sim.transport.count("GET", f"/devices/{dev}") == 1


def test_system_error_on_a_post_is_not_repeated(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    sim.fault(endpoint="temp_password_create", kind="tuya_code", code=500, count=1)
    with pytest.raises(TuyaServerError) as exc:
        create(sim, dev)
    assert exc.value.code == 500
    assert sim.transport.count("POST", "/door-lock/temp-password") == 1
    assert list(sim.api.passwords.list_temp_passwords(dev)) == []


def test_http_500_on_a_post_is_not_repeated_but_on_a_get_it_is(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    sim.fault(endpoint="temp_password_create", kind="http_500", count=1)
    with pytest.raises(TuyaServerError):
        create(sim, dev)
    assert sim.transport.count("POST", "/door-lock/temp-password") == 1
    sim.fault(endpoint="device_details", kind="http_500", count=1)
    assert sim.api.device.get_device(dev).id == dev
    assert sim.transport.count("GET", f"/devices/{dev}") == 2


def _lost_reply_creates_once(sim: Sim, error: type[Exception]) -> None:
    dev = sim.make_device("wifi")
    sim.fault(endpoint="temp_password_create", kind="lost_reply", count=1)
    with pytest.raises(error):
        create(sim, dev, "2468024")
    assert sim.transport.count("POST", "/door-lock/temp-password") == 1  # never repeated
    listed = list(sim.api.passwords.list_temp_passwords(dev))
    assert len(listed) == 1  # the cloud did the work once
    sim.wait_delivered("wifi", dev, listed[0].id)
    assert sim.opens(dev, "2468024")


def test_lost_reply_on_create_standalone_server_hangs_up(sim: Sim) -> None:
    _lost_reply_creates_once(sim, TuyaNetworkError)


def test_lost_reply_on_create_mounted_answers_a_bare_500(mounted_sim: Sim) -> None:
    _lost_reply_creates_once(mounted_sim, TuyaServerError)


def test_not_applicable_is_unsupported(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    with pytest.raises(TuyaUnsupportedError) as exc:
        sim.api.passwords.freeze_temp_password(dev, 1)
    assert exc.value.code == 2004


def test_wrong_secret_is_a_signature_error(sim: Sim) -> None:
    client = TuyaClient(sim.url, conf.access_id(), "x" * 32, max_retries=0)
    with pytest.raises(TuyaSignatureError) as exc:
        LockApi(client).device.get_device(UNKNOWN_DEVICE)
    assert exc.value.code == 1004


def test_mounted_simulator_lifecycle(mounted_sim: Sim) -> None:
    """The same API through the app's mount path (/tuya-sim/) under Django's own server."""
    sim, kind = mounted_sim, "zigbee"
    dev = sim.make_device(kind)
    now = now_s()
    pid = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin="864213", name="m", effective_time=now - 60, invalid_time=now + DAY, type=0
    ).id
    assert sim.wait_delivered(kind, dev, pid).phase == 2
    assert sim.opens(dev, "864213")
    sim.api.passwords.freeze_temp_password(dev, pid)
    assert sim.wait_delivered(kind, dev, pid).phase == 3
    assert sim.keypad(dev, "864213")["reason"] == "frozen"
    sim.api.passwords.delete_temp_password(dev, pid)
    assert sim.wait_delivered(kind, dev, pid).phase == 4
