"""Unlocking methods through our client: enrollment (its progress driven at the lock through the world API),
cancelling, renaming, duress alarms, assignment, syncing, deleting, a user's methods and the photo attribute."""

from __future__ import annotations

import time
import urllib.error
from typing import Any

import pytest

from locks.tuya import TuyaLockError, TuyaParameterError, TuyaUnsupportedError
from locks.tuya.api import KeyUserType, OpmodeAttribute, Sex, UnlockDpCode, UnlockRef, UnlockType
from tests.contract.conftest import Sim, now_s

_BT = ("ble", "ble_gateway")
_RESIDENTIAL = ("wifi", "zigbee", *_BT)
# The spec's "Applicable lock types".
ENTRY = (*_RESIDENTIAL, "wifi_keepalive", "wifi_video", "access_control")  # enroll and cancel
HOME_USER_ONLY = ("wifi_keepalive", "wifi_video")
DELETE = (*_RESIDENTIAL, "wifi_keepalive", "access_control")
ASSIGNED_KEYS = (*_RESIDENTIAL, "wifi_video")
UNASSIGNED_KEYS = (*_RESIDENTIAL, "access_control")
SYNC = ("ble_gateway", "wifi_keepalive", "wifi_video", "access_control")
HIJACK = _RESIDENTIAL
OPMODES_ALLOCATE = ("access_control", *_BT)
USER_OPMODES = ("wifi_video", "access_control")
HOME_USER_LIST = ("wifi_keepalive", "wifi_video")


def world_enrollment(sim: Sim, dev: str) -> dict[str, Any]:
    return dict(sim.world("GET", f"/_sim/devices/{dev}/enrollment")["enrollment"])


def enroll_step(sim: Sim, dev: str, code: str | None = None) -> dict[str, Any]:
    return dict(
        sim.world("POST", f"/_sim/devices/{dev}/enroll-step", {} if code is None else {"code": code})["enrollment"]
    )


def present(sim: Sim, dev: str, type_: str, number: int) -> tuple[bool, str]:
    answer = sim.world("POST", f"/_sim/devices/{dev}/present", {"type": type_, "number": number})
    return bool(answer["opened"]), str(answer["reason"])


def lock_method(sim: Sim, dev: str, type_: str, unlock_sn: int, user_id: str | None = None) -> dict[str, Any]:
    """A method enrolled at the lock itself; the kinds in SYNC report it to the cloud only on a sync."""
    body: dict[str, Any] = {"type": type_, "unlock_sn": unlock_sn}
    if user_id:
        body["user_id"] = user_id
    return dict(sim.world("POST", f"/_sim/devices/{dev}/methods", body))


def lock_methods(sim: Sim, dev: str) -> list[dict[str, Any]]:
    return list(sim.world("GET", f"/_sim/devices/{dev}/methods")["methods"])


def a_user(sim: Sim, kind: str, dev: str) -> tuple[KeyUserType, str]:
    """(user_type, user_id) of a new user of the kind: a device user where the kind has them, else a home user."""
    if kind in _RESIDENTIAL:
        return KeyUserType.NOT_HOME, sim.api.users.add_device_user(dev, nick_name="Kim", sex=Sex.FEMALE).user_id
    member = sim.world("POST", f"/_sim/devices/{dev}/home-users", {"nick_name": "Kim", "role": "normal"})
    return KeyUserType.HOME, str(member["user_id"])


def user_keys(sim: Sim, kind: str, dev: str, user_type: KeyUserType, user_id: str) -> set[tuple[str, int]]:
    """(type, number) of the user's methods the cloud knows, through whichever API the kind offers."""
    if kind in ASSIGNED_KEYS:
        return {
            (k.unlock_type, k.unlock_no) for k in sim.api.unlock_methods.list_assigned_keys(dev, user_type, user_id)
        }
    if kind in USER_OPMODES:
        methods = sim.api.unlock_methods.list_user_unlock_methods(dev, user_id)
        return {(m.dp_code.removeprefix("unlock_"), m.unlock_sn or 0) for m in methods}
    codes = [UnlockDpCode.FINGERPRINT, UnlockDpCode.CARD, UnlockDpCode.PASSWORD, UnlockDpCode.FACE]
    [user] = [u for u in sim.api.users.list_home_users(dev, codes=codes) if u.user_id == user_id]
    return {(d.dp_code.removeprefix("unlock_"), i.unlock_sn or 0) for d in user.unlock_detail for i in d.unlock_list}


