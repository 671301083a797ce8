"""Offline, dynamic and advanced passwords: issued by the cloud, checked by the lock alone."""

from datetime import UTC, datetime

import pytest

from locks.simulator import offline
from tests.simulator.conftest import keypad, set_online
from tests.simulator.helpers import world_get

pytestmark = pytest.mark.django_db

V10 = "/v1.0/devices/{}/door-lock/offline-temp-password"
V11 = "/v1.1/devices/{}/door-lock/offline-temp-password"
HOUR = 3600


@pytest.fixture
def at_noon(sim_clock):
    sim_clock.current = datetime(2026, 3, 10, 12, 25, 40, tzinfo=UTC)
    return sim_clock


def ts(clock, hours=0.0):
    return int(clock.current.timestamp() + hours * HOUR)


def issue(tuya, device, **body):
    return tuya.ok("POST", V11.format(device.id), body=body)


def unlock_kinds(device_id):
    return [e["kind"] for e in world_get(device_id, "events")["events"]]


def test_multiple_use_code_opens_inside_its_rounded_window_even_offline(tuya, make_device, at_noon):
    lock = make_device("wifi")
    result = issue(tuya, lock, type="multiple", name="cleaner", effective_time=ts(at_noon), invalid_time=ts(at_noon, 3))
    # The spec's rounding: both times go down to the hour.
    assert result["effective_time"] == ts(at_noon) - 25 * 60 - 40
    assert result["invalid_time"] == result["effective_time"] + 3 * HOUR
    assert result["offline_temp_password_name"] == "cleaner"
    code = result["offline_temp_password"]
    assert len(code) == 10
    assert code.isdigit()
    set_online(lock.id, False)
    assert keypad(lock.id, code)["opened"] is True
    assert keypad(lock.id, code)["opened"] is True
    at_noon.advance(3 * HOUR)
    assert keypad(lock.id, code) == {"opened": False, "reason": "expired"}


def test_once_code_is_valid_six_hours_from_this_hour_and_opens_once(tuya, make_device, at_noon):
    lock = make_device("zigbee")
    result = issue(tuya, lock, type="once")
    this_hour = ts(at_noon) - 25 * 60 - 40
    assert (result["effective_time"], result["invalid_time"]) == (this_hour, this_hour + 6 * HOUR)
    assert keypad(lock.id, result["offline_temp_password"])["opened"] is True
    assert keypad(lock.id, result["offline_temp_password"]) == {"opened": False, "reason": "already_used"}


def test_clear_all_code_lasts_a_day_and_revokes_earlier_codes_without_opening(tuya, make_device, at_noon):
    lock = make_device("ble")
    kept = issue(tuya, lock, type="multiple", effective_time=ts(at_noon), invalid_time=ts(at_noon, 48))
    clear = issue(tuya, lock, type="clear_all")
    assert clear["invalid_time"] - clear["effective_time"] == 24 * HOUR
    assert keypad(lock.id, clear["offline_temp_password"]) == {"opened": False, "reason": "cleared"}
    assert keypad(lock.id, kept["offline_temp_password"]) == {"opened": False, "reason": "cleared"}
    assert "unlock_offline_clear" in unlock_kinds(lock.id)


def test_clear_one_code_revokes_only_its_target(tuya, make_device, at_noon):
    lock = make_device("wifi_keepalive")
    window = {"type": "multiple", "effective_time": ts(at_noon), "invalid_time": ts(at_noon, 10)}
    first, second = issue(tuya, lock, **window), issue(tuya, lock, **window)
    clear = issue(tuya, lock, type="clear_one", password_id=first["offline_temp_password_id"])
    assert keypad(lock.id, clear["offline_temp_password"])["reason"] == "cleared"
    assert keypad(lock.id, first["offline_temp_password"])["opened"] is False
    assert keypad(lock.id, second["offline_temp_password"])["opened"] is True
    assert "unlock_offline_clear_single" in unlock_kinds(lock.id)


def test_clear_one_needs_an_existing_multiple_password(tuya, make_device, at_noon):
    lock = make_device("wifi")
    reply = tuya.request("POST", V11.format(lock.id), body={"type": "clear_one", "password_id": "9999999"})
    assert reply["code"] == 2323


def test_v11_accepts_the_wrapped_body_of_the_parameter_table(tuya, make_device, at_noon):
    lock = make_device("wifi")
    body = {"offline_pwd_add_request": {"type": "once"}}
    assert tuya.ok("POST", V11.format(lock.id), body=body)["offline_temp_password"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"type": "multiple"}, 1100),
        ({"type": "sometimes"}, 1101),
        ({"type": "multiple", "effective_time": 1700000000, "invalid_time": 1700000100}, 1101),  # same hour
        ({"type": "multiple", "effective_time": 17000, "invalid_time": 1800000000}, 1101),
    ],
)
def test_v11_bad_input(tuya, make_device, at_noon, body, code):
    lock = make_device("wifi")
    assert tuya.request("POST", V11.format(lock.id), body=body)["code"] == code
    assert not lock.offline_passwords.exists()


