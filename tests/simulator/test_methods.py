"""Unlock methods: enrollment in steps and its cancel, deletion, names, duress, sync, allocation, attributes."""

from __future__ import annotations

from typing import Any

import pytest

from locks.simulator.models import SimEnrollment, SimUnlockMethod
from tests.simulator.conftest import encrypt, keypad, set_online
from tests.simulator.helpers import enroll_locally, home_user, world, world_get

pytestmark = pytest.mark.django_db


def _device_user(tuya, device_id: str, name: str = "Bob") -> str:
    return str(tuya.ok("POST", f"/v1.0/devices/{device_id}/user", body={"nick_name": name, "sex": 2})["user_id"])


def _entry(tuya, device_id: str, user_id: str, unlock_type: str, user_type: int = 2, **extra: Any) -> dict[str, Any]:
    body = {"user_id": user_id, "user_type": user_type, "unlock_type": unlock_type, **extra}
    return tuya.request("PUT", f"/v1.0/devices/{device_id}/door-lock/actions/entry", body=body)


def _progress(device_id: str) -> list[dict[str, Any]]:
    return [m["bizData"] for m in world_get(device_id, "enrollment")["enrollment"]["messages"]]


def _assigned(tuya, device_id: str, user_id: str, user_type: int = 2, **params: Any) -> list[dict[str, Any]]:
    path = f"/v1.0/devices/{device_id}/door-lock/user-types/{user_type}/users/{user_id}/assigned-keys"
    return tuya.ok("GET", path, params or None)["unlock_keys"]


# --- enrollment ---------------------------------------------------------------------------------------------


def test_fingerprint_enrollment_in_four_presses(tuya, make_device):
    device = make_device("wifi")
    bob = _device_user(tuya, device.id)
    assert _entry(tuya, device.id, bob, "fingerprint")["result"] is True
    start = {"finish": False, "operate": 1, "raised": True, "totalPeriod": 4, "period": 4, "event": "unlockMethodEntry"}
    assert _progress(device.id) == [start]
    for remaining in (3, 2, 1):
        step = world(device.id, "enroll-step")["enrollment"]
        assert (step["remaining"], step["state"], step["unlock_sn"]) == (remaining, "active", None)
    done = world(device.id, "enroll-step")["enrollment"]
    assert (done["state"], done["unlock_sn"]) == ("done", 1)
    assert [m["period"] for m in _progress(device.id)] == [4, 3, 2, 1, 0]
    assert [m["finish"] for m in _progress(device.id)] == [False, False, False, False, True]
    assert _assigned(tuya, device.id, bob) == [{"unlock_no": 1, "unlock_type": "fingerprint", "hijack": False}]
    assert world(device.id, "enroll-step", status=409)["error"] == "no enrollment in progress"
    assert world(device.id, "present", {"type": "fingerprint", "number": 1})["opened"] is True


def test_password_enrollment_typed_and_confirmed(tuya, make_device):
    device = make_device("zigbee")
    bob = _device_user(tuya, device.id)
    _entry(tuya, device.id, bob, "password")
    world(device.id, "enroll-step", {"code": "135790"})
    assert "differs" in world(device.id, "enroll-step", {"code": "135791"}, status=400)["error"]
    assert world_get(device.id, "enrollment")["enrollment"]["remaining"] == 1  # the bad try changed nothing
    assert world(device.id, "enroll-step", {"code": "135790"})["enrollment"]["state"] == "done"
    assert keypad(device.id, "135790") == {"opened": True, "reason": "opened"}
    assert _assigned(tuya, device.id, bob, unlock_type="password")[0]["unlock_type"] == "password"
    assert _assigned(tuya, device.id, bob, unlock_type="card") == []


def test_bluetooth_password_enrollment_takes_the_ticket_password(tuya, make_device):
    device = make_device("ble")
    bob = _device_user(tuya, device.id)
    ticket_id, key = tuya.ticket(device.id)
    reply = _entry(
        tuya, device.id, bob, "password", password_type="ticket", ticket_id=ticket_id, password=encrypt(key, "246810")
    )
    assert reply["success"], reply
    assert world_get(device.id, "enrollment")["enrollment"]["state"] == "done"
    assert keypad(device.id, "246810")["opened"] is True


