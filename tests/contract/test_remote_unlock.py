"""Remote unlocking through our client: the switches, password-free opening (with a door request for sleeping
Wi-Fi locks), revoking, channel unlocking, unlocking with a password, door-operate, and the log each leaves."""

from __future__ import annotations

import pytest

from locks.tuya import TuyaDeviceOfflineError, TuyaLockError, TuyaUnsupportedError
from locks.tuya.api import CancelReason, RemoteUnlockType
from tests.contract.conftest import Sim, now_s

DAY = 86400
_BT = ("ble", "ble_gateway")
# The spec's "Applicable lock types".
REMOTE_UNLOCKS = ("zigbee", *_BT)
REMOTE_CONFIG = ("wifi", "zigbee", *_BT)
PASSWORD_FREE = ("wifi", "zigbee", "zigbee_hotel", *_BT, "wifi_keepalive", "wifi_video")  # also door-operate
SLEEPING = ("wifi", "wifi_video")  # battery Wi-Fi locks: awake only while someone at the door asks
OPEN_LOGS_V10 = ("wifi", "zigbee_hotel", *_BT)
OPEN_LOGS_V11 = (*OPEN_LOGS_V10, "wifi_video")


def unlock_log(sim: Sim, kind: str, dev: str, since: int) -> list[tuple[str, str]]:
    """(code, value) of the unlock records since `since`, newest first, through the log API the kind has."""
    if kind in OPEN_LOGS_V10:
        logs = sim.api.records.list_open_logs(dev, start_time=since, end_time=now_s() + 60, page_size=100)
    elif kind in OPEN_LOGS_V11:
        logs = sim.api.records.list_open_logs_v11(
            dev, start_time=since * 1000, end_time=(now_s() + 60) * 1000, page_size=100
        )
    elif kind == "access_control":
        records = sim.api.records.list_records(dev, dp_codes="unlock_app")
        return [(code, str(value)) for r in records for code, value in r.dps[0].items()]
    else:
        raise AssertionError(f"{kind} has no unlock log")
    return [(log.status[0].code, str(log.status[0].value)) for log in logs]


def request_at_door(sim: Sim, dev: str) -> dict[str, object]:
    return dict(sim.world("POST", f"/_sim/devices/{dev}/remote-request", {})["request"])


def door_request(sim: Sim, dev: str) -> dict[str, object] | None:
    return sim.world("GET", f"/_sim/devices/{dev}/remote-request")["request"]


