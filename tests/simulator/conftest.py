"""Fixtures for the simulator tests: a signing test client, a controllable clock, locks of each kind."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from Crypto.Cipher import AES
from Crypto.Util.Padding import pad, unpad
from django.test import Client

from locks.simulator import clock, conf, devices, signing
from locks.simulator.models import SimDevice

PREFIX = "/tuya-sim"


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def sim_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(clock.now().replace(microsecond=0))
    monkeypatch.setattr(clock, "now", fake.now)
    return fake


class TuyaTestClient:
    """Signs requests as a correct Tuya client would, through Django's test client (no network)."""

    def __init__(self, access_id: str = "", secret: str = "") -> None:
        self.client = Client()
        self.access_id = access_id or conf.access_id()
        self.secret = secret or conf.access_secret()
        self.token = ""
        self.refresh_token = ""

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | bytes | None = None,
        *,
        headers: dict[str, str] | None = None,
        sign: str | None = None,
        t: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        query = urlencode(params or {})
        raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        t = t or str(clock.now_ms())
        access_token = self.token if token is None else token
        meta = {"HTTP_CLIENT_ID": self.access_id, "HTTP_T": t, "HTTP_SIGN_METHOD": "HMAC-SHA256"}
        if access_token:
            meta["HTTP_ACCESS_TOKEN"] = access_token
        meta["HTTP_SIGN"] = sign or signing.sign_request(
            secret=self.secret,
            client_id=self.access_id,
            access_token=access_token,
            t=t,
            method=method,
            path=path,
            query_string=query,
            body=raw,
        )
        for name, value in (headers or {}).items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = value
        url = PREFIX + path + (f"?{query}" if query else "")
        response = self.client.generic(method, url, raw, content_type="application/json", **meta)
        assert response.status_code == 200, response.content
        return json.loads(response.content)

    def connect(self) -> dict[str, Any]:
        reply = self.request("GET", "/v1.0/token", {"grant_type": 1}, token="")
        assert reply["success"], reply
        self.token = reply["result"]["access_token"]
        self.refresh_token = reply["result"]["refresh_token"]
        return reply

    def ok(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        reply = self.request(method, path, params, body)
        assert reply["success"], reply
        return reply["result"]

    def ticket(self, device_id: str) -> tuple[str, str]:
        """A ticket id and its plain key K, decrypted the way a client does (pycryptodome, not the sim's code)."""
        result = self.ok("POST", f"/v1.0/devices/{device_id}/door-lock/password-ticket")
        cipher = AES.new(self.secret.encode(), AES.MODE_ECB)
        key = unpad(cipher.decrypt(bytes.fromhex(result["ticket_key"])), 16).decode()
        return result["ticket_id"], key

    def password_body(self, device_id: str, pin: str, start: int, end: int, **extra: Any) -> dict[str, Any]:
        ticket_id, key = self.ticket(device_id)
        return {
            "password": encrypt(key, pin),
            "password_type": "ticket",
            "ticket_id": ticket_id,
            "effective_time": start,
            "invalid_time": end,
            **extra,
        }

    def create_password(self, device_id: str, pin: str, start: int, end: int, **extra: Any) -> int:
        body = self.password_body(device_id, pin, start, end, **{"name": "guest", "type": 0, **extra})
        return int(self.ok("POST", f"/v1.0/devices/{device_id}/door-lock/temp-password", body=body)["id"])

    def get_password(self, device_id: str, password_id: int) -> dict[str, Any]:
        return self.ok("GET", f"/v1.0/devices/{device_id}/door-lock/temp-password/{password_id}")


def encrypt(key: str, pin: str) -> str:
    return AES.new(key.encode(), AES.MODE_ECB).encrypt(pad(pin.encode(), 16)).hex().upper()


@pytest.fixture
def tuya(db: None) -> TuyaTestClient:
    client = TuyaTestClient()
    client.connect()
    return client


@pytest.fixture
def make_device(db: None) -> Any:
    def make(kind: str = "zigbee", **kwargs: Any) -> SimDevice:
        return devices.create_device(kind=kind, name=kwargs.pop("name", f"test {kind}"), **kwargs)

    return make


@pytest.fixture
def instant_delivery(settings: Any) -> None:
    settings.SIM_DELIVERY_SECONDS = 0


def keypad(device_id: str, code: str) -> dict[str, Any]:
    url = f"{PREFIX}/_sim/devices/{device_id}/keypad"
    response = Client().post(url, {"code": code}, content_type="application/json")
    assert response.status_code == 200
    return json.loads(response.content)


def set_online(device_id: str, online: bool) -> None:
    response = Client().patch(f"{PREFIX}/_sim/devices/{device_id}", {"online": online}, content_type="application/json")
    assert response.status_code == 200