def test_cancel_enrollment(tuya, make_device):
    device = make_device("access_control")
    ann = home_user(device.id)
    assert _entry(tuya, device.id, ann, "card", user_type=1)["success"]
    cancel = f"/v1.0/devices/{device.id}/door-lock/unlock-types/{{}}/actions/cancel"
    assert tuya.ok("PUT", cancel.format("fingerprint")) is True  # another type: nothing to cancel
    assert world_get(device.id, "enrollment")["enrollment"]["state"] == "active"
    assert tuya.ok("PUT", cancel.format("card")) is True
    enrollment = world_get(device.id, "enrollment")["enrollment"]
    assert enrollment["state"] == "cancelled"
    assert enrollment["messages"][-1]["bizData"] == {
        "finish": True,
        "operate": 2,
        "raised": False,
        "totalPeriod": 1,
        "period": 1,
        "event": "unlockMethodEntry",
    }
    world(device.id, "enroll-step", status=409)
    assert tuya.ok("PUT", cancel.format("card")) is True  # a retry is harmless
    assert tuya.request("PUT", cancel.format("toaster"))["code"] == 1109
    assert not SimUnlockMethod.objects.exists()
    assert _entry(tuya, device.id, ann, "card", user_type=1)["success"]  # a new one may start


def test_entry_refusals_change_nothing(tuya, make_device):
    device, video, hotel = make_device("wifi"), make_device("wifi_video"), make_device("zigbee_hotel")
    bob = _device_user(tuya, device.id)
    assert _entry(tuya, device.id, bob, "toaster")["code"] == 1109
    assert _entry(tuya, device.id, "404", "card")["code"] == 2006
    assert _entry(tuya, device.id, bob, "card", user_type=3)["code"] == 1109
    assert _entry(tuya, device.id, bob, "card", user_type=1)["code"] == 2006  # Bob is not a home user
    ann = home_user(video.id)
    assert _entry(tuya, video.id, ann, "card", user_type=2)["code"] == 1109  # home users only
    assert _entry(tuya, hotel.id, bob, "card")["code"] == 2004
    set_online(device.id, False)
    assert _entry(tuya, device.id, bob, "card")["code"] == 2001
    assert not SimEnrollment.objects.exists()
    set_online(device.id, True)
    assert _entry(tuya, device.id, bob, "card")["success"]
    assert _entry(tuya, device.id, bob, "fingerprint")["code"] == 2328  # one enrollment at a time
    assert SimEnrollment.objects.count() == 1


# --- deleting, renaming, duress -----------------------------------------------------------------------------


def test_delete_a_method(tuya, make_device):
    device = make_device("wifi_keepalive")
    ann = home_user(device.id)
    enroll_locally(device.id, "fingerprint", user_id=ann)
    tuya.ok("POST", f"/v1.0/smart-lock/devices/{device.id}/opmodes/actions/sync", {"codes": "unlock_fingerprint"})
    path = f"/v1.0/devices/{device.id}/door-lock/user-types/1/users/{ann}/unlock-types/fingerprint/keys/1"
    assert tuya.request("DELETE", path.replace("/keys/1", "/keys/2"))["code"] == 1109
    assert tuya.request("DELETE", path.replace("/user-types/1/", "/user-types/2/"))["code"] == 1109  # home only
    assert tuya.ok("DELETE", path) is True
    assert not SimUnlockMethod.objects.exists()
    assert world(device.id, "present", {"type": "fingerprint", "number": 1})["opened"] is False
    video = make_device("wifi_video")
    assert tuya.request("DELETE", path.replace(device.id, video.id))["code"] == 2004