# --- switches -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", REMOTE_CONFIG)
def test_remote_unlock_switches(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    remote = sim.api.remote_unlock

    def switches() -> dict[str, bool]:
        return {s.remote_unlock_type: s.open for s in remote.list_remote_unlocks(dev)}

    if kind in REMOTE_UNLOCKS:
        assert switches() == {"remoteUnlockWithoutPwd": True, "remoteUnlockWithPwd": True}
    assert remote.set_remote_unlock(dev, RemoteUnlockType.WITHOUT_PASSWORD, False)
    assert remote.set_remote_unlock(dev, "remoteUnlockWithoutPwd", False)  # setting a final state twice
    if kind in REMOTE_UNLOCKS:
        assert switches() == {"remoteUnlockWithoutPwd": False, "remoteUnlockWithPwd": True}
    if kind in SLEEPING:
        request_at_door(sim, dev)
    # Switched off: password-free opening is refused, the door stays shut and nothing is logged.
    since = now_s() - 60
    with pytest.raises(TuyaLockError):
        remote.open_door(dev)
    if kind in OPEN_LOGS_V10:
        assert unlock_log(sim, kind, dev, since) == []
    assert remote.set_remote_unlock(dev, RemoteUnlockType.WITHOUT_PASSWORD, True)
    assert remote.set_remote_unlock(dev, RemoteUnlockType.WITH_PASSWORD, False)
    if kind in REMOTE_UNLOCKS:
        assert switches() == {"remoteUnlockWithoutPwd": True, "remoteUnlockWithPwd": False}
    assert remote.open_door(dev)


def test_remote_unlock_switch_list_is_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.remote_unlock.list_remote_unlocks(sim.make_device("wifi"))


def test_remote_unlock_config_is_unsupported_on_the_keepalive_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.remote_unlock.set_remote_unlock(sim.make_device("wifi_keepalive"), "remoteUnlockWithoutPwd", False)


# --- password-free opening ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", PASSWORD_FREE)
def test_password_free_open(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    since = now_s() - 60
    remote = sim.api.remote_unlock
    if kind in SLEEPING:
        # Asleep: the cloud cannot reach the lock until someone at the door asks to be let in.
        with pytest.raises(TuyaDeviceOfflineError):
            remote.open_door(dev)
        asked = request_at_door(sim, dev)
        assert asked["status"] == "pending"
        assert remote.open_door(dev)
        answered = door_request(sim, dev)
        assert answered is not None
        assert answered["status"] == "approved"
    else:
        assert remote.open_door(dev)
        assert remote.open_door(dev, ticket=sim.api.passwords.get_smart_lock_ticket(dev))
    if kind in OPEN_LOGS_V11:
        log = unlock_log(sim, kind, dev, since)
        assert log[0][0] == "unlock_app"
        assert len(log) == (1 if kind in SLEEPING else 2)
    # An offline lock cannot be opened from the cloud.
    sim.set_online(dev, False)
    if kind in SLEEPING:
        request_at_door(sim, dev)
    with pytest.raises(TuyaDeviceOfflineError):
        remote.open_door(dev)


def test_password_free_open_is_unsupported_on_access_control(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.remote_unlock.open_door(sim.make_device("access_control"))


def test_sleeping_lock_request_rejected_or_cancelled(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    since = now_s() - 60
    remote = sim.api.remote_unlock
    request_at_door(sim, dev)
    assert remote.cancel_remote_unlock(dev, CancelReason.REJECT)
    assert remote.cancel_remote_unlock(dev, 1)  # revoking twice leaves it just as revoked
    rejected = door_request(sim, dev)
    assert rejected is not None
    assert rejected["status"] == "rejected"
    with pytest.raises(TuyaDeviceOfflineError):  # the lock went back to sleep
        remote.open_door(dev)

    request_at_door(sim, dev)
    assert remote.cancel_remote_unlock(dev, CancelReason.CANCEL)
    cancelled = door_request(sim, dev)
    assert cancelled is not None
    assert cancelled["status"] == "cancelled"
    assert unlock_log(sim, "wifi", dev, since) == []


def test_revoke_is_unsupported_on_a_zigbee_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.remote_unlock.cancel_remote_unlock(sim.make_device("zigbee"), CancelReason.CANCEL)


# --- channel unlocking (access control, v1.1) -------------------------------------------------------------------


def test_channel_unlock_on_access_control(sim: Sim) -> None:
    dev = sim.make_device("access_control")
    remote = sim.api.remote_unlock
    assert remote.open_door_channel(dev, 1)
    assert remote.open_door_channel(dev, 2, ticket=sim.api.passwords.get_ticket(dev))
    assert unlock_log(sim, "access_control", dev, 0) == [("unlock_app", "channel 2"), ("unlock_app", "channel 1")]
    sim.set_online(dev, False)
    with pytest.raises(TuyaDeviceOfflineError):
        remote.open_door_channel(dev, 1)


def test_channel_unlock_is_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.remote_unlock.open_door_channel(sim.make_device("wifi"), 1)


# --- unlocking with a password (Zigbee) --------------------------------------------------------------------------


def test_open_door_with_a_password_the_lock_knows(sim: Sim) -> None:
    dev = sim.make_device("zigbee")
    remote = sim.api.remote_unlock
    now = now_s()
    pid = sim.api.passwords.create_temp_password(
        dev, lock_kind="zigbee", pin="314159", name="remote", effective_time=now - 60, invalid_time=now + DAY, type=0
    ).id
    sim.wait_delivered("zigbee", dev, pid)
    assert remote.open_door_with_password(dev, pin="314159")
    assert remote.open_door_with_password(dev, pin="314159", ticket=sim.api.passwords.get_ticket(dev))
    with pytest.raises(TuyaLockError) as wrong:
        remote.open_door_with_password(dev, pin="999999")
    assert wrong.value.code == 2314
    # The switch for unlocking with a password is honoured.
    assert remote.set_remote_unlock(dev, RemoteUnlockType.WITH_PASSWORD, False)
    with pytest.raises(TuyaLockError):
        remote.open_door_with_password(dev, pin="314159")


def test_open_door_with_password_is_unsupported_on_a_ble_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.remote_unlock.open_door_with_password(sim.make_device("ble"), pin="123456")


# --- door-operate ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", PASSWORD_FREE)
def test_door_operate_unlock_and_lock(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    since = now_s() - 60
    remote = sim.api.remote_unlock
    if kind in SLEEPING:
        with pytest.raises(TuyaDeviceOfflineError):
            remote.door_operate(dev, open=True)
        request_at_door(sim, dev)
    assert remote.door_operate(dev, open=True)
    if kind in SLEEPING:
        # The answered request let the lock go back to sleep: locking it again needs someone at the door.
        with pytest.raises(TuyaDeviceOfflineError):
            remote.door_operate(dev, open=False)
        request_at_door(sim, dev)
    assert remote.door_operate(dev, open=False)  # locking writes no unlock record
    assert remote.door_operate(dev, open=False, ticket=sim.api.passwords.get_smart_lock_ticket(dev))
    if kind in OPEN_LOGS_V11:
        assert [code for code, _ in unlock_log(sim, kind, dev, since)] == ["unlock_app"]
    if kind not in SLEEPING:
        assert remote.door_operate(dev)  # `open` left out: opens
        if kind in OPEN_LOGS_V11:
            assert len(unlock_log(sim, kind, dev, since)) == 2


def test_door_operate_is_unsupported_on_access_control(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.remote_unlock.door_operate(sim.make_device("access_control"), open=True)
