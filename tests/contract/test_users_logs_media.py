"""Users, logs and media: each test runs once the simulator implements its endpoints (skipped until then)."""

from __future__ import annotations

import time
import urllib.request

import pytest

from locks.tuya import TuyaError, TuyaNotFoundError, crypto
from locks.tuya.api import MediaFileType, Sex
from tests.contract.conftest import Sim, needs_sim_route, now_s

_USER = "/v1.0/devices/{device_id}/users/{user_id}"


@needs_sim_route("POST", "/v1.0/devices/{device_id}/user")
@needs_sim_route("GET", _USER)
@needs_sim_route("GET", "/v1.0/devices/{device_id}/users")
@needs_sim_route("DELETE", _USER)
def test_device_user_add_get_list_delete(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    user_id = sim.api.users.add_device_user(dev, nick_name="Ada", sex=Sex.FEMALE, contact="ada@example.com").user_id
    assert user_id
    user = sim.api.users.get_device_user(dev, user_id)
    assert (user.user_id, user.nick_name, user.sex, user.contact) == (user_id, "Ada", 2, "ada@example.com")
    assert user_id in [u.user_id for u in sim.api.users.list_device_users(dev)]
    assert sim.api.users.delete_device_user(dev, user_id)
    assert user_id not in [u.user_id for u in sim.api.users.list_device_users(dev)]
    with pytest.raises(TuyaError) as exc:
        sim.api.users.get_device_user(dev, user_id)
    assert exc.value.code == 2006


@needs_sim_route("GET", _USER)
def test_an_unknown_user_is_not_found(sim: Sim) -> None:
    with pytest.raises(TuyaNotFoundError):
        sim.api.users.get_device_user(sim.make_device("wifi"), "12345678")


@needs_sim_route("GET", "/v1.0/devices/{device_id}/door-lock/open-logs")
def test_a_keypad_opening_shows_in_the_open_logs(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    now = now_s()
    pid = sim.api.passwords.create_temp_password(
        dev, lock_kind="wifi", pin="7531902", name="log", effective_time=now - 60, invalid_time=now + 3600
    ).id
    sim.wait_delivered("wifi", dev, pid)
    assert sim.opens(dev, "7531902")
    logs = sim.api.records.list_open_logs(dev, start_time=now - 60, end_time=now_s() + 60)
    assert len(logs) >= 1
    assert logs[0].update_time >= now - 60
    earlier = sim.api.records.list_open_logs(dev, start_time=now - 7200, end_time=now - 3600)
    assert len(earlier) == 0


@needs_sim_route("GET", "/v1.0/devices/{device_id}/door-lock/unassigned-keys")
def test_a_new_lock_has_no_unassigned_keys(sim: Sim) -> None:
    assert len(sim.api.unlock_methods.list_unassigned_keys(sim.make_device("wifi"))) == 0


@needs_sim_route("GET", "/v1.0/devices/{device_id}/door-lock/latest/media/url")
def test_latest_media_after_a_doorbell_decrypts_to_a_jpeg(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    sim.world("POST", f"/_sim/devices/{dev}/doorbell", {})
    deadline = time.monotonic() + 5
    media = sim.api.records.get_latest_media(dev, MediaFileType(1))
    while not media.file_url and time.monotonic() < deadline:
        time.sleep(0.05)
        media = sim.api.records.get_latest_media(dev, MediaFileType(1))
    assert media.file_url
    assert media.file_key
    with urllib.request.urlopen(media.file_url, timeout=10) as response:  # noqa: S310 - the local simulator
        encrypted = response.read()
    assert crypto.decrypt_media(encrypted, media.file_key)[:3] == b"\xff\xd8\xff"