def test_rename_and_list_a_users_methods(tuya, make_device):
    device = make_device("access_control")
    ann = home_user(device.id, "Ann")
    for kind in ("card", "card", "fingerprint"):
        enroll_locally(device.id, kind, user_id=ann)
    tuya.ok(
        "PUT",
        f"/v1.0/smart-lock/devices/{device.id}/opmodes/actions/sync",
        body={"codes": "unlock_card,unlock_fingerprint"},
    )
    rename = f"/v1.0/devices/{device.id}/door-lock/opmodes/2"
    assert tuya.ok("PUT", rename, body={"dp_code": "unlock_card", "unlock_name": "Spare card"}) is True
    assert tuya.request("PUT", rename, body={"dp_code": "unlock_card"})["code"] == 1100
    assert tuya.request("PUT", rename, body={"dp_code": "unlock_face", "unlock_name": "x"})["code"] == 1109
    opmodes = f"/v1.0/smart-lock/devices/{device.id}/opmodes/{ann}"
    query = {"codes": "", "unlock_name": "", "page_no": 1, "page_size": 10}
    rows = tuya.ok("GET", opmodes, query)
    assert [(r["dp_code"], r["unlock_sn"], r["unlock_name"]) for r in rows] == [
        ("unlock_card", 1, "Card 1"),
        ("unlock_card", 2, "Spare card"),
        ("unlock_fingerprint", 1, "Fingerprint 1"),
    ]
    assert (rows[0]["user_name"], rows[0]["user_id"], rows[0]["phase"], rows[0]["allocate_flag"]) == ("Ann", ann, 1, 0)
    assert [r["unlock_sn"] for r in tuya.ok("GET", opmodes, {**query, "codes": "unlock_card", "page_size": 1})] == [1]
    assert [r["unlock_sn"] for r in tuya.ok("GET", opmodes, {**query, "page_no": 3, "page_size": 1})] == [1]
    assert [r["unlock_name"] for r in tuya.ok("GET", opmodes, {**query, "unlock_name": "spare"})] == ["Spare card"]
    assert tuya.request("GET", opmodes, {"unlock_name": "", "page_no": 1, "page_size": 10})["code"] == 1100
    wifi = make_device("wifi")
    assert tuya.request("PUT", f"/v1.0/devices/{wifi.id}/door-lock/opmodes/1", body={})["code"] == 2004


def test_duress_flag_set_and_removed(tuya, make_device):
    device = make_device("ble_gateway")
    bob = _device_user(tuya, device.id)
    enroll_locally(device.id, "card", user_id=bob)
    set_path = f"/v1.0/devices/{device.id}/door-lock/unlock-types/card/keys/1/hijack"
    assert tuya.request("PUT", set_path)["code"] == 1109  # enrolled at the lock, unknown to the cloud before a sync
    tuya.ok("POST", f"/v1.0/smart-lock/devices/{device.id}/opmodes/actions/sync", {"codes": "unlock_card"})
    set_path = f"/v1.0/devices/{device.id}/door-lock/unlock-types/card/keys/1/hijack"
    assert tuya.request("PUT", set_path.replace("/keys/1/", "/keys/7/"))["code"] == 1109
    assert tuya.ok("PUT", set_path) is True
    assert _assigned(tuya, device.id, bob)[0]["hijack"] is True
    delete_path = f"/v1.0/smart-lock/devices/{device.id}/unlock-types/unlock_card/keys/1/hijack"
    assert tuya.ok("DELETE", delete_path) is True
    assert _assigned(tuya, device.id, bob)[0]["hijack"] is False
    keepalive = make_device("wifi_keepalive")
    assert tuya.request("PUT", set_path.replace(device.id, keepalive.id))["code"] == 2004
    assert tuya.request("DELETE", delete_path.replace(device.id, keepalive.id))["code"] == 2004


# --- sync and allocation ------------------------------------------------------------------------------------


def test_sync_brings_locally_enrolled_methods_to_the_cloud(tuya, make_device):
    device = make_device("access_control")
    enroll_locally(device.id, "card")
    enroll_locally(device.id, "fingerprint")
    unassigned = f"/v1.0/devices/{device.id}/door-lock/unassigned-keys"
    assert tuya.ok("GET", unassigned) == {"unlock_keys": []}
    sync = f"/v1.0/smart-lock/devices/{device.id}/opmodes/actions/sync"
    assert tuya.request("POST", sync)["code"] == 1100
    assert tuya.request("POST", sync, {"codes": "unlock_toaster"})["code"] == 1109
    set_online(device.id, False)
    assert tuya.request("POST", sync, {"codes": "unlock_card"})["code"] == 2001
    set_online(device.id, True)
    assert tuya.ok("POST", sync, {"codes": "unlock_card"}) is True
    assert tuya.ok("GET", unassigned) == {"unlock_keys": [{"unlock_no": 1, "unlock_type": "card"}]}
    assert tuya.ok("GET", unassigned, {"unlock_type": "fingerprint"}) == {"unlock_keys": []}
    wifi = make_device("wifi")
    assert tuya.request("POST", sync.replace(device.id, wifi.id), {"codes": "unlock_card"})["code"] == 2004


