"""The world API (devices, keypad, events), fault injection, the demo seed and the standalone command."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from locks.simulator import devices
from locks.simulator.kinds import KINDS
from locks.simulator.models import SimDevice, SimFault, SimPassword
from tests.simulator.conftest import PREFIX, keypad

pytestmark = pytest.mark.django_db


def _json(response: Any) -> Any:
    return json.loads(response.content)


def test_create_list_and_patch_devices():
    client = Client()
    for kind in KINDS:
        response = client.post(f"{PREFIX}/_sim/devices", {"kind": kind, "name": f"my {kind}"}, "application/json")
        assert response.status_code == 201
        assert _json(response)["id"].startswith("vdevo")
    listed = _json(client.get(f"{PREFIX}/_sim/devices"))["devices"]
    assert sorted(d["kind"] for d in listed) == sorted(KINDS)
    device_id = listed[0]["id"]
    patched = client.patch(f"{PREFIX}/_sim/devices/{device_id}", {"online": False, "battery": 7}, "application/json")
    assert (_json(patched)["online"], _json(patched)["battery"]) == (False, 7)
    assert _json(client.get(f"{PREFIX}/_sim/devices/{device_id}"))["online"] is False


@pytest.mark.parametrize(
    "body", [{"kind": "toaster"}, {"kind": "wifi", "battery": 101}, {"kind": "wifi", "time_zone": "Nowhere/X"}]
)
def test_bad_device_requests_are_400(body):
    assert Client().post(f"{PREFIX}/_sim/devices", body, "application/json").status_code == 400


def test_unknown_device_is_404():
    assert Client().get(f"{PREFIX}/_sim/devices/nope").status_code == 404
    assert Client().post(f"{PREFIX}/_sim/devices/nope/keypad", {"code": "1"}, "application/json").status_code == 404


def test_keypad_records_events(tuya, make_device, sim_clock):
    device = make_device("zigbee")
    now = int(sim_clock.now().timestamp())
    pid = tuya.create_password(device.id, "123456", now, now + 3600)
    sim_clock.advance(3)
    assert keypad(device.id, "000000")["opened"] is False
    assert keypad(device.id, "123456")["opened"] is True
    events = _json(Client().get(f"{PREFIX}/_sim/devices/{device.id}/events"))["events"]
    assert [(e["kind"], e["password_id"]) for e in events] == [("wrong_password", None), ("unlock_temporary", pid)]
    lock_memory = _json(Client().get(f"{PREFIX}/_sim/devices/{device.id}/passwords"))["passwords"]
    assert [(p["pin"], p["phase"], p["sn"]) for p in lock_memory] == [("123456", 2, 1)]


def test_dead_battery_keeps_the_door_shut(make_device):
    device = make_device("wifi", battery=0)
    assert keypad(device.id, "1234567") == {"opened": False, "reason": "battery_dead"}


def _fault(**body: Any) -> dict[str, Any]:
    response = Client().post(f"{PREFIX}/_sim/faults", body, "application/json")
    assert response.status_code == 201, response.content
    return _json(response)


def test_tuya_code_fault_then_clear(tuya, make_device):
    device = make_device("wifi")
    _fault(endpoint="device_details", kind="tuya_code", code=2001)
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["code"] == 2001
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["code"] == 2001  # until cleared
    assert _json(Client().delete(f"{PREFIX}/_sim/faults"))["cleared"] == 1
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["success"]


def test_fault_count_and_endpoint_matching(tuya, make_device):
    device, other = make_device("wifi"), make_device("wifi")
    _fault(endpoint="GET /v1.0/devices/{device_id}", kind="tuya_code", code=1199, count=1, device_id=device.id)
    assert tuya.request("GET", f"/v1.0/devices/{other.id}")["success"]
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["code"] == 1199
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["success"]
    assert not SimFault.objects.exists()


def test_token_fault_expires_the_token(tuya, make_device):
    device = make_device("wifi")
    _fault(kind="tuya_code", code=1010, count=1)
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["code"] == 1010
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["code"] == 1010  # really expired now
    tuya.connect()
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["success"]


def test_http_500_fault(tuya, make_device):
    device = make_device("wifi")
    _fault(kind="http_500", count=1)
    response = tuya.client.get(f"{PREFIX}/v1.0/devices/{device.id}")
    assert response.status_code == 200  # unsigned: refused before any fault applies
    with pytest.raises(AssertionError, match="Internal Server Error"):
        tuya.request("GET", f"/v1.0/devices/{device.id}")


def test_lost_reply_does_the_work_but_answers_500(tuya, make_device, sim_clock):
    device = make_device("zigbee")
    now = int(sim_clock.now().timestamp())
    body = tuya.password_body(device.id, "123456", now, now + 3600, name="guest", type=0)
    _fault(endpoint="temp_password_create", kind="lost_reply", count=1)
    with pytest.raises(AssertionError):
        tuya.request("POST", f"/v1.0/devices/{device.id}/door-lock/temp-password", body=body)
    assert SimPassword.objects.filter(device=device, name="guest").count() == 1
    assert [row["name"] for row in tuya.ok("GET", f"/v1.0/devices/{device.id}/door-lock/temp-passwords")] == ["guest"]


def test_latency_fault(tuya, make_device, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("locks.simulator.views.time.sleep", slept.append)
    device = make_device("wifi")
    _fault(kind="latency", latency_ms=1500, count=1)
    assert tuya.request("GET", f"/v1.0/devices/{device.id}")["success"]
    assert slept == [1.5]


@pytest.mark.parametrize(
    "body", [{"kind": "meteor"}, {"kind": "tuya_code"}, {"kind": "latency"}, {"kind": "http_500", "count": -1}]
)
def test_bad_fault_requests_are_400(body):
    assert Client().post(f"{PREFIX}/_sim/faults", body, "application/json").status_code == 400


def test_control_page_lists_devices_and_acts(make_device):
    device = make_device("wifi", name="Front door")
    client = Client()
    assert b"Front door" in client.get(f"{PREFIX}/_sim/").content
    client.post(f"{PREFIX}/_sim/", {"action": "toggle", "device_id": device.id})
    assert SimDevice.objects.get(pk=device.id).online is False
    page = client.post(f"{PREFIX}/_sim/", {"action": "keypad", "device_id": device.id, "code": "1234567"}, follow=True)
    assert b"refused (unknown code)" in page.content


def test_seed_demo_is_idempotent():
    assert len(devices.seed_demo()) == len(KINDS)
    assert devices.seed_demo() == []
    assert SimDevice.objects.count() == len(KINDS)


def test_command_seeds_and_prints_a_masked_secret(monkeypatch, capsys):
    class FakeServer:
        server_address = ("127.0.0.1", 9999)

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            pass

    monkeypatch.setattr("locks.simulator.management.commands.tuya_simulator.build_server", lambda *a, **k: FakeServer())
    call_command("tuya_simulator", "--port", "9999", "--seed-demo")
    out = capsys.readouterr().out
    assert "simdemoaccessid00001" in out
    assert "http://127.0.0.1:9999" in out
    assert "SimDemoSecret0123456789abcdefXYZ" not in out
    assert SimDevice.objects.count() == len(KINDS)
