"""Tuya's official Python SDK (tuya-connector-python) against the simulator over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler as StdlibHandler

import pytest
import requests
from Crypto.Cipher import AES
from Crypto.Util.Padding import unpad
from django.core.servers import basehttp
from tuya_connector import TuyaOpenAPI

from locks.simulator import conf, devices
from locks.simulator.devserver import keep_tuya_headers_in_devserver, strip_underscore_headers
from locks.simulator.server import build_server
from tests.simulator.conftest import encrypt

pytestmark = pytest.mark.django_db(transaction=True)


def _django_get_environ(self: basehttp.WSGIRequestHandler) -> dict[str, str]:
    """Django's own get_environ, whether or not the simulator's fix has replaced it."""
    for name in [k for k in self.headers if "_" in k]:
        del self.headers[name]
    return StdlibHandler.get_environ(self)


@pytest.fixture
def keep_underscore_headers() -> None:
    """Django's live server drops Tuya's underscore headers unless the simulator's fix is in (devserver.py).
    The app config applies it when DEBUG is on at start-up; make sure of it whatever DEBUG was."""
    keep_tuya_headers_in_devserver()


@pytest.fixture
def fast_delivery(settings: Any) -> None:
    settings.SIM_DELIVERY_SECONDS = 0.3


@pytest.fixture
def standalone_url(transactional_db: None) -> Iterator[str]:
    server = build_server("127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _poll(fetch: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        info = fetch()
        if done(info) or time.monotonic() > deadline:
            return info
        time.sleep(0.1)


def _journey(endpoint: str) -> None:
    device = devices.create_device(kind="zigbee", name="SDK test lock")
    api = TuyaOpenAPI(endpoint, conf.access_id(), conf.access_secret())
    assert api.connect()["success"]

    details = api.get(f"/v1.0/devices/{device.id}")
    assert details["success"], details
    assert details["result"]["local_key"] == device.local_key

    ticket = api.post(f"/v1.0/devices/{device.id}/door-lock/password-ticket")
    assert ticket["success"], ticket
    key = unpad(
        AES.new(conf.access_secret().encode(), AES.MODE_ECB).decrypt(bytes.fromhex(ticket["result"]["ticket_key"])), 16
    )
    now = int(time.time())
    created = api.post(
        f"/v1.0/devices/{device.id}/door-lock/temp-password",
        {
            "name": "sdk guest",
            "password": encrypt(key.decode(), "482916"),
            "password_type": "ticket",
            "ticket_id": ticket["result"]["ticket_id"],
            "effective_time": now - 60,
            "invalid_time": now + 86400,
            "type": 0,
        },
    )
    assert created["success"], created
    pid = created["result"]["id"]
    base = f"/v1.0/devices/{device.id}/door-lock"

    def fetch() -> dict[str, Any]:
        reply = api.get(f"{base}/temp-password/{pid}")
        assert reply["success"], reply
        return reply["result"]

    def press() -> dict[str, Any]:
        return requests.post(f"{endpoint}/_sim/devices/{device.id}/keypad", json={"code": "482916"}, timeout=5).json()

    assert _poll(fetch, lambda i: i["delivery_status"] != 1)["phase"] == 2
    listed = api.get(f"{base}/temp-passwords", {"valid": "true"})
    assert [row["id"] for row in listed["result"]] == [pid]
    assert press()["opened"] is True

    assert api.put(f"{base}/temp-passwords/{pid}/freeze-password")["success"]
    assert _poll(fetch, lambda i: i["delivery_status"] != 1)["phase"] == 3
    assert press() == {"opened": False, "reason": "frozen"}

    assert api.put(f"{base}/temp-passwords/{pid}/unfreeze-password")["success"]
    assert _poll(fetch, lambda i: i["delivery_status"] != 1)["phase"] == 2
    assert press()["opened"] is True

    assert api.delete(f"{base}/temp-passwords/{pid}")["success"]
    assert _poll(fetch, lambda i: i["delivery_status"] != 1)["phase"] == 4
    assert press()["opened"] is False


def test_official_sdk_against_the_mounted_simulator(live_server, keep_underscore_headers, fast_delivery):
    _journey(live_server.url + "/tuya-sim")


def test_official_sdk_against_the_standalone_server(standalone_url, fast_delivery):
    _journey(standalone_url)


def test_sdk_post_with_empty_dict_is_refused_as_the_bytes_differ(standalone_url):
    device = devices.create_device(kind="wifi", name="quirk")
    api = TuyaOpenAPI(standalone_url, conf.access_id(), conf.access_secret())
    api.connect()
    reply = api.post(f"/v1.0/devices/{device.id}/door-lock/password-ticket", {})
    assert (reply["success"], reply["code"]) == (False, 1004)


def test_sdk_reconnects_after_an_injected_1010(standalone_url):
    device = devices.create_device(kind="wifi", name="token fault")
    api = TuyaOpenAPI(standalone_url, conf.access_id(), conf.access_secret())
    api.connect()
    first_token = api.token_info.access_token
    requests.post(f"{standalone_url}/_sim/faults", json={"kind": "tuya_code", "code": 1010, "count": 1}, timeout=5)
    assert api.get(f"/v1.0/devices/{device.id}")["code"] == 1010  # the SDK reconnects but does not retry
    assert api.token_info.access_token != first_token
    assert api.get(f"/v1.0/devices/{device.id}")["success"]


def test_underscore_headers_are_lost_behind_djangos_own_server_without_the_fix(live_server, monkeypatch):
    """Documents why the mounted simulator needs the header fix under runserver / live_server."""
    monkeypatch.setattr(basehttp.WSGIRequestHandler, "get_environ", _django_get_environ)
    api = TuyaOpenAPI(live_server.url + "/tuya-sim", conf.access_id(), conf.access_secret())
    assert api.connect()["code"] == 1105


def test_the_fix_keeps_only_tuya_headers_and_only_on_the_simulator_path():
    def headers() -> Message:
        message = Message()
        for name in ("client_id", "access_token", "sign_method", "area_id", "X_Forwarded_For", "Host"):
            message[name] = "v"
        message["Signature-Headers"] = "area_id"
        return message

    kept = headers()
    strip_underscore_headers(kept, "/tuya-sim/v1.0/token")
    assert sorted(kept.keys()) == ["Host", "Signature-Headers", "access_token", "area_id", "client_id", "sign_method"]
    elsewhere = headers()
    strip_underscore_headers(elsewhere, "/admin/")
    assert sorted(elsewhere.keys()) == ["Host", "Signature-Headers"]


def test_lost_reply_hangs_up_after_doing_the_work(standalone_url):
    device = devices.create_device(kind="wifi", name="lost reply")
    api = TuyaOpenAPI(standalone_url, conf.access_id(), conf.access_secret())
    api.connect()
    requests.post(
        f"{standalone_url}/_sim/faults", json={"endpoint": "password_ticket", "kind": "lost_reply"}, timeout=5
    )
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post(f"/v1.0/devices/{device.id}/door-lock/password-ticket")
    assert device.tickets.count() == 1
    requests.delete(f"{standalone_url}/_sim/faults", timeout=5)
    assert api.post(f"/v1.0/devices/{device.id}/door-lock/password-ticket")["success"]
