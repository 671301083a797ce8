"""The battery: a drop to 10 % or below raises one low_battery alert, and an empty battery kills the lock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.simulator.conftest import PREFIX, keypad

pytestmark = pytest.mark.django_db


def _alarms(tuya, device_id: str) -> list[tuple[str, str]]:
    query = {"page_no": 1, "page_size": 50}
    records = tuya.ok("GET", f"/v1.0/devices/{device_id}/door-lock/alarm-logs", query)["records"]
    return [(r["status"]["code"], r["status"]["value"]) for r in records]


def _patch(device_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = Client().patch(f"{PREFIX}/_sim/devices/{device_id}", body, "application/json")
    assert response.status_code == 200, response.content
    return dict(json.loads(response.content))


def test_low_battery_raises_one_alarm_per_drop(tuya, make_device):
    device = make_device("wifi")
    _patch(device.id, {"battery": 40})
    assert _alarms(tuya, device.id) == []
    _patch(device.id, {"battery": 10})
    assert _alarms(tuya, device.id) == [("alarm_lock", "low_battery")]
    _patch(device.id, {"battery": 5})
    _patch(device.id, {"battery": 10})
    _patch(device.id, {"name": "renamed"})
    assert _alarms(tuya, device.id) == [("alarm_lock", "low_battery")]
    _patch(device.id, {"battery": 80})  # new batteries
    _patch(device.id, {"battery": 3})
    assert _alarms(tuya, device.id) == [("alarm_lock", "low_battery")] * 2


def test_an_empty_battery_kills_the_lock_after_warning(tuya, make_device):
    device = make_device("wifi")
    assert _patch(device.id, {"battery": 0})["battery"] == 0
    assert _alarms(tuya, device.id) == [("alarm_lock", "low_battery")]
    assert keypad(device.id, "1234567") == {"opened": False, "reason": "battery_dead"}
    assert tuya.ok("GET", f"/v1.0/devices/{device.id}")["status"][1] == {"code": "battery_state", "value": "poweroff"}


def test_creating_a_lock_with_a_low_battery_raises_nothing(tuya, make_device):
    device = make_device("wifi", battery=5)
    assert _alarms(tuya, device.id) == []
