"""Unlock and alert records: each world event appears once, in the right log, with the right DP code."""

from __future__ import annotations

from typing import Any

import pytest

from locks.simulator.models import SimEvent
from tests.simulator.conftest import keypad
from tests.simulator.helpers import enroll_locally, home_user, world

pytestmark = pytest.mark.django_db
HOUR = 3600


@pytest.fixture
def now_ms(sim_clock) -> int:
    return int(sim_clock.now().timestamp() * 1000)


def _open_logs(tuya, device_id: str, version: str = "v1.0", **params: Any) -> dict[str, Any]:
    query = {"page_no": 1, "page_size": 50, "start_time": 0, "end_time": 9_999_999_999_999, **params}
    return tuya.ok("GET", f"/{version}/devices/{device_id}/door-lock/open-logs", query)


def _alarm_logs(tuya, device_id: str, version: str = "v1.0", **params: Any) -> dict[str, Any]:
    return tuya.ok(
        "GET", f"/{version}/devices/{device_id}/door-lock/alarm-logs", {"page_no": 1, "page_size": 50, **params}
    )


def _device_user(tuya, device_id: str, name: str = "Bob") -> str:
    body = {"nick_name": name, "sex": 1}
    return str(tuya.ok("POST", f"/v1.0/devices/{device_id}/user", body=body)["user_id"])


def test_fingerprint_unlock_is_one_open_log_with_user(tuya, make_device, sim_clock):
    device = make_device("wifi")
    user_id = _device_user(tuya, device.id)
    sn = enroll_locally(device.id, "fingerprint", user_id=user_id)["unlock_sn"]
    assert world(device.id, "present", {"type": "fingerprint", "number": sn})["opened"] is True
    logs = _open_logs(tuya, device.id)
    assert logs["total"] == 1
    (log,) = logs["logs"]
    assert log["status"] == {"code": "unlock_fingerprint", "value": str(sn)}
    assert (log["user_id"], log["nick_name"], log["unlock_name"]) == (user_id, "Bob", f"Fingerprint {sn}")
    assert log["update_time"] == int(sim_clock.now().timestamp() * 1000)
    assert _alarm_logs(tuya, device.id)["total"] == 0


@pytest.mark.parametrize(("kind", "code"), [("card", "unlock_card"), ("face", "unlock_face")])
def test_card_and_face_unlocks(tuya, make_device, kind, code):
    device = make_device("ble")
    sn = enroll_locally(device.id, kind)["unlock_sn"]
    world(device.id, "present", {"type": kind, "number": sn})
    (log,) = _open_logs(tuya, device.id)["logs"]
    assert log["status"] == {"code": code, "value": str(sn)}
    assert (log["user_id"], log["nick_name"]) == ("0", "")


def test_mechanical_key_always_opens(tuya, make_device):
    device = make_device("zigbee_hotel")
    assert world(device.id, "present", {"type": "key", "number": 2})["opened"] is True
    (log,) = _open_logs(tuya, device.id)["logs"]
    assert log["status"] == {"code": "unlock_key", "value": "2"}


@pytest.mark.parametrize(
    ("kind", "alarm"), [("fingerprint", "wrong_finger"), ("card", "wrong_card"), ("face", "wrong_face")]
)
def test_unknown_method_is_an_alarm_not_an_unlock(tuya, make_device, kind, alarm):
    device = make_device("wifi")
    assert world(device.id, "present", {"type": kind, "number": 9})["opened"] is False
    assert _open_logs(tuya, device.id)["total"] == 0
    (record,) = _alarm_logs(tuya, device.id)["records"]
    assert record["status"] == {"code": "alarm_lock", "value": alarm}


def test_temporary_password_unlock_is_logged_with_its_id(tuya, make_device, sim_clock, instant_delivery):
    device = make_device("wifi")
    now = int(sim_clock.now().timestamp())
    pid = tuya.create_password(device.id, "1234567", now, now + HOUR)
    assert keypad(device.id, "1234567")["opened"]
    (log,) = _open_logs(tuya, device.id)["logs"]
    assert log["status"] == {"code": "unlock_temporary", "value": str(pid)}
    assert log["unlock_name"] == "guest"


