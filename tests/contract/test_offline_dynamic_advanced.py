"""Offline, dynamic and advanced passwords: codes the lock checks by itself, typed on the simulated keypad.

Offline codes are issued by the cloud without reaching the lock, so every offline test takes the lock offline
first: the code must open the door anyway.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from locks.tuya import TuyaNotFoundError, TuyaUnsupportedError, TuyaValidationError
from locks.tuya.api import AdvancedType, Lang, OfflineType, OfflineTypeV10
from tests.contract.conftest import DELIVERY_SECONDS, Sim, now_s

HOUR = 3600
DAY = 86400

# The spec's "Applicable lock types" of each section ("Bluetooth lock" covers both Bluetooth kinds).
_BT = ("ble", "ble_gateway")
OFFLINE_V10 = ("wifi", *_BT)
OFFLINE_V11 = ("wifi", "zigbee", *_BT, "wifi_keepalive", "access_control")
OFFLINE_RENAME = (*_BT, "wifi_keepalive", "access_control")
DYNAMIC = ("wifi", "zigbee", *_BT)
OPEN_LOGS = ("wifi", "zigbee_hotel", *_BT)  # v1.0 open-logs


def floor_hour(seconds: int) -> int:
    return seconds - seconds % HOUR


def this_hour_bounds() -> tuple[int, int]:
    """The current hour, read on both sides of a call (a call made just at the full hour may see either)."""
    return floor_hour(now_s()), floor_hour(now_s() + 5)


def keypad_reason(sim: Sim, dev: str, code: str) -> tuple[bool, str]:
    answer = sim.keypad(dev, code)
    return bool(answer["opened"]), str(answer["reason"])


def open_log_names(sim: Sim, dev: str, since: int) -> list[tuple[str, str, str]]:
    """(status code, value, unlock_name) of the lock's unlock records since `since`, newest first."""
    logs = sim.api.records.list_open_logs(dev, start_time=since, end_time=now_s() + 60, page_size=100)
    return [(log.status[0].code, str(log.status[0].value), log.unlock_name) for log in logs]


