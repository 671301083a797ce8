"""All user endpoints through our client: device users (Wi-Fi, Zigbee, Bluetooth), home users and their roles
and validity periods, removed users, and the devices of an account. Home users join through the world API, as
members join the owner's home in the Tuya app."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from locks.tuya import TuyaNotFoundError, TuyaPermissionError, TuyaUnsupportedError
from locks.tuya.api import KeyUserType, Role, ScheduleWindow, Sex, UnlockDpCode, UnlockType
from tests.contract.conftest import Sim, now_s

DAY = 86400
_BT = ("ble", "ble_gateway")
# The spec's "Applicable lock types".
DEVICE_USERS = ("wifi", "zigbee", *_BT)  # add, modify, delete, get, list, allocate (v1.0)
SCHEDULE = ("wifi_keepalive", "access_control")
HOME_USER_LIST = ("wifi_keepalive", "wifi_video")
SYNC_KINDS = ("ble_gateway", "wifi_keepalive", "wifi_video", "access_control")  # methods enrolled at the lock
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # the simulator's default device time zone


def join_home(sim: Sim, dev: str, nick_name: str, role: str = "normal", contact: str = "") -> dict[str, Any]:
    return dict(
        sim.world("POST", f"/_sim/devices/{dev}/home-users", {"nick_name": nick_name, "role": role, "contact": contact})
    )


def lock_method(sim: Sim, dev: str, type_: str, unlock_sn: int, user_id: str | None = None) -> dict[str, Any]:
    """An unlocking method enrolled at the lock itself (not through the cloud)."""
    body: dict[str, Any] = {"type": type_, "unlock_sn": unlock_sn}
    if user_id:
        body["user_id"] = user_id
    return dict(sim.world("POST", f"/_sim/devices/{dev}/methods", body))


def present(sim: Sim, dev: str, type_: str, number: int, when: datetime | None = None) -> tuple[bool, str]:
    sim.clock.pinned = when
    try:
        answer = sim.world("POST", f"/_sim/devices/{dev}/present", {"type": type_, "number": number})
    finally:
        sim.clock.pinned = None
    return bool(answer["opened"]), str(answer["reason"])


# --- device users (v1.0) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DEVICE_USERS)
def test_device_user_lifecycle_and_allocation(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    users, keys = sim.api.users, sim.api.unlock_methods
    ada = users.add_device_user(
        dev, nick_name="Ada", sex=Sex.FEMALE, birthday=946684800, height=170, weight=60000, contact="ada@example.com"
    ).user_id
    bob = users.add_device_user(dev, nick_name="Bob", sex=1).user_id
    assert ada != bob

    got = users.get_device_user(dev, ada)
    assert (got.user_id, got.device_id, got.nick_name, got.sex) == (ada, dev, "Ada", 2)
    assert (got.birthday, got.height, got.weight, got.contact) == (946684800, 170, 60000, "ada@example.com")
    assert {u.user_id: u.nick_name for u in users.list_device_users(dev)} == {ada: "Ada", bob: "Bob"}

    assert users.modify_device_user(dev, ada, nick_name="Ada L.", sex=Sex.FEMALE, height=171)
    assert users.modify_device_user(dev, ada, nick_name="Ada L.", sex=Sex.FEMALE, height=171)  # same state again
    got = users.get_device_user(dev, ada)
    assert (got.nick_name, got.height, got.contact) == ("Ada L.", 171, "ada@example.com")

    # A card enrolled at the lock is unassigned until it is allocated to a user.
    lock_method(sim, dev, "card", 3)
    if kind in SYNC_KINDS:
        assert keys.list_unassigned_keys(dev).items == ()  # the cloud does not know it before a sync
        assert keys.sync_unlock_methods(dev, [UnlockDpCode.CARD])
    assert [(k.unlock_type, k.unlock_no) for k in keys.list_unassigned_keys(dev)] == [("card", 3)]
    assert users.allocate_to_user(dev, ada, no="3", type=UnlockType.CARD)
    assert users.allocate_to_user(dev, ada, no=3, type="card")  # the same link again changes nothing
    assert keys.list_unassigned_keys(dev).items == ()
    assigned = keys.list_assigned_keys(dev, KeyUserType.NOT_HOME, ada)
    assert [(k.unlock_type, k.unlock_no, k.hijack) for k in assigned] == [("card", 3, False)]
    assert keys.list_assigned_keys(dev, 2, bob).items == ()

    # Deleting the user leaves the card on the lock, unassigned again.
    assert users.delete_device_user(dev, ada)
    assert [u.user_id for u in users.list_device_users(dev)] == [bob]
    with pytest.raises(TuyaNotFoundError):
        users.get_device_user(dev, ada)
    assert [(k.unlock_type, k.unlock_no) for k in keys.list_unassigned_keys(dev, unlock_type="card")] == [("card", 3)]


def test_device_users_are_unsupported_on_access_control(sim: Sim) -> None:
    dev = sim.make_device("access_control")
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.add_device_user(dev, nick_name="Ada", sex=2)
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.list_device_users(dev)


# --- access control: v1.1 get / list, roles ------------------------------------------------------------------


def test_access_control_users_v11_roles_and_keywords(sim: Sim) -> None:
    dev = sim.make_device("access_control")
    users = sim.api.users
    ann = join_home(sim, dev, "Ann", contact="ann@example.com")["user_id"]
    bob = join_home(sim, dev, "Bob", role="admin", contact="bob@example.com")["user_id"]
    carla = join_home(sim, dev, "Carla Bobrowski")["user_id"]

    me = users.get_device_user_v11(dev)  # user 0: the current user, the project's account (home owner)
    assert me.user_type == 50
    assert me.uid == sim.client.tokens.current().uid
    assert me.time_schedule_info is not None
    assert me.time_schedule_info.permanent is True
    got = users.get_device_user_v11(dev, ann)
    assert (got.user_id, got.nick_name, got.user_type, got.user_contact) == (ann, "Ann", 20, "ann@example.com")
    assert got.effective_flag == 1
    with pytest.raises(TuyaPermissionError):  # "You cannot query the administrators."
        users.get_device_user_v11(dev, bob)

    def names(**filters: Any) -> set[str]:
        return {u.nick_name for u in users.list_device_users_v11(dev, page_size=100, **filters)}

    assert names() == {"Owner", "Ann", "Bob", "Carla Bobrowski"}
    assert names(role=Role.ADMIN) == {"Owner", "Bob"}
    assert names(role="normal") == {"Ann", "Carla Bobrowski"}
    assert names(keyword="bob") == {"Bob", "Carla Bobrowski"}  # fuzzy, on the name and the account
    assert names(keyword="ann@example") == {"Ann"}
    assert names(keyword="bob", role="normal") == {"Carla Bobrowski"}

    first = users.list_device_users_v11(dev, page_no=1, page_size=3)
    second = users.list_device_users_v11(dev, page_no=2, page_size=3)
    assert (len(first), first.total, first.total_pages, first.has_more) == (3, 4, 2, True)
    assert (len(second), second.has_more) == (1, False)
    assert {u.user_id for u in (*first, *second)} == {me.user_id, ann, bob, carla}

    assert users.set_user_role(dev, ann, Role.ADMIN)
    assert users.set_user_role(dev, ann, "admin")  # the same role again
    assert names(role="admin") == {"Owner", "Bob", "Ann"}
    assert users.set_user_role(dev, bob, Role.NORMAL)
    assert names(role="normal") == {"Bob", "Carla Bobrowski"}
    assert users.get_device_user_v11(dev, bob).user_type == 20  # no longer an administrator: readable


def test_v11_users_and_roles_are_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.list_device_users_v11(dev)
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.get_device_user_v11(dev)
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.set_user_role(dev, "12345678", Role.ADMIN)


# --- validity periods ----------------------------------------------------------------------------------------


def next_monday_at(hour: int) -> datetime:
    today = datetime.now(AMSTERDAM).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def schedule_of(sim: Sim, kind: str, dev: str, user_id: str) -> Any:
    if kind == "access_control":
        [user] = [u for u in sim.api.users.list_device_users_v11(dev, keyword="Dora") if u.user_id == user_id]
    else:
        [user] = [u for u in sim.api.users.list_home_users(dev, codes="unlock_fingerprint") if u.user_id == user_id]
    return user


@pytest.mark.parametrize("kind", SCHEDULE)
def test_update_a_home_users_validity_period(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    dora = join_home(sim, dev, "Dora")["user_id"]
    lock_method(sim, dev, "fingerprint", 1, user_id=dora)
    assert present(sim, dev, "fingerprint", 1) == (True, "opened")
    now = now_s()

    # Valid only from tomorrow: the lock refuses her today and the cloud says she is not in her period.
    assert sim.api.users.update_user_schedule(
        dev, dora, permanent=False, effective_time=now + DAY, expired_time=now + 2 * DAY
    )
    assert present(sim, dev, "fingerprint", 1) == (False, "outside_schedule")
    user = schedule_of(sim, kind, dev, dora)
    assert user.effective_flag == 0
    info = user.time_schedule_info
    assert (info.permanent, info.effective_time, info.expired_time) == (False, now + DAY, now + 2 * DAY)
    assert info.operate == "MODIFY"

    # Mondays 09:00-11:00 for a month.
    monday = next_monday_at(10)
    window = ScheduleWindow(working_day=2, start_minute=9 * 60, end_minute=11 * 60, time_zone_id="Europe/Amsterdam")
    assert sim.api.users.update_user_schedule(
        dev, dora, permanent=False, effective_time=now - DAY, expired_time=now + 30 * DAY, schedule_details=[window]
    )
    info = schedule_of(sim, kind, dev, dora).time_schedule_info
    assert [(w.working_day, w.start_minute, w.end_minute) for w in info.schedule_details] == [(2, 540, 660)]
    assert present(sim, dev, "fingerprint", 1, when=monday) == (True, "opened")
    assert present(sim, dev, "fingerprint", 1, when=monday + timedelta(hours=2)) == (False, "outside_schedule")
    assert present(sim, dev, "fingerprint", 1, when=monday + timedelta(days=1)) == (False, "outside_schedule")

    assert sim.api.users.update_user_schedule(dev, dora, permanent=True)
    assert schedule_of(sim, kind, dev, dora).effective_flag == 1
    assert present(sim, dev, "fingerprint", 1, when=monday + timedelta(days=1)) == (True, "opened")


def test_validity_period_is_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.update_user_schedule(sim.make_device("wifi"), "12345678", permanent=True)


# --- home users and their methods -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", HOME_USER_LIST)
def test_home_users_with_their_unlocking_methods(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    eve = join_home(sim, dev, "Eve", role="admin")["user_id"]
    lock_method(sim, dev, "fingerprint", 2, user_id=eve)
    lock_method(sim, dev, "card", 5, user_id=eve)

    def detail() -> dict[str, int]:
        page = sim.api.users.list_home_users(dev, codes=[UnlockDpCode.FINGERPRINT, UnlockDpCode.CARD])
        [user] = [u for u in page if u.user_id == eve]
        assert (user.nick_name, user.user_type) == ("Eve", 10)
        return {d.dp_code: d.count for d in user.unlock_detail}

    page = sim.api.users.list_home_users(dev, codes="unlock_fingerprint", page_size=1)
    assert (len(page), page.total, page.has_more) == (1, 2, True)  # the owner and Eve
    # Enrolled at the lock: the cloud learns of them with a sync.
    assert detail() == {"unlock_fingerprint": 0, "unlock_card": 0}
    assert sim.api.unlock_methods.sync_unlock_methods(dev, "unlock_fingerprint,unlock_card")
    assert detail() == {"unlock_fingerprint": 1, "unlock_card": 1}
    page = sim.api.users.list_home_users(dev, codes=[UnlockDpCode.FINGERPRINT])
    [row] = [u for u in page if u.user_id == eve]
    [item] = row.unlock_detail[0].unlock_list
    assert (item.unlock_sn, item.unlock_attr, item.admin) == (2, 0, True)
    assert item.op_mode_id


def test_home_user_list_is_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.list_home_users(sim.make_device("wifi"), codes="unlock_card")


def test_removed_users_are_listed_until_deleted_from_the_lock(sim: Sim) -> None:
    dev = sim.make_device("wifi_video")
    users = sim.api.users
    fay = join_home(sim, dev, "Fay")
    gus = join_home(sim, dev, "Gus", role="admin")
    hal = join_home(sim, dev, "Hal")
    assert users.list_absent_users(dev).items == ()
    for member in (fay, gus):
        sim.world("DELETE", f"/_sim/devices/{dev}/home-users/{member['user_id']}")
    absent = {(u.user_id, u.user_type, u.lock_user_id) for u in users.list_absent_users(dev)}
    assert absent == {
        (fay["user_id"], 20, fay["lock_user_id"]),
        (gus["user_id"], 10, gus["lock_user_id"]),
    }
    with pytest.raises(TuyaNotFoundError):  # Hal is still a member: only removed users can be deleted
        users.delete_users(dev, [hal["user_id"]])
    assert users.delete_users(dev, [fay["user_id"], gus["user_id"]])
    assert users.list_absent_users(dev).items == ()
    assert {u.user_id for u in users.list_home_users(dev, codes="unlock_card")} >= {hal["user_id"]}


def test_removed_users_are_unsupported_on_a_wifi_lock(sim: Sim) -> None:
    dev = sim.make_device("wifi")
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.list_absent_users(dev)
    with pytest.raises(TuyaUnsupportedError):
        sim.api.users.delete_users(dev, "12345678")


# --- devices of an account -----------------------------------------------------------------------------------


def test_devices_of_a_user_account(sim: Sim) -> None:
    first = sim.make_device("access_control")
    second = sim.make_device("access_control")
    sim.make_device("wifi")  # not an access-control device: not listed
    # The account's uid comes with every token (and in the device details).
    uid = sim.api.device.get_device(first).uid
    assert uid
    assert uid == sim.client.tokens.current().uid

    page = sim.api.users.list_user_devices(uid)
    assert [d.id for d in page] == [first, second]
    assert (page.total, page.has_more) == (2, False)
    assert all(d.uid == uid and d.local_key and d.category == "mk" for d in page)
    one = sim.api.users.list_user_devices(uid, page_no=2, page_size=1)
    assert ([d.id for d in one], one.total_pages) == ([second], 2)

    # A home member sees only the devices whose home they are in.
    member_uid = join_home(sim, second, "Ivy")["uid"]
    assert [d.id for d in sim.api.users.list_user_devices(member_uid)] == [second]
    with pytest.raises(TuyaNotFoundError):
        sim.api.users.list_user_devices("ay0000000000unknown")