def test_enrolled_password_opens_from_the_keypad(tuya, make_device):
    device = make_device("wifi")
    enroll_locally(device.id, "password", code="24681357")
    assert keypad(device.id, "24681357") == {"opened": True, "reason": "opened"}
    (log,) = _open_logs(tuya, device.id)["logs"]
    assert log["status"] == {"code": "unlock_password", "value": "1"}


def _wrong_password_alarms(tuya, device_id: str) -> int:
    records = _alarm_logs(tuya, device_id, dp_codes="alarm_lock")["records"]
    return sum(1 for r in records if r["status"]["value"] == "wrong_password")


def test_three_wrong_codes_in_a_row_raise_one_alarm(tuya, make_device, instant_delivery, sim_clock):
    device = make_device("wifi")
    now = int(sim_clock.now().timestamp())
    tuya.create_password(device.id, "1234567", now, now + HOUR)
    keypad(device.id, "0000000")
    keypad(device.id, "0000001")
    assert _wrong_password_alarms(tuya, device.id) == 0
    keypad(device.id, "1234567")  # an unlock breaks the row
    keypad(device.id, "0000000")
    keypad(device.id, "0000001")
    assert _wrong_password_alarms(tuya, device.id) == 0
    keypad(device.id, "0000002")
    assert _wrong_password_alarms(tuya, device.id) == 1
    keypad(device.id, "0000003")
    keypad(device.id, "0000004")
    assert _wrong_password_alarms(tuya, device.id) == 1  # the count starts again after an alarm
    keypad(device.id, "0000005")
    assert _wrong_password_alarms(tuya, device.id) == 2
    assert _open_logs(tuya, device.id)["total"] == 1


def test_duress_method_opens_and_raises_hijack(tuya, make_device):
    device = make_device("zigbee")
    user_id = _device_user(tuya, device.id)
    sn = enroll_locally(device.id, "fingerprint", user_id=user_id)["unlock_sn"]
    assert tuya.ok("PUT", f"/v1.0/devices/{device.id}/door-lock/unlock-types/fingerprint/keys/{sn}/hijack") is True
    assert world(device.id, "present", {"type": "fingerprint", "number": sn})["opened"] is True
    (record,) = _alarm_logs(tuya, device.id, dp_codes="hijack")["records"]
    assert record["status"] == {"code": "hijack", "value": f"unlock_fingerprint-{sn:02d}"}
    assert record["nickName"] == "Bob"
    # Zigbee residential locks have no open-logs endpoint in the spec.
    assert tuya.request("GET", f"/v1.0/devices/{device.id}/door-lock/open-logs", {"page_no": 1})["code"] == 2004
    assert SimEvent.objects.filter(device=device, kind="unlock_fingerprint").count() == 1


def test_doorbell_and_alarms_in_v11_alarm_logs(tuya, make_device, sim_clock):
    device = make_device("wifi_video")
    world(device.id, "doorbell")
    sim_clock.advance(1)
    world(device.id, "alarm", {"alarm": "pry"})
    sim_clock.advance(1)
    world(device.id, "alarm", {"alarm": "low_battery"})
    result = _alarm_logs(tuya, device.id, "v1.1")
    assert result["total"] == 3
    assert [r["status"] for r in result["records"]] == [
        [{"code": "alarm_lock", "value": "low_battery"}],
        [{"code": "alarm_lock", "value": "pry"}],
        [{"code": "doorbell", "value": "true"}],
    ]
    assert "media_infos" not in result["records"][0]
    bells = _alarm_logs(tuya, device.id, "v1.1", codes="doorbell", showMediaInfo="true")["records"]
    assert len(bells) == 1
    assert bells[0]["media_infos"][0]["file_url"].endswith(".jpg.enc")