# --- v1.0 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OFFLINE_V10)
def test_offline_v10_multiple_once_and_clear_all_work_with_the_lock_offline(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    sim.set_online(dev, False)
    now = now_s()
    off = sim.api.offline

    multiple = off.create_offline_password(
        dev, type=OfflineTypeV10.MULTIPLE, effective_time=now - 60, invalid_time=now + DAY, lang=Lang.EN, name="m"
    ).password
    once = off.create_offline_password(
        dev, type=OfflineTypeV10.ONCE, effective_time=now - 60, invalid_time=now + DAY, lang="en"
    ).password
    assert multiple.isdigit()
    assert once.isdigit()
    assert multiple != once

    assert keypad_reason(sim, dev, multiple) == (True, "opened")
    assert keypad_reason(sim, dev, multiple) == (True, "opened")  # as many times as needed
    assert keypad_reason(sim, dev, once) == (True, "opened")
    assert keypad_reason(sim, dev, once) == (False, "already_used")

    # Type 9 returns a one-time clearing code: it does not open, it clears every offline code issued before it.
    clear_all = off.create_offline_password(
        dev, type=OfflineTypeV10.CLEAR_ALL, effective_time=now - 60, invalid_time=now + DAY, lang=Lang.ZH
    ).password
    assert keypad_reason(sim, dev, clear_all) == (False, "cleared")
    if kind in OPEN_LOGS:
        sim.set_online(dev, True)  # an offline lock uploads its log once it is back online
        codes = [code for code, _, _ in open_log_names(sim, dev, now - 60)]
        assert codes == ["unlock_offline_clear"] + ["unlock_offline_pd"] * 3  # newest first
        sim.set_online(dev, False)
    assert keypad_reason(sim, dev, multiple) == (False, "cleared")
    # Issued after the clearing code was used: works.
    later = off.create_offline_password(
        dev, type=OfflineTypeV10.MULTIPLE, effective_time=now - 60, invalid_time=now + DAY, lang=Lang.EN
    ).password
    assert keypad_reason(sim, dev, later) == (True, "opened")


def test_a_cleared_offline_code_writes_no_unlock_record(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    now = now_s()
    off = sim.api.offline
    multiple = off.create_offline_password(dev, type=0, effective_time=now - 60, invalid_time=now + DAY, lang="en")
    clear_all = off.create_offline_password(dev, type=9, effective_time=now - 60, invalid_time=now + DAY, lang="en")
    assert keypad_reason(sim, dev, clear_all.password) == (False, "cleared")
    assert keypad_reason(sim, dev, multiple.password) == (False, "cleared")
    assert [code for code, _, _ in open_log_names(sim, dev, now - 60)] == ["unlock_offline_clear"]


def test_offline_v10_multiple_hours_round_down(sim: Sim) -> None:
    """A multiple-use code is valid from the full hour of effective_time until the full hour of invalid_time."""
    dev = sim.make_device("wifi")
    now = now_s()
    start = floor_hour(now) + 2 * HOUR + 1234  # 2 h later, past the full hour
    code = sim.api.offline.create_offline_password(
        dev, type=0, effective_time=start, invalid_time=start + 3 * HOUR, lang="en"
    ).password
    assert sim.keypad(dev, code) == {"opened": False, "reason": "not_yet_valid"}
    at = datetime.fromtimestamp(floor_hour(start) + 1, UTC)  # rounded down: opens right after the full hour
    assert sim.keypad_at(at, dev, code) == {"opened": True, "reason": "opened"}
    end = datetime.fromtimestamp(floor_hour(start + 3 * HOUR) + 1, UTC)
    assert sim.keypad_at(end, dev, code) == {"opened": False, "reason": "expired"}


def test_offline_v10_is_unsupported_on_a_zigbee_lock(sim: Sim) -> None:
    now = now_s()
    with pytest.raises(TuyaUnsupportedError):
        sim.api.offline.create_offline_password(
            sim.make_device("zigbee"), type=0, effective_time=now, invalid_time=now + DAY, lang="en"
        )


# --- v1.1 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OFFLINE_V11)
def test_offline_v11_types_with_the_spec_hour_rounding(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    sim.set_online(dev, False)
    off = sim.api.offline
    now = now_s()

    # multiple: the hours of the entered times (15:11:12 -> 15:00:00).
    effective, invalid = now - 1800, now + DAY + 1234
    multiple = off.create_offline_password_v11(
        dev, type=OfflineType.MULTIPLE, effective_time=effective, invalid_time=invalid, name="cleaner"
    )
    assert (multiple.effective_time, multiple.invalid_time) == (floor_hour(effective), floor_hour(invalid))
    assert multiple.name == "cleaner"
    assert multiple.password_id.isdigit()
    assert len(multiple.password) == 10
    assert multiple.password.isdigit()

    # once: this hour .. this hour + 6 h, whatever times are entered.
    low, high = this_hour_bounds()
    once = off.create_offline_password_v11(dev, type="once", name="parcel")
    assert once.effective_time in (low, high)
    assert once.invalid_time == once.effective_time + 6 * HOUR

    other = off.create_offline_password_v11(
        dev, type=OfflineType.MULTIPLE, effective_time=effective, invalid_time=invalid, name="tenant"
    )
    assert len({multiple.password_id, once.password_id, other.password_id}) == 3

    assert keypad_reason(sim, dev, multiple.password) == (True, "opened")
    assert keypad_reason(sim, dev, once.password) == (True, "opened")
    assert keypad_reason(sim, dev, once.password) == (False, "already_used")
    assert keypad_reason(sim, dev, other.password) == (True, "opened")

    # clear_one: a one-time code that clears exactly the named multiple-use code.
    clear_one = off.create_offline_password_v11(dev, type=OfflineType.CLEAR_ONE, password_id=multiple.password_id)
    assert clear_one.effective_time is not None
    assert clear_one.invalid_time is not None
    assert clear_one.effective_time % HOUR == 0
    assert clear_one.invalid_time % HOUR == 0
    assert keypad_reason(sim, dev, clear_one.password) == (False, "cleared")
    assert keypad_reason(sim, dev, multiple.password) == (False, "cleared")
    assert keypad_reason(sim, dev, other.password) == (True, "opened")

    # clear_all: this hour .. this hour + 24 h; clears every offline code issued before it.
    low, high = this_hour_bounds()
    clear_all = off.create_offline_password_v11(dev, type=OfflineType.CLEAR_ALL)
    assert clear_all.effective_time in (low, high)
    assert clear_all.invalid_time == clear_all.effective_time + 24 * HOUR
    assert keypad_reason(sim, dev, clear_all.password) == (False, "cleared")
    assert keypad_reason(sim, dev, other.password) == (False, "cleared")
    assert keypad_reason(sim, dev, clear_all.password) == (False, "already_used")


def test_offline_v11_multiple_needs_both_times_and_clear_one_an_id(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    before = len(sim.transport.sent)
    with pytest.raises(TuyaValidationError):
        sim.api.offline.create_offline_password_v11(dev, type="multiple", effective_time=now_s())
    with pytest.raises(TuyaValidationError):
        sim.api.offline.create_offline_password_v11(dev, type="clear_one")
    assert len(sim.transport.sent) == before  # refused before anything was sent
    with pytest.raises(TuyaNotFoundError):
        sim.api.offline.create_offline_password_v11(dev, type="clear_one", password_id="1234567")


def test_offline_v11_is_unsupported_on_the_hotel_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.offline.create_offline_password_v11(sim.make_device("zigbee_hotel"), type="once")


# --- rename ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OFFLINE_RENAME)
def test_rename_an_offline_password(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    now = now_s()
    issued = sim.api.offline.create_offline_password_v11(
        dev, type="multiple", effective_time=now - 1800, invalid_time=now + DAY, name="old name"
    )
    assert sim.api.offline.rename_offline_password(dev, issued.password_id, "front door, cleaner")
    assert sim.api.offline.rename_offline_password(dev, int(issued.password_id), "front door, cleaner")  # again
    assert sim.opens(dev, issued.password)
    if kind in OPEN_LOGS:
        assert open_log_names(sim, dev, now - 60)[0] == (
            "unlock_offline_pd",
            issued.password_id,
            "front door, cleaner",
        )
    elif kind == "access_control":
        records = sim.api.records.list_records(dev, dp_codes="unlock_offline_pd")
        assert [r.unlock_name for r in records] == ["front door, cleaner"]
    with pytest.raises(TuyaNotFoundError):
        sim.api.offline.rename_offline_password(dev, "1234567", "nobody")


def test_rename_is_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    now = now_s()
    issued = sim.api.offline.create_offline_password_v11(
        dev, type="multiple", effective_time=now - 1800, invalid_time=now + DAY
    )
    with pytest.raises(TuyaUnsupportedError):
        sim.api.offline.rename_offline_password(dev, issued.password_id, "new")


# --- dynamic ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DYNAMIC)
def test_a_dynamic_password_opens_the_door(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    since = now_s() - 60
    code = sim.api.offline.get_dynamic_password(dev).password
    assert code.isdigit()
    sim.set_online(dev, False)  # the lock checks it by itself
    assert keypad_reason(sim, dev, code) == (True, "opened")
    assert sim.api.offline.get_dynamic_password(dev).password == code  # the same code within its time step
    wrong = str((int(code) + 1) % 10 ** len(code)).zfill(len(code))
    assert keypad_reason(sim, dev, wrong)[0] is False
    if kind in OPEN_LOGS:
        sim.set_online(dev, True)  # the log reaches the cloud once the lock is back online
        assert open_log_names(sim, dev, since)[0][0] == "unlock_dynamic"


def test_dynamic_password_is_unsupported_on_a_video_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.offline.get_dynamic_password(sim.make_device("wifi_video"))


# --- advanced passwords (hotel lock) ------------------------------------------------------------------------------


def wait_phase(sim: Sim, dev: str, advanced_type: AdvancedType, phase: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (got := sim.api.passwords.get_advanced_password(dev, advanced_type).phase) != phase:
        if time.monotonic() > deadline:
            raise AssertionError(f"advanced password still in phase {got}, not {phase}")
        time.sleep(0.03)


def test_advanced_password_is_configured_then_opens(sim: Sim) -> None:
    dev = sim.make_device("zigbee_hotel")
    before = datetime.now(UTC)
    assert sim.api.passwords.set_advanced_password(dev, advanced_type=AdvancedType.ADMIN, pin="482913")
    first = sim.api.passwords.get_advanced_password(dev, "admin")
    assert first.advanced_type == "admin"
    assert first.phase in (1, 2)  # 1 until the gateway has reached the lock (one short delivery delay)
    # As of the moment it was set, the lock does not know it yet.
    assert sim.keypad_at(before, dev, "482913")["opened"] is False
    wait_phase(sim, dev, AdvancedType.ADMIN, 2)
    assert sim.opens(dev, "482913")
    assert sim.opens(dev, "482913")

    with pytest.raises(TuyaNotFoundError):
        sim.api.passwords.get_advanced_password(dev, AdvancedType.EMERGENCY)  # never set
    assert sim.api.passwords.set_advanced_password(dev, advanced_type="emergency", pin="771155")
    wait_phase(sim, dev, AdvancedType.EMERGENCY, 2)
    assert sim.opens(dev, "771155")
    assert open_log_names(sim, dev, now_s() - 60)[0][:2] == ("unlock_password", "emergency")


def test_advanced_password_fails_when_the_gateway_cannot_reach_the_lock(sim: Sim) -> None:
    dev = sim.make_device("zigbee_hotel")
    sim.set_online(dev, False)
    assert sim.api.passwords.set_advanced_password(dev, advanced_type="admin", pin="100200")
    assert sim.api.passwords.get_advanced_password(dev, "admin").phase == 1
    time.sleep(DELIVERY_SECONDS * 4 + 0.1)  # the gateway tries three times, then reports the failure
    assert sim.api.passwords.get_advanced_password(dev, "admin").phase == 3
    assert sim.opens(dev, "100200") is False


def test_advanced_password_is_unsupported_on_a_zigbee_lock(sim: Sim) -> None:
    dev = sim.make_device("zigbee")
    with pytest.raises(TuyaUnsupportedError):
        sim.api.passwords.set_advanced_password(dev, advanced_type="admin", pin="123456")
    with pytest.raises(TuyaUnsupportedError):
        sim.api.passwords.get_advanced_password(dev, "admin")


def test_hotel_clear_all_removes_every_temporary_password(sim: Sim) -> None:
    dev = sim.make_device("zigbee_hotel")
    now = now_s()
    pid = sim.api.passwords.create_temp_password(
        dev,
        lock_kind="zigbee_hotel",
        pin="246810",
        name="room",
        effective_time=now - 60,
        invalid_time=now + DAY,
        type=0,
    ).id
    sim.wait_delivered("zigbee_hotel", dev, pid)
    assert sim.opens(dev, "246810")
    assert sim.api.passwords.clear_temp_passwords(dev)
    deadline = time.monotonic() + 5
    while [p for p in sim.lock_memory(dev) if p["lifecycle"] != "deleted"] and time.monotonic() < deadline:
        time.sleep(0.03)
    assert sim.opens(dev, "246810") is False
