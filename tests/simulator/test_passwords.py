"""Temporary passwords: creation, asynchronous delivery, the keypad, and every change after that."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from locks.simulator.models import SimPassword
from tests.simulator.conftest import encrypt, keypad, set_online

pytestmark = pytest.mark.django_db
HOUR = 3600
DAY = 86400


@pytest.fixture
def now_s(sim_clock) -> int:
    return int(sim_clock.now().timestamp())


def _temp(device_id: str) -> str:
    return f"/v1.0/devices/{device_id}/door-lock/temp-passwords"


# --- creation and delivery ----------------------------------------------------------------------------------


def test_zigbee_password_is_delivered_after_the_delay_and_opens_inside_its_window(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    pid = tuya.create_password(device.id, "123456", now_s + 60, now_s + DAY)
    info = tuya.get_password(device.id, pid)
    assert (info["phase"], info["delivery_status"]) == (1, 1)
    assert keypad(device.id, "123456") == {"opened": False, "reason": "unknown_code"}  # not on the lock yet

    sim_clock.advance(3)
    info = tuya.get_password(device.id, pid)
    assert (info["phase"], info["delivery_status"]) == (2, 2)
    assert info["name"] == "guest"
    assert info["effective_time"] == now_s + 60
    assert keypad(device.id, "123456") == {"opened": False, "reason": "not_yet_valid"}
    sim_clock.advance(60)
    assert keypad(device.id, "123456") == {"opened": True, "reason": "opened"}
    assert keypad(device.id, "123456")["opened"]  # multiple use
    assert keypad(device.id, "654321") == {"opened": False, "reason": "unknown_code"}
    sim_clock.advance(DAY)
    assert keypad(device.id, "123456") == {"opened": False, "reason": "expired"}


def test_delivery_delay_is_configurable(tuya, make_device, sim_clock, now_s, settings):
    settings.SIM_DELIVERY_SECONDS = 10
    device = make_device("zigbee")
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(9)
    assert tuya.get_password(device.id, pid)["phase"] == 1
    sim_clock.advance(1)
    assert tuya.get_password(device.id, pid)["phase"] == 2


def test_wifi_phases_and_seven_digits(tuya, make_device, sim_clock, now_s):
    device = make_device("wifi")
    pid = tuya.create_password(device.id, "1234567", now_s, now_s + DAY)
    assert tuya.get_password(device.id, pid)["phase"] == 1  # to be sent
    sim_clock.advance(3)
    assert tuya.get_password(device.id, pid)["phase"] == 2  # sent
    assert keypad(device.id, "1234567")["opened"]
    tuya.ok("DELETE", f"{_temp(device.id)}/{pid}")
    assert tuya.get_password(device.id, pid)["phase"] == 3  # to be deleted
    assert keypad(device.id, "1234567")["opened"]  # still on the lock until it confirms
    sim_clock.advance(3)
    assert tuya.get_password(device.id, pid)["phase"] == 0
    assert keypad(device.id, "1234567") == {"opened": False, "reason": "unknown_code"}


@pytest.mark.parametrize(
    ("kind", "pin"), [("wifi", "123456"), ("zigbee", "1234567"), ("ble", "12345"), ("zigbee", "12a456")]
)
def test_wrong_pin_length_is_refused(tuya, make_device, now_s, kind, pin):
    device = make_device(kind)
    body = tuya.password_body(device.id, pin, now_s, now_s + DAY, name="x", type=0)
    reply = tuya.request("POST", f"/v1.0/devices/{device.id}/door-lock/temp-password", body=body)
    assert reply["code"] == 1101
    assert not SimPassword.objects.exists()


def test_one_time_password_opens_once(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    tuya.create_password(device.id, "111111", now_s, now_s + DAY, type=1)
    sim_clock.advance(3)
    assert keypad(device.id, "111111")["opened"]
    assert keypad(device.id, "111111") == {"opened": False, "reason": "already_used"}


def test_unnamed_v2_password(tuya, make_device, sim_clock, now_s):
    device = make_device("ble")
    body = tuya.password_body(device.id, "246810", now_s, now_s + DAY)
    pid = tuya.ok("POST", f"/v2.0/devices/{device.id}/door-lock/temp-password", body=body)["id"]
    sim_clock.advance(3)
    info = tuya.get_password(device.id, pid)
    assert (info["name"], info["phase"]) == ("", 2)
    assert keypad(device.id, "246810")["opened"]


def test_lower_case_hex_is_accepted(tuya, make_device, now_s):
    device = make_device("zigbee")
    body = tuya.password_body(device.id, "123456", now_s, now_s + DAY, name="x", type=0)
    body["password"] = body["password"].lower()
    assert tuya.request("POST", f"/v1.0/devices/{device.id}/door-lock/temp-password", body=body)["success"]


def test_bad_encryption_expired_or_foreign_ticket_get_1109(tuya, make_device, sim_clock, now_s):
    device, other = make_device("zigbee"), make_device("zigbee")
    path = f"/v1.0/devices/{device.id}/door-lock/temp-password"
    body = tuya.password_body(device.id, "123456", now_s, now_s + DAY, name="x", type=0)
    assert tuya.request("POST", path, body={**body, "password": encrypt("0123456789abcdef", "123456")})["code"] == 1109
    assert tuya.request("POST", path, body={**body, "password": "zz"})["code"] == 1109
    assert tuya.request("POST", path, body={**body, "password_type": "plain"})["code"] == 1109
    foreign = tuya.password_body(other.id, "123456", now_s, now_s + DAY, name="x", type=0)
    assert tuya.request("POST", path, body=foreign)["code"] == 1109
    sim_clock.advance(301)
    assert tuya.request("POST", path, body=body)["code"] == 1109
    assert not SimPassword.objects.exists()


def test_smart_lock_ticket_path_works_too(tuya, make_device):
    device = make_device("wifi_video")
    result = tuya.ok("POST", f"/v1.0/smart-lock/devices/{device.id}/password-ticket")
    assert result["expire_time"] == 300
    assert len(result["ticket_key"]) == 64
    assert result["ticket_key"] == result["ticket_key"].upper()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": None}, 1100),
        ({"effective_time": None}, 1100),
        ({"type": None}, 1100),  # required for Zigbee locks
        ({"type": 2}, 1101),
        ({"type": "once"}, 1104),
        ({"name": ["x"]}, 1104),
        ({"effective_time": 1_700_000_000_000}, 1101),  # milliseconds
        ({"invalid_time": "SWAP"}, 1101),
        ({"schedule_list": [{"effective_time": 0, "invalid_time": 1500, "working_day": 2}]}, 1101),
        ({"schedule_list": [{"effective_time": 0, "working_day": 2}]}, 1100),
        ({"schedule_list": "daily"}, 1104),
        ({"time_zone": "Mars/Olympus"}, 1109),
        ({"ticket_id": None}, 1100),
    ],
)
def test_bad_parameters_are_refused_with_tuya_codes(tuya, make_device, now_s, change, code):
    device = make_device("zigbee")
    body = tuya.password_body(device.id, "123456", now_s, now_s + DAY, name="x", type=0)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        elif value == "SWAP":
            body[key] = body["effective_time"]
        else:
            body[key] = value
    reply = tuya.request("POST", f"/v1.0/devices/{device.id}/door-lock/temp-password", body=body)
    assert reply["code"] == code, reply
    assert not SimPassword.objects.exists()


def test_expired_window_gets_2318(tuya, make_device, now_s):
    device = make_device("zigbee")
    body = tuya.password_body(device.id, "123456", now_s - 2 * DAY, now_s - DAY, name="x", type=0)
    assert tuya.request("POST", f"/v1.0/devices/{device.id}/door-lock/temp-password", body=body)["code"] == 2318


# --- lock refusals: delivery_status 4, 5, 6 -----------------------------------------------------------------


def test_duplicate_pin_is_refused_by_the_lock(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(3)
    pid = tuya.create_password(device.id, "123456", now_s + 2 * DAY, now_s + 3 * DAY)
    sim_clock.advance(3)
    info = tuya.get_password(device.id, pid)
    assert (info["phase"], info["delivery_status"]) == (5, 4)


def test_slot_limit(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")  # ten slots
    for n in range(10):
        tuya.create_password(device.id, f"10000{n}", now_s, now_s + DAY)
    sim_clock.advance(3)
    pid = tuya.create_password(device.id, "200000", now_s, now_s + DAY)
    sim_clock.advance(3)
    assert tuya.get_password(device.id, pid)["delivery_status"] == 5


def test_hotel_lock_refuses_overlapping_windows_residential_zigbee_does_not(tuya, make_device, sim_clock, now_s):
    hotel, flat = make_device("zigbee_hotel"), make_device("zigbee")
    for device in (hotel, flat):
        tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(3)
    overlapping = {d.id: tuya.create_password(d.id, "654321", now_s + HOUR, now_s + 2 * DAY) for d in (hotel, flat)}
    after = tuya.create_password(hotel.id, "777777", now_s + DAY, now_s + 2 * DAY)
    sim_clock.advance(3)
    assert tuya.get_password(hotel.id, overlapping[hotel.id])["delivery_status"] == 6
    assert tuya.get_password(flat.id, overlapping[flat.id])["delivery_status"] == 2
    assert tuya.get_password(hotel.id, after)["delivery_status"] == 2  # back to back is fine


# --- offline locks ------------------------------------------------------------------------------------------


def test_offline_zigbee_lock_fails_after_three_retries_then_issue_password_resends(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee", online=False)
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(3 * 3)  # first try + two retries
    assert tuya.get_password(device.id, pid)["delivery_status"] == 1
    sim_clock.advance(3)  # third retry fails
    info = tuya.get_password(device.id, pid)
    assert (info["phase"], info["delivery_status"]) == (5, 3)

    set_online(device.id, True)
    sim_clock.advance(60)
    assert tuya.get_password(device.id, pid)["phase"] == 5  # the gateway gave up; nothing happens by itself
    assert tuya.ok("POST", f"/v1.0/devices/{device.id}/door-lock/issue-password", body={"password_id": pid})
    assert tuya.get_password(device.id, pid)["phase"] == 1
    sim_clock.advance(3)
    assert tuya.get_password(device.id, pid)["phase"] == 2
    assert keypad(device.id, "123456")["opened"]


def test_lock_back_online_during_retries_gets_it(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee", online=False)
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(4)
    set_online(device.id, True)
    sim_clock.advance(2)  # the next retry (at 6 s) reaches it
    assert tuya.get_password(device.id, pid)["phase"] == 2


def test_offline_wifi_lock_gets_the_password_when_it_comes_back(tuya, make_device, sim_clock, now_s):
    device = make_device("wifi", online=False)
    pid = tuya.create_password(device.id, "1234567", now_s, now_s + DAY)
    sim_clock.advance(HOUR)
    assert tuya.get_password(device.id, pid)["delivery_status"] == 1
    set_online(device.id, True)
    sim_clock.advance(3)
    assert tuya.get_password(device.id, pid)["phase"] == 2


def test_keypad_works_while_offline(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(3)
    set_online(device.id, False)
    assert keypad(device.id, "123456")["opened"]


def test_issue_password_at_most_once_a_minute(tuya, make_device, sim_clock):
    device = make_device("zigbee")
    path = f"/v1.0/devices/{device.id}/door-lock/issue-password"
    assert tuya.ok("POST", path, body={"password_id": ""}) is True
    sim_clock.advance(59)
    assert tuya.request("POST", path)["code"] == 1113
    sim_clock.advance(1)
    assert tuya.ok("POST", path) is True


def test_refused_issue_password_changes_nothing(tuya, make_device, sim_clock):
    device = make_device("zigbee")
    path = f"/v1.0/devices/{device.id}/door-lock/issue-password"
    assert tuya.request("POST", path, body={"password_id": 424242})["code"] == 2323
    assert tuya.ok("POST", path) is True  # the refused call did not start the 60 s window


# --- freeze, modify, delete, clear --------------------------------------------------------------------------


def test_freeze_and_unfreeze_go_through_the_lock(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(3)
    assert tuya.ok("PUT", f"{_temp(device.id)}/{pid}/freeze-password") is True
    assert tuya.get_password(device.id, pid)["delivery_status"] == 1
    assert keypad(device.id, "123456")["opened"]  # not frozen on the lock yet
    assert tuya.request("PUT", f"{_temp(device.id)}/{pid}/freeze-password")["code"] == 2324  # in flight
    sim_clock.advance(3)
    assert tuya.get_password(device.id, pid)["phase"] == 3
    assert keypad(device.id, "123456") == {"opened": False, "reason": "frozen"}
    assert tuya.request("PUT", f"{_temp(device.id)}/{pid}/freeze-password")["code"] == 2324  # already frozen
    tuya.ok("PUT", f"{_temp(device.id)}/{pid}/unfreeze-password")
    sim_clock.advance(3)
    assert tuya.get_password(device.id, pid)["phase"] == 2
    assert keypad(device.id, "123456")["opened"]


def test_delete_zigbee(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(3)
    tuya.ok("DELETE", f"{_temp(device.id)}/{pid}")
    assert tuya.get_password(device.id, pid)["delivery_status"] == 1
    sim_clock.advance(3)
    assert tuya.get_password(device.id, pid)["phase"] == 4
    assert not keypad(device.id, "123456")["opened"]
    assert tuya.ok("DELETE", f"{_temp(device.id)}/{pid}") is True  # a retry after a lost reply is harmless
    assert tuya.request("DELETE", f"{_temp(device.id)}/9999999")["code"] == 2323


def test_deleting_a_password_not_yet_on_the_lock_is_immediate(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    tuya.ok("DELETE", f"{_temp(device.id)}/{pid}")
    assert tuya.get_password(device.id, pid)["phase"] == 4
    sim_clock.advance(3)
    assert not keypad(device.id, "123456")["opened"]


def test_modify_changes_pin_and_window_once_delivered(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(3)
    body = tuya.password_body(device.id, "999999", now_s, now_s + 2 * DAY, type=0)
    assert tuya.ok("PUT", f"{_temp(device.id)}/{pid}/modify-password", body=body) is True
    assert keypad(device.id, "123456")["opened"]  # old PIN until the lock confirms
    sim_clock.advance(3)
    info = tuya.get_password(device.id, pid)
    assert (info["phase"], info["delivery_status"], info["invalid_time"]) == (2, 2, now_s + 2 * DAY)
    assert not keypad(device.id, "123456")["opened"]
    assert keypad(device.id, "999999")["opened"]


def test_ble_modify_cannot_change_the_pin(tuya, make_device, sim_clock, now_s):
    device = make_device("ble")
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(3)
    body = tuya.password_body(device.id, "999999", now_s, now_s + DAY, type=0)
    assert tuya.request("PUT", f"{_temp(device.id)}/{pid}/modify-password", body=body)["code"] == 2306
    body = tuya.password_body(device.id, "123456", now_s, now_s + 2 * DAY, type=0)
    assert tuya.ok("PUT", f"{_temp(device.id)}/{pid}/modify-password", body=body) is True


def test_clear_all_on_hotel_lock(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee_hotel")
    ids = [
        tuya.create_password(device.id, pin, now_s + i * DAY, now_s + (i + 1) * DAY)
        for i, pin in enumerate(["111111", "222222"])
    ]
    sim_clock.advance(3)
    assert tuya.ok("POST", f"{_temp(device.id)}/rest-password") is True
    sim_clock.advance(3)
    assert [tuya.get_password(device.id, pid)["phase"] for pid in ids] == [4, 4]
    assert tuya.ok("POST", f"{_temp(device.id)}/reset-password") is True  # the sample's spelling


# --- lists --------------------------------------------------------------------------------------------------


def test_list_with_valid_filter(tuya, make_device, sim_clock, now_s):
    device = make_device("zigbee")
    keep = tuya.create_password(device.id, "111111", now_s, now_s + DAY)
    gone = tuya.create_password(device.id, "222222", now_s, now_s + DAY)
    sim_clock.advance(3)
    tuya.ok("DELETE", f"{_temp(device.id)}/{gone}")
    sim_clock.advance(3)
    everything = tuya.ok("GET", _temp(device.id))
    assert {row["password_id"] for row in everything} == {keep, gone}
    assert all(row["id"] == row["password_id"] for row in everything)
    assert [row["id"] for row in tuya.ok("GET", _temp(device.id), {"valid": "true"})] == [keep]
    assert [row["id"] for row in tuya.ok("GET", _temp(device.id), {"valid": "false"})] == [gone]
    assert tuya.request("GET", _temp(device.id), {"valid": "maybe"})["code"] == 1104


def test_keepalive_list_shape_and_paging(tuya, make_device, sim_clock, now_s):
    device = make_device("wifi_keepalive")
    ids = sorted(tuya.create_password(device.id, f"123456{n}", now_s + n * HOUR, now_s + DAY) for n in range(3))
    path = f"/v1.0/smart-lock/devices/{device.id}/stand-by-lock-temp-passwords"
    page = tuya.ok("GET", path, {"page_size": 2})
    assert page["has_more"] is True
    assert [r["password_id"] for r in page["records"]] == ids[:2]
    assert page["records"][0]["delivery_status"] == "ONGOING"
    assert page["records"][0]["operate"] == "ADD"
    rest = tuya.ok("GET", path, {"pageSize": 2, "lastRowKey": page["last_row_key"]})
    assert ([r["password_id"] for r in rest["records"]], rest["has_more"]) == (ids[2:], False)
    sim_clock.advance(3)
    records = tuya.ok("GET", path, {"valid": "true"})["records"]
    assert {r["delivery_status"] for r in records} == {"SUCCESS"}
    assert sorted(r["effective_flag"] for r in records) == [1, 2, 2]


# --- applicability ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "method", "suffix"),
    [
        ("wifi", "PUT", "/door-lock/temp-passwords/1/freeze-password"),
        ("zigbee_hotel", "PUT", "/door-lock/temp-passwords/1/unfreeze-password"),
        ("wifi", "POST", "/door-lock/issue-password"),
        ("zigbee", "POST", "/door-lock/temp-passwords/rest-password"),
        ("zigbee", "GET", "/stand-by-lock-temp-passwords"),
        ("wifi_keepalive", "GET", "/door-lock/temp-passwords"),
        ("access_control", "GET", "/door-lock/temp-password/1"),
        ("wifi_keepalive", "POST", "/v2/door-lock/temp-password"),
    ],
)
def test_endpoint_on_a_kind_it_does_not_apply_to_gets_2004(tuya, make_device, kind, method, suffix):
    device = make_device(kind)
    if suffix.startswith("/stand-by"):
        path = f"/v1.0/smart-lock/devices/{device.id}{suffix}"
    elif suffix.startswith("/v2"):
        path = f"/v2.0/devices/{device.id}{suffix[3:]}"
    else:
        path = f"/v1.0/devices/{device.id}{suffix}"
    reply = tuya.request(method, path, body={} if method != "GET" else None)
    assert reply["code"] == 2004, reply


# --- schedules ----------------------------------------------------------------------------------------------


def test_weekly_schedule_in_the_password_time_zone(tuya, make_device, sim_clock):
    amsterdam = ZoneInfo("Europe/Amsterdam")
    sim_clock.current = datetime(2025, 3, 24, 8, 0, tzinfo=amsterdam)  # a Monday
    start = int(sim_clock.current.timestamp())
    device = make_device("zigbee", time_zone="UTC")
    cleaner = [{"effective_time": 9 * 60, "invalid_time": 12 * 60, "working_day": 2 | 8}]  # Mon + Wed 09-12
    tuya.create_password(
        device.id, "135790", start, start + 14 * DAY, time_zone="Europe/Amsterdam", schedule_list=cleaner
    )
    sim_clock.advance(3)

    def at(day: int, hour: int, minute: int = 0) -> dict[str, object]:
        sim_clock.current = datetime(2025, 3, day, hour, minute, tzinfo=amsterdam)
        return keypad(device.id, "135790")

    assert at(24, 8, 59)["reason"] == "outside_schedule"
    assert at(24, 9)["opened"]
    assert at(24, 11, 59)["opened"]
    assert at(24, 12)["reason"] == "outside_schedule"
    assert at(25, 10)["reason"] == "outside_schedule"  # Tuesday
    assert at(26, 10)["opened"]  # Wednesday
    assert at(31, 9, 30)["opened"]  # Monday after the DST change: still 09:30 local


def test_schedule_past_midnight_and_offset_time_zone(tuya, make_device, sim_clock):
    tz = ZoneInfo("Asia/Kolkata")
    sim_clock.current = datetime(2025, 3, 24, 12, 0, tzinfo=tz)  # Monday
    start = int(sim_clock.current.timestamp())
    device = make_device("wifi")
    night = [{"effective_time": 22 * 60, "invalid_time": 2 * 60, "working_day": 2}]  # Monday night shift
    tuya.create_password(device.id, "2468024", start, start + 7 * DAY, time_zone="+05:30", schedule_list=night)
    sim_clock.advance(3)
    sim_clock.current = datetime(2025, 3, 24, 23, 0, tzinfo=tz)
    assert keypad(device.id, "2468024")["opened"]
    sim_clock.current = datetime(2025, 3, 25, 1, 0, tzinfo=tz)  # Tuesday 01:00 belongs to Monday's shift
    assert keypad(device.id, "2468024")["opened"]
    sim_clock.current = datetime(2025, 3, 25, 23, 0, tzinfo=tz)
    assert not keypad(device.id, "2468024")["opened"]


# --- settling only what can still change --------------------------------------------------------------------


def test_settle_loads_only_live_passwords_and_the_history_still_lists(tuya, make_device, sim_clock, now_s):
    from locks.simulator import delivery

    device = make_device("zigbee")
    live = tuya.create_password(device.id, "111111", now_s, now_s + DAY)
    gone = tuya.create_password(device.id, "222222", now_s, now_s + DAY)
    duplicate = tuya.create_password(device.id, "111111", now_s, now_s + DAY)  # the lock refuses it: failed
    sim_clock.advance(3)
    tuya.ok("DELETE", f"{_temp(device.id)}/{gone}")
    sim_clock.advance(3)
    delivery.settle_device(device, sim_clock.now())  # the lock applies the delete
    assert [p.password_id for p in delivery.settle_device(device, sim_clock.now())] == [live]
    assert {row["id"] for row in tuya.ok("GET", _temp(device.id))} == {live, gone, duplicate}
    assert tuya.get_password(device.id, gone)["phase"] == 4
    assert tuya.get_password(device.id, duplicate)["delivery_status"] == 4
    # A freeze on a deleted record is refused as before, not "record does not exist".
    assert tuya.request("PUT", f"{_temp(device.id)}/{gone}/freeze-password")["code"] == 2324


def test_a_stalled_failed_add_is_still_settled_and_restartable(tuya, make_device, sim_clock, now_s):
    from locks.simulator import delivery

    device = make_device("zigbee", online=False)
    pid = tuya.create_password(device.id, "123456", now_s, now_s + DAY)
    sim_clock.advance(12)  # the gateway gives up: failed, with the add still pending
    assert [p.password_id for p in delivery.settle_device(device, sim_clock.now())] == [pid]