# --- enrollment, cancel, delete ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ENTRY)
def test_enroll_a_fingerprint_step_by_step_cancel_a_card_and_delete(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    methods = sim.api.unlock_methods
    user_type, user_id = a_user(sim, kind, dev)

    # Cancel: a card enrollment started and abandoned.
    assert methods.enroll_unlock_method(dev, user_id=user_id, user_type=user_type, unlock_type=UnlockType.CARD)
    assert methods.cancel_enrollment(dev, UnlockType.CARD)
    assert methods.cancel_enrollment(dev, "card")  # nothing left to cancel: still true
    cancelled = world_enrollment(sim, dev)
    assert cancelled["state"] == "cancelled"
    assert cancelled["messages"][-1]["bizData"]["operate"] == 2
    with pytest.raises(urllib.error.HTTPError) as no_enrollment:
        enroll_step(sim, dev)
    assert no_enrollment.value.code == 409

    # A fingerprint takes four presses; the lock reports the remaining count after each.
    assert methods.enroll_unlock_method(dev, user_id=user_id, user_type=user_type, unlock_type="fingerprint")
    started = world_enrollment(sim, dev)
    assert (started["state"], started["total"], started["remaining"], started["user_id"]) == ("active", 4, 4, user_id)
    assert started["messages"][0] == {
        "bizCode": "doorUnlockMethodStatus",
        "bizData": {
            "finish": False,
            "operate": 1,
            "raised": True,
            "totalPeriod": 4,
            "period": 4,
            "event": "unlockMethodEntry",
        },
    }
    with pytest.raises(TuyaLockError) as busy:  # one enrollment at a time
        methods.enroll_unlock_method(dev, user_id=user_id, user_type=user_type, unlock_type=UnlockType.FACE)
    assert busy.value.code == 2328
    progress = [enroll_step(sim, dev)["remaining"] for _ in range(4)]
    assert progress == [3, 2, 1, 0]
    done = world_enrollment(sim, dev)
    assert done["state"] == "done"
    assert done["messages"][-1]["bizData"]["finish"] is True
    number = int(done["unlock_sn"])

    assert present(sim, dev, "fingerprint", number) == (True, "opened")
    assert ("fingerprint", number) in user_keys(sim, kind, dev, user_type, user_id)

    if kind in DELETE:
        assert methods.delete_unlock_key(
            dev, user_type=user_type, user_id=user_id, unlock_type=UnlockType.FINGERPRINT, unlock_no=number
        )
        assert ("fingerprint", number) not in user_keys(sim, kind, dev, user_type, user_id)
        assert present(sim, dev, "fingerprint", number) == (False, "unknown")
    else:
        with pytest.raises(TuyaUnsupportedError):
            methods.delete_unlock_key(
                dev, user_type=user_type, user_id=user_id, unlock_type="fingerprint", unlock_no=number
            )


def test_enrollment_is_unsupported_on_the_hotel_lock(sim: Sim) -> None:
    dev = sim.make_device("zigbee_hotel")
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.enroll_unlock_method(dev, user_id="12345678", user_type=2, unlock_type="card")
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.cancel_enrollment(dev, "card")


@pytest.mark.parametrize("kind", HOME_USER_ONLY)
def test_home_user_only_kinds_refuse_device_users(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    _, member = a_user(sim, kind, dev)
    with pytest.raises(TuyaParameterError) as refused:  # "(home user only)": user_type 2 is refused
        sim.api.unlock_methods.enroll_unlock_method(dev, user_id=member, user_type=2, unlock_type="card")
    assert refused.value.code == 1109


def test_a_password_is_typed_twice_at_enrollment(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    user_type, user_id = a_user(sim, "wifi", dev)
    assert sim.api.unlock_methods.enroll_unlock_method(
        dev, user_id=user_id, user_type=user_type, unlock_type=UnlockType.PASSWORD
    )
    assert enroll_step(sim, dev, "1357913")["remaining"] == 1
    assert enroll_step(sim, dev, "1357913")["remaining"] == 0
    assert sim.opens(dev, "1357913")
    assert ("password", 1) in user_keys(sim, "wifi", dev, user_type, user_id)


@pytest.mark.parametrize("kind", _BT)
def test_a_bluetooth_lock_enrolls_a_password_sent_with_a_ticket(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    user_type, user_id = a_user(sim, kind, dev)
    assert sim.api.unlock_methods.enroll_unlock_method(
        dev, user_id=user_id, user_type=user_type, unlock_type="password", pin="864209"
    )
    assert world_enrollment(sim, dev)["state"] == "done"
    assert sim.opens(dev, "864209")
    assert ("password", 1) in user_keys(sim, kind, dev, user_type, user_id)


# --- rename, a user's methods -------------------------------------------------------------------------------


def test_rename_an_unlocking_method_on_access_control(sim: Sim) -> None:
    dev = sim.make_device("access_control")
    methods = sim.api.unlock_methods
    user_type, user_id = a_user(sim, "access_control", dev)
    assert methods.enroll_unlock_method(dev, user_id=user_id, user_type=user_type, unlock_type="card")
    number = int(enroll_step(sim, dev)["unlock_sn"])
    assert methods.rename_unlock_method(dev, number, dp_code=UnlockDpCode.CARD, unlock_name="Blue badge")
    assert methods.rename_unlock_method(dev, number, dp_code="unlock_card", unlock_name="Blue badge")
    [method] = methods.list_user_unlock_methods(dev, user_id, unlock_name="badge")
    assert (method.dp_code, method.unlock_sn, method.unlock_name) == ("unlock_card", number, "Blue badge")
    assert present(sim, dev, "card", number) == (True, "opened")
    [record] = sim.api.records.list_records(dev, dp_codes="unlock_card")
    assert (record.unlock_name, record.user_id) == ("Blue badge", user_id)


def test_rename_is_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.rename_unlock_method(sim.make_device("wifi"), 1, dp_code="unlock_card", unlock_name="x")


@pytest.mark.parametrize("kind", USER_OPMODES)
def test_a_users_unlocking_methods_filtered_and_paged(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    _, user_id = a_user(sim, kind, dev)
    lock_method(sim, dev, "fingerprint", 1, user_id=user_id)
    lock_method(sim, dev, "fingerprint", 2, user_id=user_id)
    lock_method(sim, dev, "card", 7, user_id=user_id)
    methods = sim.api.unlock_methods
    assert len(methods.list_user_unlock_methods(dev, user_id)) == 0  # enrolled at the lock, not yet synced
    assert methods.sync_unlock_methods(dev, [UnlockDpCode.FINGERPRINT, UnlockDpCode.CARD])

    every = methods.list_user_unlock_methods(dev, user_id)
    assert {(m.dp_code, m.unlock_sn) for m in every} == {
        ("unlock_fingerprint", 1),
        ("unlock_fingerprint", 2),
        ("unlock_card", 7),
    }
    first = every[0]
    assert (first.phase, first.user_id, first.user_name, first.user_type) == (1, user_id, "Kim", 20)
    assert first.opmode_id
    assert first.notify_info.app_send == 1
    assert not first.allocate_flag  # enrolled for her: already allocated once
    cards = methods.list_user_unlock_methods(dev, user_id, codes=[UnlockDpCode.CARD])
    assert [(m.dp_code, m.unlock_name) for m in cards] == [("unlock_card", "Card 7")]
    named = methods.list_user_unlock_methods(dev, user_id, codes="unlock_fingerprint", unlock_name="print 2")
    assert [m.unlock_sn for m in named] == [2]
    paged = methods.list_user_unlock_methods(dev, user_id, page_no=2, page_size=2)
    assert len(paged) == 1


def test_user_opmodes_are_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.list_user_unlock_methods(sim.make_device("wifi"), "12345678")


# --- duress -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", HIJACK)
def test_duress_on_and_off(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    methods = sim.api.unlock_methods
    user_type, user_id = a_user(sim, kind, dev)
    lock_method(sim, dev, "card", 3, user_id=user_id)
    if kind in SYNC:
        assert methods.sync_unlock_methods(dev, "unlock_card")

    def hijacks() -> list[str]:
        return [str(r.status[0].value) for r in sim.api.records.list_alarm_logs(dev, dp_codes="hijack")]

    assert methods.set_duress(dev, UnlockType.CARD, 3)
    assert methods.set_duress(dev, "card", 3)  # again: still on
    assert [(k.unlock_no, k.hijack) for k in methods.list_assigned_keys(dev, user_type, user_id)] == [(3, True)]
    # The door opens as usual, and the lock raises the silent duress alarm.
    assert present(sim, dev, "card", 3) == (True, "opened")
    assert hijacks() == ["unlock_card-03"]
    v11 = sim.api.records.list_alarm_logs_v11(dev, codes="hijack")
    assert [(s.code, s.value) for r in v11 for s in r.status] == [("hijack", "unlock_card-03")]

    assert methods.delete_duress(dev, UnlockDpCode.CARD, 3)
    assert methods.delete_duress(dev, "unlock_card", 3)
    assert [(k.unlock_no, k.hijack) for k in methods.list_assigned_keys(dev, user_type, user_id)] == [(3, False)]
    assert present(sim, dev, "card", 3) == (True, "opened")
    assert hijacks() == ["unlock_card-03"]  # no new alarm


def test_duress_is_unsupported_on_access_control(sim: Sim) -> None:
    dev = sim.make_device("access_control")
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.set_duress(dev, "card", 1)
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.delete_duress(dev, "unlock_card", 1)


# --- assignment, unassigned keys, sync ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OPMODES_ALLOCATE)
def test_assign_several_unlocking_methods_to_a_user(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    methods = sim.api.unlock_methods
    user_type, user_id = a_user(sim, kind, dev)
    lock_method(sim, dev, "card", 1)
    lock_method(sim, dev, "fingerprint", 2)
    if kind in SYNC:
        assert methods.list_unassigned_keys(dev).items == ()
        assert methods.sync_unlock_methods(dev, "unlock_card,unlock_fingerprint")
    assert {(k.unlock_type, k.unlock_no) for k in methods.list_unassigned_keys(dev)} == {
        ("card", 1),
        ("fingerprint", 2),
    }
    assert [k.unlock_no for k in methods.list_unassigned_keys(dev, unlock_type=UnlockType.FINGERPRINT)] == [2]

    refs = [UnlockRef(UnlockDpCode.CARD, 1), UnlockRef("unlock_fingerprint", 2)]
    assert methods.allocate_unlock_methods(dev, user_id, refs)
    assert methods.allocate_unlock_methods(dev, user_id, refs)  # the same links again
    assert methods.list_unassigned_keys(dev).items == ()
    assert user_keys(sim, kind, dev, user_type, user_id) == {("card", 1), ("fingerprint", 2)}
    # Another user cannot take them over.
    _, other = a_user(sim, kind, dev)
    with pytest.raises(TuyaLockError):
        methods.allocate_unlock_methods(dev, other, [UnlockRef(UnlockDpCode.CARD, 1)])


def test_assigning_several_methods_is_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.allocate_unlock_methods(
            sim.make_device("wifi"), "12345678", [UnlockRef(UnlockDpCode.CARD, 1)]
        )


def test_unassigned_and_assigned_keys_are_unsupported_where_the_spec_says(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.list_unassigned_keys(sim.make_device("wifi_video"))
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.list_assigned_keys(sim.make_device("access_control"), 1, "12345678")


@pytest.mark.parametrize("kind", SYNC)
def test_sync_brings_methods_enrolled_at_the_lock_to_the_cloud(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    methods = sim.api.unlock_methods
    user_type, user_id = a_user(sim, kind, dev)
    lock_method(sim, dev, "card", 4, user_id=user_id)
    lock_method(sim, dev, "fingerprint", 6, user_id=user_id)
    assert user_keys(sim, kind, dev, user_type, user_id) == set()
    assert methods.sync_unlock_methods(dev, [UnlockDpCode.CARD])  # only the codes asked for
    assert user_keys(sim, kind, dev, user_type, user_id) == {("card", 4)}
    assert methods.sync_unlock_methods(dev, "unlock_card,unlock_fingerprint")
    assert user_keys(sim, kind, dev, user_type, user_id) == {("card", 4), ("fingerprint", 6)}
    assert all(m["in_cloud"] for m in lock_methods(sim, dev))


def test_sync_is_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.sync_unlock_methods(sim.make_device("wifi"), "unlock_card")


# --- opmode attributes (Wi-Fi lock) ------------------------------------------------------------------------------


def test_the_photo_attribute_makes_the_lock_film_unlocks(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    methods = sim.api.unlock_methods
    user_type, user_id = a_user(sim, "wifi", dev)
    assert methods.enroll_unlock_method(dev, user_id=user_id, user_type=user_type, unlock_type="face")
    number = int(enroll_step(sim, dev)["unlock_sn"])
    # The opmode id is nowhere in the Wi-Fi lock's APIs (user opmodes are for video and access-control locks):
    # read it from what the lock holds.
    [held] = [m for m in lock_methods(sim, dev) if m["dp_code"] == "unlock_face"]
    since = now_s() - 60

    def last_media() -> int:
        logs = sim.api.records.list_open_logs_v11(
            dev, start_time=since * 1000, end_time=(now_s() + 60) * 1000, show_media_info=True
        )
        return len([info for info in logs[0].media_infos if info.file_url])

    assert present(sim, dev, "face", number) == (True, "opened")
    assert last_media() == 0
    assert methods.set_opmode_attribute(dev, held["opmode_id"], OpmodeAttribute.PHOTO, True)
    assert methods.set_opmode_attribute(dev, str(held["opmode_id"]), OpmodeAttribute.VOICE, True)
    assert [m["photo"] for m in lock_methods(sim, dev)] == [True]
    time.sleep(0.01)
    assert present(sim, dev, "face", number) == (True, "opened")
    assert last_media() == 1
    assert methods.set_opmode_attribute(dev, held["opmode_id"], 2, False)
    assert [m["photo"] for m in lock_methods(sim, dev)] == [False]


def test_opmode_attribute_is_unsupported_on_a_zigbee_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.unlock_methods.set_opmode_attribute(sim.make_device("zigbee"), 1, OpmodeAttribute.PHOTO, True)
