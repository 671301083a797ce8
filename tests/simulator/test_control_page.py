"""The control page /_sim/: renders every kind of lock with what it holds and reported, and every form acts."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from locks.simulator import conf, devices
from locks.simulator.kinds import KINDS
from locks.simulator.models import SimDevice, SimEvent, SimFault, SimRemoteRequest
from tests.simulator.conftest import PREFIX
from tests.simulator.helpers import enroll_locally, home_user, world

pytestmark = pytest.mark.django_db
PAGE = f"{PREFIX}/_sim/"


def _post(data: dict[str, Any]) -> tuple[str, str]:
    """POST one form; returns (redirect location, the page it leads to)."""
    client = Client()
    response = client.post(PAGE, data)
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(PAGE)
    page = client.get(location)
    assert page.status_code == 200
    return location, page.content.decode()


def _act(device: SimDevice, action: str, **data: Any) -> str:
    location, page = _post({"device_id": device.id, "action": action, **data})
    assert f"open={device.id}" in location
    assert location.endswith(f"#lock-{device.id}")
    return page


def _message(page: str) -> str:
    found = re.search(r'<p class="message[^"]*" role="(?:status|alert)">(.*?)</p>', page, re.S)
    assert found, "no message on the page"
    return found.group(1)


def test_the_page_shows_every_kind_with_what_each_lock_holds_and_reported(tuya, sim_clock):
    locks = {kind: devices.create_device(kind=kind, name=f"Lock {kind}") for kind in KINDS}
    wifi, gate = locks["wifi"], locks["access_control"]
    now = int(sim_clock.now().timestamp())
    pid = tuya.create_password(wifi.id, "7654321", now, now + 3600)
    offline_code = tuya.ok(
        "POST",
        f"/v1.1/devices/{wifi.id}/door-lock/offline-temp-password",
        body={"type": "once", "name": "cleaner"},
    )["offline_temp_password"]
    ann = home_user(gate.id, "Ann")
    enroll_locally(gate.id, "card", user_id=ann)
    world(wifi.id, "doorbell")
    page = Client().get(PAGE).content.decode()
    for kind, device in locks.items():
        assert f'id="lock-{device.id}"' in page
        assert KINDS[kind].label in page
    assert page.count('<details class="lock"') == len(KINDS)
    assert conf.access_id() in page
    assert conf.access_secret() not in page
    assert f"{conf.access_secret()[:2]}…{conf.access_secret()[-2:]}" in page
    assert "http://testserver/tuya-sim" in page
    assert str(pid) in page
    assert "7654321" in page
    assert offline_code in page
    assert "Ann" in page
    assert "Card 1" in page
    photo = re.search(r'<img class="thumb" src="(photos/[^"]+\.jpg)"', page)
    assert photo, "the doorbell photo is shown"
    jpeg = Client().get(PAGE + photo.group(1))
    assert jpeg["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(jpeg.content)).size == (640, 480)
    assert Client().get(PAGE + "photos/nope.jpg").status_code == 404


def test_only_the_latest_20_events_are_listed(make_device):
    device = make_device("zigbee")
    for _ in range(25):
        world(device.id, "doorbell")
    page = Client().get(PAGE).content.decode()
    assert page.count("<td>doorbell</td>") == 20


def test_create_forms_for_every_kind_and_project():
    for kind in KINDS:
        _, page = _post({"action": "create", "kind": kind, "name": f"New {kind}", "battery": "55", "online": "on"})
        assert f"Added New {kind}" in _message(page)
    assert SimDevice.objects.filter(battery=55, online=True).count() == len(KINDS)
    _post({"action": "create", "kind": "wifi", "name": "Theirs", "access_id": "someoneelse00000001"})
    theirs = SimDevice.objects.get(name="Theirs")
    assert (theirs.access_id, theirs.online) == ("someoneelse00000001", False)  # unchecked box: offline
    _, page = _post({"action": "create", "kind": "toaster"})
    assert 'class="message error"' in page
    assert "kind must be one of" in page


def test_online_battery_and_keypad_forms(tuya, make_device, sim_clock):
    device = make_device("wifi")
    assert "is offline" in _message(_act(device, "online", online="0"))
    assert SimDevice.objects.get(pk=device.id).online is False
    _act(device, "online", online="1")
    assert SimDevice.objects.get(pk=device.id).online is True
    assert "battery 50 %." in _message(_act(device, "battery", battery="50"))
    assert "low-battery alarm" in _message(_act(device, "battery", battery="9"))
    assert SimEvent.objects.filter(device=device, kind="alarm_lock", dp_value="low_battery").count() == 1
    assert "error" in _act(device, "battery", battery="101")
    now = int(sim_clock.now().timestamp())
    tuya.create_password(device.id, "1234567", now, now + 3600)
    sim_clock.advance(3)
    assert _message(_act(device, "keypad", code="1234567")).endswith("opened (opened).")
    assert _message(_act(device, "keypad", code="7654321")).endswith("refused (unknown code).")
    assert "digits" in _message(_act(device, "keypad", code="12ab"))


def test_present_doorbell_alarm_and_remote_request_forms(make_device, sim_clock):
    device = make_device("wifi_keepalive")
    sn = enroll_locally(device.id, "fingerprint")["unlock_sn"]
    assert "fingerprint 1 — opened" in _message(_act(device, "present", type="fingerprint", number=str(sn)))
    assert "refused (unknown)" in _message(_act(device, "present", type="card", number="9"))
    assert "opened" in _message(_act(device, "present", type="key", number="1"))
    _act(device, "doorbell")
    _act(device, "alarm", alarm="pry")
    assert "alarm must be one of" in _message(_act(device, "alarm", alarm="meteor"))
    kinds = list(SimEvent.objects.filter(device=device).values_list("kind", "dp_value"))
    assert ("unlock_fingerprint", str(sn)) in kinds
    assert ("alarm_lock", "wrong_card") in kinds
    assert ("doorbell", "true") in kinds
    assert ("alarm_lock", "pry") in kinds
    page = _act(device, "remote_request")
    assert SimRemoteRequest.objects.filter(device=device).latest("id").status == "pending"
    assert "60 s left" in page
    sim_clock.advance(61)
    assert "<strong>expired</strong>" in Client().get(PAGE).content.decode()


def test_enrollment_step_form(tuya, make_device):
    device = make_device("wifi")
    assert "no enrollment in progress" in _message(_act(device, "enroll_step"))
    user_id = home_user(device.id, "Bo")
    tuya.ok(
        "PUT",
        f"/v1.0/devices/{device.id}/door-lock/actions/entry",
        body={"unlock_type": "fingerprint", "user_id": user_id, "user_type": 1},
    )
    page = _act(device, "enroll_step")
    assert "step 1 of 4" in _message(page)
    assert "Next step" in page
    for _ in range(3):
        page = _act(device, "enroll_step")
    assert "step 4 of 4 — done" in _message(page)
    assert device.methods.filter(dp_code="unlock_fingerprint", user__user_id=user_id).exists()


def test_fault_forms(make_device):
    device = make_device("zigbee")
    location, page = _post(
        {"action": "fault", "kind": "tuya_code", "endpoint": "device_details", "code": "2001", "count": "2"}
    )
    assert location.endswith("#faults")
    assert "Fault added" in _message(page)
    _post({"action": "fault", "kind": "latency", "latency_ms": "300", "device_id": device.id})
    _post(
        {"action": "fault", "kind": "lost_reply", "endpoint": "POST /v1.0/devices/{device_id}/door-lock/temp-password"}
    )
    _post({"action": "fault", "kind": "http_500"})
    faults = list(SimFault.objects.order_by("id").values_list("kind", "code", "remaining", "latency_ms", "device_id"))
    assert faults == [
        ("tuya_code", 2001, 2, 0, ""),
        ("latency", None, None, 300, device.id),
        ("lost_reply", None, None, 0, ""),
        ("http_500", None, None, 0, ""),
    ]
    _, page = _post({"action": "fault", "kind": "tuya_code"})
    assert "code must be an integer" in _message(page)
    _, page = _post({"action": "clear_faults"})
    assert "Cleared 4 fault(s)" in _message(page)
    assert not SimFault.objects.exists()


def test_unknown_lock_or_action_is_an_error_message(make_device):
    _, page = _post({"device_id": "nope", "action": "doorbell"})
    assert _message(page) == "no such lock"
    device = make_device("wifi")
    assert "unknown action" in _message(_act(device, "explode"))