def test_allocate_several_methods_all_or_nothing(tuya, make_device):
    device = make_device("ble")
    bob = _device_user(tuya, device.id)
    enroll_locally(device.id, "card")
    enroll_locally(device.id, "fingerprint")
    path = f"/v1.0/devices/{device.id}/door-lock/opmodes/actions/allocate"
    card, ghost = {"dp_code": "unlock_card", "unlock_sn": 1}, {"dp_code": "unlock_card", "unlock_sn": 9}
    assert tuya.request("POST", path, body={"user_id": bob, "unlock_list": [card, ghost]})["code"] == 1109
    assert not SimUnlockMethod.objects.filter(user__isnull=False).exists()  # the first one was rolled back
    assert tuya.request("POST", path, body={"user_id": bob})["code"] == 1100
    assert tuya.request("POST", path, body={"user_id": "404", "unlock_list": [card]})["code"] == 2006
    finger = {"dp_code": "unlock_fingerprint", "unlock_sn": 1}
    assert tuya.ok("POST", path, body={"user_id": bob, "unlock_list": [card, finger]}) is True
    assert {k["unlock_type"] for k in _assigned(tuya, device.id, bob)} == {"card", "fingerprint"}
    other = _device_user(tuya, device.id, "Eve")
    assert tuya.request("POST", path, body={"user_id": other, "unlock_list": [card]})["code"] == 2306
    wifi = make_device("wifi")
    assert tuya.request("POST", path.replace(device.id, wifi.id), body={"user_id": bob})["code"] == 2004


def test_photo_and_voice_attributes(tuya, make_device):
    device = make_device("wifi")
    method = enroll_locally(device.id, "card")
    base = f"/v1.0/smart-lock/devices/{device.id}/opmodes/{method['opmode_id']}/attribute"
    assert tuya.request("POST", f"{base}/3/opmode-attr", body={"enabled": True})["code"] == 1101
    assert tuya.request("POST", f"{base}/2/opmode-attr", body={})["code"] == 1100
    assert tuya.request("POST", f"{base}/2/opmode-attr", body={"enabled": "yes"})["code"] == 1104
    assert tuya.request("POST", f"{base}/x/opmode-attr", body={"enabled": True})["code"] == 1104
    missing = f"/v1.0/smart-lock/devices/{device.id}/opmodes/1/attribute/2/opmode-attr"
    assert tuya.request("POST", missing, body={"enabled": True})["code"] == 1109
    assert not SimUnlockMethod.objects.get().photo
    assert tuya.ok("POST", f"{base}/1/opmode-attr", body={"enabled": True}) is True
    assert tuya.ok("POST", f"{base}/2/opmode-attr", body={"enabled": True}) is True
    stored = SimUnlockMethod.objects.get()
    assert (stored.voice, stored.photo) == (True, True)
    zigbee = make_device("zigbee")
    assert (
        tuya.request("POST", f"{base}/2/opmode-attr".replace(device.id, zigbee.id), body={"enabled": True})["code"]
        == 2004
    )


def test_assigned_keys_kinds(tuya, make_device):
    video, gate = make_device("wifi_video"), make_device("access_control")
    ann = home_user(video.id)
    enroll_locally(video.id, "face", user_id=ann)
    tuya.ok("POST", f"/v1.0/smart-lock/devices/{video.id}/opmodes/actions/sync", {"codes": "unlock_face"})
    assert _assigned(tuya, video.id, ann, user_type=1) == [{"unlock_no": 1, "unlock_type": "face", "hijack": False}]
    path = f"/v1.0/devices/{gate.id}/door-lock/user-types/1/users/{ann}/assigned-keys"
    assert tuya.request("GET", path)["code"] == 2004
