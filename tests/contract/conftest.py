"""Contract tests: our real client (`LockApi(TuyaClient(...))`) against the simulator over real HTTP.

The simulator runs as its standalone server in a thread of this process (so `settings` overrides and the
simulator's clock can be changed from the test), or mounted in the app under pytest-django's live server.
The world (locks, keypad, faults) is driven through the simulator's unsigned control API, over HTTP as well.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from locks.simulator import api as sim_api
from locks.simulator import clock, conf
from locks.simulator.devserver import keep_tuya_headers_in_devserver
from locks.simulator.server import build_server
from locks.tuya import RawResponse, TuyaClient, Urllib3Transport
from locks.tuya.api import LockApi, LockKind
from tests.contract.route_coverage import COVERAGE_FILE, record_route

DELIVERY_SECONDS = 0.15  # one hop cloud -> lock; short so the suite stays fast
POLL_SECONDS = 0.03
KINDS = [kind.value for kind in LockKind]
SIM_ROUTES = {route.label for route in sim_api.ROUTES}

# What the spec's "Applicable lock types" sections say, written out here rather than read from the simulator,
# so that a change on either side shows up as a failing test.
_ALL = frozenset(KINDS)
_BT = {"ble", "ble_gateway"}
APPLICABLE: dict[str, frozenset[str]] = {
    "ticket": _ALL,
    "create": _ALL,
    "create_v2": frozenset({"wifi", "zigbee", *_BT, "zigbee_hotel", "wifi_video"}),
    "issue": frozenset({"zigbee"}),
    "get": frozenset({"wifi", "zigbee", *_BT, "zigbee_hotel"}),
    "list": frozenset({"wifi", "zigbee", "zigbee_hotel", *_BT, "wifi_video"}),
    "keepalive_list": frozenset({"wifi_keepalive", "access_control"}),
    "modify": _ALL,  # Bluetooth locks: "password change is not supported", the window may change
    "freeze": frozenset({"zigbee"}),
    "delete": _ALL,
    "clear": frozenset({"zigbee_hotel"}),
}


def sim_has(method: str, template: str) -> bool:
    """Whether the simulator implements an endpoint (tests of endpoints still being built skip until it does)."""
    return f"{method} {template}" in SIM_ROUTES


def needs_sim_route(method: str, template: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not sim_has(method, template), reason=f"simulator has no {method} {template} yet")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The route-coverage test runs after every other test of the session."""
    last = [item for item in items if item.path.name == COVERAGE_FILE]
    if last:
        items[:] = [item for item in items if item.path.name != COVERAGE_FILE] + last


class CountingTransport:
    """Our client's real urllib3 transport, recording (method, path) of every request that left."""

    def __init__(self) -> None:
        self.inner = Urllib3Transport()
        self.sent: list[tuple[str, str]] = []
        self.prefix = ""  # the simulator's mount path (/tuya-sim under the app), stripped before route matching

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: tuple[float, float]
    ) -> RawResponse:
        path = urlsplit(url).path
        self.sent.append((method, path))
        response = self.inner.send(method, url, headers, body, timeout)
        unmounted = path[len(self.prefix) :] if self.prefix and path.startswith(self.prefix) else path
        record_route(method, unmounted, response)
        return response

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for m, path in self.sent if m == method and path.endswith(suffix))


@dataclass
class SimClock:
    """The simulator's clock: real time unless a test pins it (only for world actions: API calls carry `t`)."""

    pinned: datetime | None = None

    def now(self) -> datetime:
        return self.pinned if self.pinned is not None else self.real()

    real: Callable[[], datetime] = field(default=clock.now, repr=False)


