"""Remote unlocking: switches, with and without a password, requests from the door, revoking."""

import pytest

from tests.simulator.conftest import encrypt, keypad, set_online
from tests.simulator.helpers import world, world_get

pytestmark = pytest.mark.django_db

D = "/v1.0/devices/{}/door-lock"


def free_open(tuya, lock):
    ticket_id, _ = tuya.ticket(lock.id)
    return tuya.request("POST", f"{D.format(lock.id)}/password-free/open-door", body={"ticket_id": ticket_id})


def last_unlock(lock):
    kinds = [e["kind"] for e in world_get(lock.id, "events")["events"]]
    return kinds[-1] if kinds else None


def test_always_connected_lock_opens_on_the_clouds_word(tuya, make_device):
    lock = make_device("wifi_keepalive")
    assert free_open(tuya, lock)["result"] is True
    assert last_unlock(lock) == "unlock_app"


def test_sleeping_wifi_lock_opens_only_while_someone_at_the_door_asks(tuya, make_device, sim_clock):
    lock = make_device("wifi_video")
    assert free_open(tuya, lock)["code"] == 2001  # asleep
    asked = world(lock.id, "remote-request")
    assert asked["request"]["status"] == "pending"
    assert asked["events"][0]["kind"] == "doorbell"
    assert free_open(tuya, lock)["result"] is True
    assert world_get(lock.id, "remote-request")["request"]["status"] == "approved"


@pytest.mark.parametrize("kind", ["wifi", "wifi_video"])
def test_a_doorbell_wakes_a_sleeping_lock_for_its_countdown(tuya, make_device, sim_clock, kind):
    # The doorbell record is how a client learns someone waits (spec: album event 18 "Report doorbell request",
    # alarm-logs codes=doorbell with its photo), so a ring must leave the lock awake for a password-free open.
    lock = make_device(kind)
    rang = world(lock.id, "doorbell")
    assert [e["kind"] for e in rang["events"]] == ["doorbell"]
    assert rang["request"]["status"] == "pending"
    assert free_open(tuya, lock)["result"] is True
    assert world_get(lock.id, "remote-request")["request"]["status"] == "approved"
    assert last_unlock(lock) == "unlock_app"
    world(lock.id, "doorbell")
    sim_clock.advance(61)  # unanswered: the lock sleeps again
    assert free_open(tuya, lock)["code"] == 2001


def test_unanswered_request_lapses_after_its_countdown(tuya, make_device, sim_clock):
    lock = make_device("wifi")
    world(lock.id, "remote-request")
    sim_clock.advance(61)
    assert world_get(lock.id, "remote-request")["request"]["status"] == "expired"
    assert free_open(tuya, lock)["code"] == 2001


def test_rejecting_a_request_closes_it(tuya, make_device, sim_clock):
    lock = make_device("wifi")
    world(lock.id, "remote-request")
    assert tuya.ok("PUT", f"{D.format(lock.id)}/password-free/open-door/cancel", body={"type": 1}) is True
    assert world_get(lock.id, "remote-request")["request"]["status"] == "rejected"
    assert free_open(tuya, lock)["code"] == 2001
    assert tuya.request("PUT", f"{D.format(lock.id)}/password-free/open-door/cancel", body={"type": 3})["code"] == 1101


def test_offline_lock_cannot_be_opened_remotely(tuya, make_device):
    lock = make_device("zigbee")
    set_online(lock.id, False)
    assert free_open(tuya, lock)["code"] == 2001


def test_switch_off_refuses_password_free_unlocking(tuya, make_device):
    lock = make_device("zigbee")
    path = f"{D.format(lock.id)}/remote-unlock/config"
    assert tuya.ok("POST", path, body={"remote_unlock_type": "remoteUnlockWithoutPwd", "open": False}) is True
    assert free_open(tuya, lock)["code"] == 2306
    switches = tuya.ok("GET", f"{D.format(lock.id)}/remote-unlocks")
    assert {"remote_unlock_type": "remoteUnlockWithoutPwd", "open": False} in switches
    assert tuya.request("POST", path, body={"remote_unlock_type": "x", "open": True})["code"] == 1101
    assert tuya.request("POST", path, body={"remote_unlock_type": "remoteUnlockWithPwd", "open": "yes"})["code"] == 1104


def test_unknown_or_foreign_ticket_is_refused(tuya, make_device):
    lock, other = make_device("zigbee"), make_device("zigbee")
    other_ticket, _ = tuya.ticket(other.id)
    path = f"{D.format(lock.id)}/password-free/open-door"
    assert tuya.request("POST", path, body={"ticket_id": other_ticket})["code"] == 1109
    assert tuya.request("POST", path, body={})["code"] == 1100


def test_open_door_with_a_password_the_lock_knows(tuya, make_device, instant_delivery):
    lock = make_device("zigbee")
    now = int(tuya_clock_now())
    tuya.create_password(lock.id, "246810", now - 60, now + 3600)
    assert keypad(lock.id, "246810")["opened"] is True  # delivered
    ticket_id, key = tuya.ticket(lock.id)
    body = {"password": encrypt(key, "246810"), "password_type": "ticket", "ticket_id": ticket_id}
    assert tuya.ok("POST", f"{D.format(lock.id)}/open-door", body=body) is True
    ticket_id, key = tuya.ticket(lock.id)
    wrong = {"password": encrypt(key, "111111"), "password_type": "ticket", "ticket_id": ticket_id}
    assert tuya.request("POST", f"{D.format(lock.id)}/open-door", body=wrong)["code"] == 2314


def test_channel_unlock_on_access_control(tuya, make_device):
    lock = make_device("access_control")
    ticket_id, _ = tuya.ticket(lock.id)
    path = f"/v1.1/devices/{lock.id}/door-lock/password-free/open-door"
    assert tuya.ok("POST", path, body={"ticket_id": ticket_id, "channel_id": 1}) is True
    assert tuya.request("POST", path, body={"ticket_id": ticket_id})["code"] == 1100


def test_door_operate_locks_and_unlocks(tuya, make_device):
    lock = make_device("wifi_keepalive")
    path = f"/v1.0/smart-lock/devices/{lock.id}/password-free/door-operate"
    ticket_id, _ = tuya.ticket(lock.id)
    assert tuya.ok("POST", path, body={"ticket_id": ticket_id, "open": False}) is True
    assert last_unlock(lock) is None
    assert tuya.ok("POST", path, body={"ticket_id": ticket_id, "open": True}) is True
    assert last_unlock(lock) == "unlock_app"


@pytest.mark.parametrize(
    ("kind", "path_suffix"),
    [("wifi", "/remote-unlocks"), ("access_control", "/password-free/open-door"), ("wifi", "/open-door")],
)
def test_kinds_outside_the_spec_get_2004(tuya, make_device, kind, path_suffix):
    lock = make_device(kind)
    method = "GET" if path_suffix == "/remote-unlocks" else "POST"
    assert tuya.request(method, D.format(lock.id) + path_suffix, body=None if method == "GET" else {})["code"] == 2004


def tuya_clock_now():
    from locks.simulator import clock

    return clock.now().timestamp()