def test_v10_numbers_its_types_and_needs_a_language(tuya, make_device, at_noon):
    lock = make_device("wifi")
    body = {"type": 1, "effective_time": ts(at_noon), "invalid_time": ts(at_noon, 2), "lang": "en"}
    code = tuya.ok("POST", V10.format(lock.id), body=body)["offline_temp_password"]
    assert keypad(lock.id, code)["opened"] is True
    assert tuya.request("POST", V10.format(lock.id), body={**body, "lang": ""})["code"] == 1100
    assert tuya.request("POST", V10.format(lock.id), body={**body, "type": 2})["code"] == 1101


@pytest.mark.parametrize(("kind", "applicable"), [("wifi", True), ("zigbee", False), ("wifi_video", False)])
def test_v10_applies_to_wifi_and_bluetooth_only(tuya, make_device, at_noon, kind, applicable):
    lock = make_device(kind)
    body = {"type": 0, "effective_time": ts(at_noon), "invalid_time": ts(at_noon, 2), "lang": "en"}
    reply = tuya.request("POST", V10.format(lock.id), body=body)
    assert reply["success"] is applicable
    if not applicable:
        assert reply["code"] == 2004


def test_rename_offline_password(tuya, make_device, at_noon):
    lock = make_device("ble")
    issued = issue(tuya, lock, type="once")
    path = f"/v1.0/devices/{lock.id}/door-lock/offline-temp-password/{issued['offline_temp_password_id']}"
    assert tuya.ok("PUT", path, body={"password_name": "plumber"}) is True
    assert lock.offline_passwords.get().name == "plumber"
    assert tuya.request("PUT", path.rsplit("/", 1)[0] + "/123", body={"password_name": "x"})["code"] == 2323
    assert tuya.request("PUT", path, body={})["code"] == 1100


def test_dynamic_password_opens_now_and_not_after_it_rolls_over_twice(tuya, make_device, at_noon):
    lock = make_device("wifi")
    code = tuya.ok("GET", f"/v1.0/devices/{lock.id}/door-lock/dynamic-password")["dynamic_password"]
    assert len(code) == offline.DYNAMIC_DIGITS
    assert keypad(lock.id, code)["opened"] is True
    at_noon.advance(2 * offline.DYNAMIC_STEP_SECONDS)
    assert keypad(lock.id, code)["opened"] is False
    assert "unlock_dynamic" in unlock_kinds(lock.id)


def test_advanced_password_is_configured_asynchronously_then_opens(tuya, make_device, sim_clock, settings):
    settings.SIM_DELIVERY_SECONDS = 2
    lock = make_device("zigbee_hotel")
    ticket_id, key = tuya.ticket(lock.id)
    from tests.simulator.conftest import encrypt

    body = {
        "password": encrypt(key, "424242"),
        "password_type": "ticket",
        "ticket_id": ticket_id,
        "advanced_type": "admin",
    }
    assert tuya.ok("POST", f"/v1.0/devices/{lock.id}/door-lock/advanced-password", body=body) is True
    query = {"advanced_type": "admin"}
    assert tuya.ok("GET", f"/v1.0/devices/{lock.id}/door-lock/advanced-password", query)["phase"] == 1
    assert keypad(lock.id, "424242")["opened"] is False
    sim_clock.advance(2)
    assert tuya.ok("GET", f"/v1.0/devices/{lock.id}/door-lock/advanced-password", query) == {
        "advanced_type": "admin",
        "phase": 2,
    }
    assert keypad(lock.id, "424242")["opened"] is True
    reply = tuya.request("GET", f"/v1.0/devices/{lock.id}/door-lock/advanced-password", {"advanced_type": "emergency"})
    assert reply["code"] == 2323


def test_advanced_password_fails_when_the_gateway_cannot_reach_the_lock(tuya, make_device, sim_clock, settings):
    settings.SIM_DELIVERY_SECONDS = 1
    lock = make_device("zigbee_hotel")
    set_online(lock.id, False)
    ticket_id, key = tuya.ticket(lock.id)
    from tests.simulator.conftest import encrypt

    body = {
        "password": encrypt(key, "135790"),
        "password_type": "ticket",
        "ticket_id": ticket_id,
        "advanced_type": "emergency",
    }
    tuya.ok("POST", f"/v1.0/devices/{lock.id}/door-lock/advanced-password", body=body)
    sim_clock.advance(10)
    reply = tuya.ok("GET", f"/v1.0/devices/{lock.id}/door-lock/advanced-password", {"advanced_type": "emergency"})
    assert reply["phase"] == 3


def test_advanced_password_only_on_hotel_locks(tuya, make_device):
    lock = make_device("zigbee")
    reply = tuya.request("GET", f"/v1.0/devices/{lock.id}/door-lock/advanced-password", {"advanced_type": "admin"})
    assert reply["code"] == 2004
