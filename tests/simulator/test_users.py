"""Device users, home users, roles, validity periods, removed users, and the user-scoped device list."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from locks.simulator import transport
from locks.simulator.models import SimUnlockMethod, SimUser
from tests.simulator.conftest import PREFIX
from tests.simulator.helpers import enroll_locally, home_user, world_get

pytestmark = pytest.mark.django_db
HOUR = 3600


def _add(tuya, device_id: str, **body: Any) -> dict[str, Any]:
    return tuya.request("POST", f"/v1.0/devices/{device_id}/user", body={"nick_name": "Bob", "sex": 1, **body})


# --- device users -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wifi", "zigbee", "ble", "ble_gateway"])
def test_device_user_lifecycle(tuya, make_device, kind):
    device = make_device(kind)
    reply = _add(tuya, device.id, birthday=946684800, height=180, weight=80000, contact="bob@example.com")
    user_id = reply["result"]["user_id"]
    path = f"/v1.0/devices/{device.id}/users/{user_id}"
    assert tuya.ok("GET", path) == {
        "device_id": device.id,
        "user_id": user_id,
        "nick_name": "Bob",
        "sex": 1,
        "birthday": 946684800,
        "height": 180,
        "weight": 80000,
        "contact": "bob@example.com",
    }
    assert tuya.ok("PUT", path, body={"nick_name": "Robert", "sex": 1, "height": 181}) is True
    assert tuya.ok("GET", path)["nick_name"] == "Robert"
    assert [u["nick_name"] for u in tuya.ok("GET", f"/v1.0/devices/{device.id}/users")] == ["Robert"]
    assert tuya.ok("DELETE", path) is True
    assert tuya.request("GET", path)["code"] == 2006
    assert tuya.ok("GET", f"/v1.0/devices/{device.id}/users") == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"nick_name": ""}, 1100),
        ({"sex": None}, 1100),
        ({"sex": 3}, 1101),
        ({"sex": "x"}, 1104),
        ({"height": -1}, 1101),
        ({"nick_name": "x" * 101}, 1101),
    ],
)
def test_device_user_bad_input_changes_nothing(tuya, make_device, body, code):
    device = make_device("wifi")
    assert _add(tuya, device.id, **body)["code"] == code
    assert not SimUser.objects.exists()


def test_device_user_endpoints_refuse_other_kinds_and_users(tuya, make_device):
    video, wifi = make_device("wifi_video"), make_device("wifi")
    assert _add(tuya, video.id)["code"] == 2004
    assert tuya.request("GET", f"/v1.0/devices/{video.id}/users")["code"] == 2004
    member = home_user(wifi.id)  # a home member is not a device user
    assert tuya.request("GET", f"/v1.0/devices/{wifi.id}/users/{member}")["code"] == 2006
    assert tuya.request("DELETE", f"/v1.0/devices/{wifi.id}/users/{member}")["code"] == 2006
    assert tuya.request("PUT", f"/v1.0/devices/{wifi.id}/users/nope", body={"nick_name": "a", "sex": 1})["code"] == 2006


def test_assign_a_method_to_a_device_user(tuya, make_device):
    device = make_device("wifi")
    user_id = _add(tuya, device.id)["result"]["user_id"]
    enroll_locally(device.id, "card", unlock_sn=3)
    unassigned = f"/v1.0/devices/{device.id}/door-lock/unassigned-keys"
    assert tuya.ok("GET", unassigned) == {"unlock_keys": [{"unlock_no": 3, "unlock_type": "card"}]}
    allocate = f"/v1.0/devices/{device.id}/device-lock/users/{user_id}/allocate"
    assert tuya.request("POST", allocate, body={"no": "4", "type": "card"})["code"] == 1109
    assert tuya.request("POST", allocate, body={"no": "3", "type": "toaster"})["code"] == 1109
    assert tuya.request("POST", allocate, body={"type": "card"})["code"] == 1100
    assert tuya.ok("POST", allocate, body={"no": "3", "type": "card"}) is True
    assert tuya.ok("GET", unassigned) == {"unlock_keys": []}
    assigned = f"/v1.0/devices/{device.id}/door-lock/user-types/2/users/{user_id}/assigned-keys"
    assert tuya.ok("GET", assigned) == {"unlock_keys": [{"unlock_no": 3, "unlock_type": "card", "hijack": False}]}
    tuya.ok("DELETE", f"/v1.0/devices/{device.id}/users/{user_id}")
    # The card stays on the lock, unassigned again.
    assert tuya.ok("GET", unassigned) == {"unlock_keys": [{"unlock_no": 3, "unlock_type": "card"}]}


# --- home users (access control: v1.1) ----------------------------------------------------------------------


def _users_v11(tuya, device_id: str, **params: Any) -> dict[str, Any]:
    query = {"keyword": "", "role": "", "page_no": 1, "page_size": 10, **params}
    return tuya.ok("GET", f"/v1.1/devices/{device_id}/users", query)


def test_v11_users_current_user_filters_and_pages(tuya, make_device):
    device = make_device("access_control")
    ann = home_user(device.id, "Ann", "admin")
    home_user(device.id, "Annette")
    home_user(device.id, "Carl")
    me = tuya.ok("GET", f"/v1.1/devices/{device.id}/users/0")
    assert (me["user_type"], me["lock_user_id"], me["uid"]) == (50, 1, transport.project_uid(tuya.access_id))
    assert me["time_schedule_info"] == {"permanent": True}
    everyone = _users_v11(tuya, device.id)
    assert (everyone["total"], everyone["total_pages"], everyone["has_more"]) == (4, 1, False)
    assert [u["nick_name"] for u in _users_v11(tuya, device.id, keyword="ann")["records"]] == ["Ann", "Annette"]
    assert [u["nick_name"] for u in _users_v11(tuya, device.id, role="admin")["records"]] == ["Owner", "Ann"]
    paged = _users_v11(tuya, device.id, page_no=2, page_size=3)
    assert ([u["nick_name"] for u in paged["records"]], paged["total_pages"], paged["has_more"]) == (["Carl"], 2, False)
    assert _users_v11(tuya, device.id, page_size=3)["has_more"] is True
    # Administrators other than the caller cannot be read one by one (spec note).
    assert tuya.request("GET", f"/v1.1/devices/{device.id}/users/{ann}")["code"] == 1106
    path = f"/v1.1/devices/{device.id}/users"
    assert tuya.request("GET", path, {"role": "", "page_no": 1, "page_size": 10})["code"] == 1100
    assert tuya.request("GET", path, {"keyword": "", "role": "boss", "page_no": 1, "page_size": 10})["code"] == 1109


def test_role_change(tuya, make_device):
    device = make_device("access_control")
    carl = home_user(device.id, "Carl")
    path = f"/v1.0/smart-lock/devices/{device.id}/users/{carl}/actions/role"
    assert tuya.request("PUT", path, body={"role": "boss"})["code"] == 1109
    assert tuya.ok("GET", f"/v1.1/devices/{device.id}/users/{carl}")["user_type"] == 20
    assert tuya.ok("PUT", path, body={"role": "admin"}) is True
    assert [u["nick_name"] for u in _users_v11(tuya, device.id, role="admin")["records"]] == ["Owner", "Carl"]
    owner = tuya.ok("GET", f"/v1.1/devices/{device.id}/users/0")["user_id"]
    owner_path = f"/v1.0/smart-lock/devices/{device.id}/users/{owner}/actions/role"
    assert tuya.request("PUT", owner_path, body={"role": "normal"})["code"] == 2306
    wifi = make_device("wifi")
    assert (
        tuya.request("PUT", f"/v1.0/smart-lock/devices/{wifi.id}/users/1/actions/role", body={"role": "admin"})["code"]
        == 2004
    )
    assert tuya.request("GET", f"/v1.1/devices/{wifi.id}/users/0")["code"] == 2004


def test_user_devices_by_account(tuya, make_device):
    gate, other_gate, wifi = make_device("access_control"), make_device("access_control"), make_device("wifi")
    project_uid = transport.project_uid(tuya.access_id)
    path = f"/v1.0/smart-lock/users/{project_uid}/devices"
    everything = tuya.ok("GET", path, {"page_no": 1, "page_size": 10})
    assert sorted(d["id"] for d in everything["records"]) == sorted([gate.id, other_gate.id])
    assert wifi.id not in {d["id"] for d in everything["records"]}
    assert (everything["total"], everything["has_more"]) == (2, False)
    first = tuya.ok("GET", path, {"page_no": 1, "page_size": 1})
    assert (len(first["records"]), first["total_pages"], first["has_more"]) == (1, 2, True)
    assert {"local_key", "uuid", "product_id", "category", "online"} <= set(first["records"][0])
    home_user(gate.id, "Ann")
    ann_uid = SimUser.objects.get(nick_name="Ann").uid
    mine = tuya.ok("GET", f"/v1.0/smart-lock/users/{ann_uid}/devices", {"page_no": 1, "page_size": 10})
    assert [d["id"] for d in mine["records"]] == [gate.id]
    assert tuya.request("GET", "/v1.0/smart-lock/users/nobody/devices", {"page_no": 1, "page_size": 5})["code"] == 2006
    assert tuya.request("GET", path, {"page_size": 5})["code"] == 1100


# --- home users with unlock methods (keepalive, video) ------------------------------------------------------


def test_home_users_with_unlock_details(tuya, make_device):
    device = make_device("wifi_video")
    ann = home_user(device.id, "Ann")
    enroll_locally(device.id, "fingerprint", user_id=ann)
    enroll_locally(device.id, "card", user_id=ann)
    path = f"/v1.0/smart-lock/devices/{device.id}/users"
    tuya.ok("POST", f"/v1.0/smart-lock/devices/{device.id}/opmodes/actions/sync", {"codes": "unlock_fingerprint"})
    result = tuya.ok("GET", path, {"codes": "unlock_fingerprint,unlock_card", "page_no": 1, "page_size": 10})
    assert (result["total"], result["has_more"]) == (2, False)
    owner, member = result["records"]
    assert (owner["user_type"], member["nick_name"], member["user_type"]) == (50, "Ann", 20)
    fingerprint, card = member["unlock_detail"]
    assert (fingerprint["dp_code"], fingerprint["count"]) == ("unlock_fingerprint", 1)
    (item,) = fingerprint["unlock_list"]
    assert (item["unlock_sn"], item["unlock_id"], item["unlock_attr"], item["admin"]) == (1, "1-1", 0, False)
    # The card was enrolled at the lock and not synced yet: the cloud does not know it.
    assert (card["dp_code"], card["count"]) == ("unlock_card", 0)
    assert tuya.request("GET", path, {"page_no": 1, "page_size": 10})["code"] == 1100
    assert tuya.request("GET", path, {"codes": "unlock_x", "page_no": 1, "page_size": 10})["code"] == 1109
    wifi = make_device("wifi")
    assert tuya.request("GET", f"/v1.0/smart-lock/devices/{wifi.id}/users", {"codes": "unlock_card"})["code"] == 2004


def test_schedule_update_with_the_samples_camel_case_body(tuya, make_device, sim_clock):
    device = make_device("access_control")
    carl = home_user(device.id, "Carl")
    now = int(sim_clock.now().timestamp())
    body = {
        "scheduleDetails": [{"allDay": False, "start_minute": "420", "end_minute": "1438", "workingDay": 99}],
        "effectiveTime": now - HOUR,
        "expiredTime": now + HOUR,
        "permanent": False,
    }
    path = f"/v1.0/smart-lock/devices/{device.id}/users/{carl}/schedule"
    assert tuya.ok("PUT", path, body=body) is True
    info = tuya.ok("GET", f"/v1.1/devices/{device.id}/users/{carl}")
    assert info["effective_flag"] == 1
    schedule = info["time_schedule_info"]
    assert (schedule["permanent"], schedule["effective_time"], schedule["operate"]) == (False, now - HOUR, "MODIFY")
    assert schedule["schedule_details"] == [
        {"start_minute": 420, "end_minute": 1438, "working_day": 99, "all_day": False, "time_zone_id": device.time_zone}
    ]
    sim_clock.advance(2 * HOUR)
    tuya.connect()
    assert tuya.ok("GET", f"/v1.1/devices/{device.id}/users/{carl}")["effective_flag"] == 0


@pytest.mark.parametrize(
    ("schedule", "code"),
    [
        ({}, 1100),
        ({"permanent": False, "effective_time": 2_000_000_000, "expired_time": 1_900_000_000}, 1101),
        ({"permanent": False, "effective_time": 1_900_000_000}, 1100),
        ({"permanent": True, "schedule_details": [{"start_minute": 0, "end_minute": 2000, "working_day": 1}]}, 1101),
        ({"permanent": True, "schedule_details": [{"start_minute": 0, "end_minute": 60, "working_day": 128}]}, 1101),
        (
            {
                "permanent": True,
                "schedule_details": [{"start_minute": 0, "end_minute": 60, "working_day": 1, "time_zone_id": "Mars/X"}],
            },
            1109,
        ),
        ({"permanent": True, "schedule_details": "daily"}, 1104),
    ],
)
def test_schedule_update_bad_input_changes_nothing(tuya, make_device, schedule, code):
    device = make_device("wifi_keepalive")
    carl = home_user(device.id, "Carl")
    path = f"/v1.0/smart-lock/devices/{device.id}/users/{carl}/schedule"
    assert tuya.request("PUT", path, body={"schedule": schedule})["code"] == code
    user = SimUser.objects.get(user_id=carl)
    assert (user.permanent, user.schedule_details, user.schedule_operate) == (True, [], "ADD")


def test_schedule_update_refusals(tuya, make_device):
    device, video = make_device("wifi_keepalive"), make_device("wifi_video")
    body = {"schedule": {"permanent": True}}
    assert tuya.request("PUT", f"/v1.0/smart-lock/devices/{device.id}/users/404/schedule", body=body)["code"] == 2006
    owner = world_get(device.id, "home-users")["users"][0]["user_id"]
    owner_path = f"/v1.0/smart-lock/devices/{device.id}/users/{owner}/schedule"
    assert tuya.request("PUT", owner_path, body=body)["code"] == 2306
    assert tuya.request("PUT", f"/v1.0/smart-lock/devices/{video.id}/users/1/schedule", body=body)["code"] == 2004


# --- removed users (video) ----------------------------------------------------------------------------------


def test_removed_users_are_listed_then_deleted_from_the_lock(tuya, make_device):
    device = make_device("wifi_video")
    ann, bob = home_user(device.id, "Ann"), home_user(device.id, "Bob")
    enroll_locally(device.id, "fingerprint", user_id=ann)
    absent = f"/v1.0/devices/{device.id}/door-lock/absent-users"
    assert tuya.ok("GET", absent) == []
    assert Client().delete(f"{PREFIX}/_sim/devices/{device.id}/home-users/{ann}").status_code == 200
    assert tuya.ok("GET", absent) == [{"user_id": ann, "user_type": 20, "lock_user_id": 2}]
    issue = f"/v1.0/smart-lock/devices/{device.id}/users/{{}}/actions/delete-users-issue"
    # Bob is still a member: the whole call is refused and Ann stays.
    assert tuya.request("POST", issue.format(f"{ann},{bob}"))["code"] == 2006
    assert SimUser.objects.filter(user_id=ann).exists()
    assert tuya.ok("POST", issue.format(ann)) is True
    assert tuya.ok("GET", absent) == []
    assert not SimUnlockMethod.objects.filter(device=device).exists()  # her fingerprint left the lock with her
    wifi = make_device("wifi")
    assert tuya.request("GET", f"/v1.0/devices/{wifi.id}/door-lock/absent-users")["code"] == 2004
    assert (
        tuya.request("POST", f"/v1.0/smart-lock/devices/{wifi.id}/users/1/actions/delete-users-issue")["code"] == 2004
    )