def test_open_logs_pagination_and_time_range(tuya, make_device, sim_clock, now_ms):
    device = make_device("wifi")
    for number in range(1, 6):
        world(device.id, "present", {"type": "key", "number": number})
        sim_clock.advance(10)
    first = _open_logs(tuya, device.id, page_no=1, page_size=2)
    second = _open_logs(tuya, device.id, page_no=2, page_size=2)
    third = _open_logs(tuya, device.id, page_no=3, page_size=2)
    assert first["total"] == second["total"] == third["total"] == 5
    values = [log["status"]["value"] for page in (first, second, third) for log in page["logs"]]
    assert values == ["5", "4", "3", "2", "1"]  # newest first
    # v1.0's sample sends seconds: 10..30 s after the first event covers events 2, 3 and 4.
    window = _open_logs(tuya, device.id, start_time=now_ms // 1000 + 10, end_time=now_ms // 1000 + 30)
    assert [log["status"]["value"] for log in window["logs"]] == ["4", "3", "2"]
    window_ms = _open_logs(tuya, device.id, "v1.1", start_time=now_ms + 10_000, end_time=now_ms + 30_000)
    assert window_ms["total"] == 3


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"page_size": 10, "start_time": 0, "end_time": 1}, 1100),
        ({"page_no": 0, "page_size": 10, "start_time": 0, "end_time": 1}, 1101),
        ({"page_no": 1, "page_size": 101, "start_time": 0, "end_time": 1}, 1101),
        ({"page_no": "x", "page_size": 10, "start_time": 0, "end_time": 1}, 1104),
        ({"page_no": 1, "page_size": 10, "end_time": 1}, 1100),
        ({"page_no": 1, "page_size": 10, "start_time": 5, "end_time": 1}, 1101),
    ],
)
def test_open_logs_bad_parameters(tuya, make_device, params, code):
    device = make_device("wifi")
    assert tuya.request("GET", f"/v1.0/devices/{device.id}/door-lock/open-logs", params)["code"] == code


def test_alarm_logs_bad_codes_and_kinds(tuya, make_device):
    wifi, video, gate = make_device("wifi"), make_device("wifi_video"), make_device("access_control")
    page = {"page_no": 1, "page_size": 10}
    assert (
        tuya.request("GET", f"/v1.0/devices/{wifi.id}/door-lock/alarm-logs", {**page, "dp_codes": "x"})["code"] == 1109
    )
    assert tuya.request("GET", f"/v1.0/devices/{video.id}/door-lock/alarm-logs", page)["code"] == 2004
    assert tuya.request("GET", f"/v1.1/devices/{gate.id}/door-lock/alarm-logs", page)["code"] == 2004
    assert tuya.request("GET", f"/v1.0/devices/{video.id}/door-lock/open-logs", page)["code"] == 2004
    assert tuya.ok("GET", f"/v1.1/devices/{video.id}/door-lock/alarm-logs", page) == {"total": 0, "records": []}


def test_outside_the_users_schedule_is_refused(tuya, make_device, sim_clock):
    device = make_device("wifi_keepalive")
    user_id = home_user(device.id)
    sn = enroll_locally(device.id, "card", user_id=user_id)["unlock_sn"]
    now = int(sim_clock.now().timestamp())
    body = {"schedule": {"permanent": False, "effective_time": now + HOUR, "expired_time": now + 2 * HOUR}}
    assert tuya.ok("PUT", f"/v1.0/smart-lock/devices/{device.id}/users/{user_id}/schedule", body=body) is True
    assert world(device.id, "present", {"type": "card", "number": sn}) == {
        "opened": False,
        "reason": "outside_schedule",
        "events": [
            {"kind": "alarm_lock", "value": "wrong_card", "user_id": user_id, "time": now * 1000, "uploaded": True}
        ],
    }
    sim_clock.advance(HOUR)
    assert world(device.id, "present", {"type": "card", "number": sn})["opened"] is True


