"""An offline lock keeps its log entries and uploads them when it is back online, each with its own time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from locks.simulator.models import SimEvent
from tests.simulator.conftest import PREFIX, keypad, set_online
from tests.simulator.helpers import enroll_locally, world

pytestmark = pytest.mark.django_db


def _open_logs(tuya, device_id: str) -> list[dict[str, Any]]:
    query = {"page_no": 1, "page_size": 50, "start_time": 0, "end_time": 9_999_999_999_999}
    return list(tuya.ok("GET", f"/v1.0/devices/{device_id}/door-lock/open-logs", query)["logs"])


def _alarms(tuya, device_id: str) -> list[tuple[str, str]]:
    query = {"page_no": 1, "page_size": 50}
    records = tuya.ok("GET", f"/v1.0/devices/{device_id}/door-lock/alarm-logs", query)["records"]
    return [(r["status"]["code"], r["status"]["value"]) for r in records]


def _patch(device_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = Client().patch(f"{PREFIX}/_sim/devices/{device_id}", body, "application/json")
    assert response.status_code == 200, response.content
    return dict(json.loads(response.content))


# --- events while offline -----------------------------------------------------------------------------------


def test_an_offline_lock_uploads_its_log_when_back_online_with_the_original_times(tuya, make_device, sim_clock):
    device = make_device("wifi")
    sn = enroll_locally(device.id, "fingerprint")["unlock_sn"]
    set_online(device.id, False)
    happened = int(sim_clock.now().timestamp() * 1000)
    assert world(device.id, "present", {"type": "fingerprint", "number": sn})["opened"] is True
    reply = world(device.id, "alarm", {"alarm": "pry"})
    assert reply["events"][0]["uploaded"] is False
    assert _open_logs(tuya, device.id) == []
    assert _alarms(tuya, device.id) == []
    sim_clock.advance(600)
    set_online(device.id, True)
    logs = _open_logs(tuya, device.id)
    assert [(log["status"]["code"], log["update_time"]) for log in logs] == [("unlock_fingerprint", happened)]
    assert _alarms(tuya, device.id) == [("alarm_lock", "pry")]
    assert not SimEvent.objects.filter(device=device, uploaded=False).exists()


def test_offline_keypad_unlocks_wait_for_upload_and_online_ones_do_not(tuya, make_device, sim_clock):
    device = make_device("wifi")
    now = int(sim_clock.now().timestamp())
    pid = tuya.create_password(device.id, "1234567", now, now + 3600)
    sim_clock.advance(3)
    assert keypad(device.id, "1234567")["opened"] is True
    set_online(device.id, False)
    sim_clock.advance(10)
    assert keypad(device.id, "1234567")["opened"] is True  # the lock decides alone
    assert [log["status"]["value"] for log in _open_logs(tuya, device.id)] == [str(pid)]
    set_online(device.id, True)
    assert [log["status"]["value"] for log in _open_logs(tuya, device.id)] == [str(pid), str(pid)]


def test_an_offline_record_cannot_be_linked_before_upload(tuya, make_device):
    device = make_device("access_control")
    sn = enroll_locally(device.id, "card")["unlock_sn"]
    set_online(device.id, False)
    world(device.id, "present", {"type": "card", "number": sn})
    event = SimEvent.objects.get(device=device, kind="unlock_card")
    params = {"target_standard_dp_codes": "unlock_card", "start_time": 0, "end_time": 0, "page_no": 1, "page_size": 10}
    assert tuya.ok("GET", f"/v1.0/devices/{device.id}/door-lock/records", params)["records"] == []
    stamp = f"{int(event.created_at.timestamp() * 1000):x}"
    path = f"/v1.0/devices/{device.id}/door-lock/records/{stamp}-{event.pk}/actions/allocate"
    assert tuya.request("POST", path, body={"user_id": "1"})["code"] == 1109
    set_online(device.id, True)
    assert len(tuya.ok("GET", f"/v1.0/devices/{device.id}/door-lock/records", params)["records"]) == 1


def test_low_battery_on_an_offline_lock_reaches_the_cloud_when_it_reconnects(tuya, make_device):
    device = make_device("wifi", online=False)
    _patch(device.id, {"battery": 8})
    assert _alarms(tuya, device.id) == []
    _patch(device.id, {"online": True})
    assert _alarms(tuya, device.id) == [("alarm_lock", "low_battery")]