@dataclass
class Sim:
    """The simulator seen from outside: its endpoint, our client on it, and the world's hands."""

    url: str
    transport: CountingTransport
    client: TuyaClient
    api: LockApi
    sleeps: list[float]
    clock: SimClock

    # --- world ---------------------------------------------------------------------------------------------

    def world(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own local server
            return json.loads(response.read())

    def make_device(self, kind: str, **extra: Any) -> str:
        device = self.world("POST", "/_sim/devices", {"kind": kind, "name": f"contract {kind}", **extra})
        return str(device["id"])

    def set_online(self, device_id: str, online: bool) -> None:
        self.world("PATCH", f"/_sim/devices/{device_id}", {"online": online})

    def keypad(self, device_id: str, code: str) -> dict[str, Any]:
        return self.world("POST", f"/_sim/devices/{device_id}/keypad", {"code": code})

    def opens(self, device_id: str, code: str) -> bool:
        return bool(self.keypad(device_id, code)["opened"])

    def keypad_at(self, when: datetime, device_id: str, code: str) -> dict[str, Any]:
        """Type a code with the simulator's clock pinned at `when` (the lock decides by its own clock)."""
        self.clock.pinned = when
        try:
            return self.keypad(device_id, code)
        finally:
            self.clock.pinned = None

    def lock_memory(self, device_id: str) -> list[dict[str, Any]]:
        """What the lock holds (PINs included), as only the world can see it."""
        return list(self.world("GET", f"/_sim/devices/{device_id}/passwords")["passwords"])

    def fault(self, **spec: Any) -> dict[str, Any]:
        return self.world("POST", "/_sim/faults", spec)

    def clear_faults(self) -> None:
        self.world("DELETE", "/_sim/faults")

    # --- cloud ---------------------------------------------------------------------------------------------

    def status(self, kind: str, device_id: str, password_id: int) -> tuple[Any, str]:
        """(delivery status, raw record) of a password through whichever read endpoint the kind supports."""
        if kind in APPLICABLE["get"]:
            pw = self.api.passwords.get_temp_password(device_id, password_id)
            return pw.delivery_status, pw
        if kind in APPLICABLE["list"]:
            found = [p for p in self.api.passwords.list_temp_passwords(device_id) if p.id == password_id]
            assert found, f"password {password_id} missing from the list"
            return found[0].delivery_status, found[0]
        records = [
            r
            for r in self.api.passwords.list_keepalive_temp_passwords(device_id, page_size=100)
            if r.password_id == password_id
        ]
        assert records, f"password {password_id} missing from the keepalive list"
        status = {"ONGOING": 1, "SUCCESS": 2, "FAILED": 3}[records[0].delivery_status]
        return status, records[0]

    def wait_delivered(self, kind: str, device_id: str, password_id: int, timeout: float = 5.0) -> Any:
        """Poll the cloud until the password's last operation is no longer being delivered; the record."""
        deadline = time.monotonic() + timeout
        while True:
            status, record = self.status(kind, device_id, password_id)
            if status != 1:
                return record
            if time.monotonic() > deadline:
                raise AssertionError(f"password {password_id} still being delivered after {timeout} s")
            time.sleep(POLL_SECONDS)


def now_s() -> int:
    return int(time.time())


@pytest.fixture
def sim_settings(settings: Any) -> Any:
    settings.SIM_DELIVERY_SECONDS = DELIVERY_SECONDS
    settings.SIM_ISSUE_PASSWORD_INTERVAL = 60
    return settings


@pytest.fixture
def sim_endpoint(transactional_db: None, sim_settings: Any) -> Iterator[str]:
    """The standalone simulator server (what `manage.py tuya_simulator` serves), in a thread of this process.

    Same server code as the command, a real socket; being in-process lets tests change settings and pin the
    simulator's clock. Django's own live server answers keep-alive requests ~7x slower, so it is used only
    for the mount-path tests (`mounted_endpoint`).
    """
    server = build_server("127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def mounted_endpoint(live_server: Any, transactional_db: None, sim_settings: Any) -> str:
    """The simulator mounted in the app at /tuya-sim/, with Tuya's underscore headers let through."""
    keep_tuya_headers_in_devserver()
    return str(live_server.url) + "/tuya-sim"


@pytest.fixture
def sim_clock(monkeypatch: pytest.MonkeyPatch) -> SimClock:
    pinned = SimClock(real=clock.now)
    monkeypatch.setattr(clock, "now", pinned.now)
    return pinned


def build_sim(url: str, sim_clock: SimClock) -> Sim:
    transport = CountingTransport()
    transport.prefix = urlsplit(url).path.rstrip("/")
    sleeps: list[float] = []
    client = TuyaClient(
        url,
        conf.access_id(),
        conf.access_secret(),
        transport=transport,
        timeout=(2.0, 5.0),
        backoff_seconds=0.01,
        sleep=lambda s: (sleeps.append(s), time.sleep(min(s, 0.05)))[-1],
    )
    return Sim(url, transport, client, LockApi(client), sleeps, sim_clock)


@pytest.fixture
def sim(sim_endpoint: str, sim_clock: SimClock) -> Sim:
    return build_sim(sim_endpoint, sim_clock)


@pytest.fixture
def mounted_sim(mounted_endpoint: str, sim_clock: SimClock) -> Sim:
    return build_sim(mounted_endpoint, sim_clock)


@pytest.fixture
def api(sim: Sim) -> LockApi:
    return sim.api


@pytest.fixture
def make_device(sim: Sim) -> Callable[..., str]:
    return sim.make_device


@pytest.fixture
def keypad(sim: Sim) -> Callable[[str, str], dict[str, Any]]:
    return sim.keypad


@pytest.fixture
def wait_delivered(sim: Sim) -> Callable[..., Any]:
    return sim.wait_delivered