# --- access-control records ---------------------------------------------------------------------------------


def _records(tuya, device_id: str, codes: str, **params: Any) -> dict[str, Any]:
    query = {"target_standard_dp_codes": codes, "start_time": 0, "end_time": 0, "page_no": 1, "page_size": 10}
    return tuya.ok("GET", f"/v1.0/devices/{device_id}/door-lock/records", {**query, **params})


def test_records_and_linking_a_record_to_a_user(tuya, make_device, sim_clock):
    device = make_device("access_control")
    card = enroll_locally(device.id, "card")["unlock_sn"]
    world(device.id, "present", {"type": "card", "number": card})
    sim_clock.advance(1)
    world(device.id, "alarm", {"alarm": "pry"})
    everything = _records(tuya, device.id, "unlock_card,alarm_lock")
    assert (everything["total"], everything["total_pages"], everything["has_more"]) == (2, 1, False)
    alarm, unlock = everything["records"]
    assert (alarm["record_type"], alarm["dps"], alarm["member_bindable_flag"]) == ("alarm", [{"alarm_lock": "pry"}], 0)
    assert (unlock["record_type"], unlock["dps"]) == ("normal", [{"unlock_card": str(card)}])
    assert (unlock["member_bindable_flag"], unlock["user_id"], unlock["unlock_name"]) == (1, "", f"Card {card}")
    assert unlock["media_info_list"][0]["file_key"]
    paged = _records(tuya, device.id, "unlock_card,alarm_lock", page_size=1)
    assert (paged["total_pages"], paged["has_more"], len(paged["records"])) == (2, True, 1)
    assert _records(tuya, device.id, "unlock_password")["total"] == 0

    ann = home_user(device.id)
    path = f"/v1.0/devices/{device.id}/door-lock/records/{unlock['record_id']}/actions/allocate"
    assert tuya.request("POST", path, body={"userId": "404"})["code"] == 2006
    assert tuya.ok("POST", path, body={"userId": ann}) is True
    linked = _records(tuya, device.id, "unlock_card")["records"][0]
    assert (linked["user_id"], linked["user_name"], linked["member_bindable_flag"]) == (ann, "Ann", 0)
    assert tuya.request("POST", path, body={"user_id": ann})["code"] == 2306  # already linked
    alarm_path = f"/v1.0/devices/{device.id}/door-lock/records/{alarm['record_id']}/actions/allocate"
    assert tuya.request("POST", alarm_path, body={"user_id": ann})["code"] == 2306
    bogus = f"/v1.0/devices/{device.id}/door-lock/records/abc-1/actions/allocate"
    assert tuya.request("POST", bogus, body={"user_id": ann})["code"] == 1109
    # The card is now Ann's: her next unlock carries her name.
    world(device.id, "present", {"type": "card", "number": card})
    assert _records(tuya, device.id, "unlock_card")["records"][0]["user_name"] == "Ann"


def test_records_parameters_and_kind(tuya, make_device):
    gate, wifi = make_device("access_control"), make_device("wifi")
    base = {"start_time": 0, "end_time": 0, "page_no": 1, "page_size": 10}
    path = f"/v1.0/devices/{gate.id}/door-lock/records"
    assert tuya.request("GET", path, base)["code"] == 1100
    assert tuya.request("GET", path, {**base, "target_standard_dp_codes": "nope"})["code"] == 1109
    camel = {"targetStandardDpCodes": "unlock_card", "startTime": 0, "endTime": 0, "pageNo": 1, "pageSize": 10}
    assert tuya.ok("GET", path, camel)["total"] == 0  # the sample's camelCase spelling works too
    wifi_path = f"/v1.0/devices/{wifi.id}/door-lock/records"
    assert tuya.request("GET", wifi_path, {**base, "target_standard_dp_codes": "unlock_card"})["code"] == 2004
