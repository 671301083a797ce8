"""Fixtures for webhooks: a real receiver on 127.0.0.1 (an http.server in a thread that records every request and
answers as told), an organisation with an owner, endpoints registered through the services."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from tenants.models import Membership, Organisation, Role

# The code lifecycle's fixtures (a simulator over HTTP, real queues, locks on it), for the emission tests.
from tests.locks.conftest import account, make_lock, queues, sim_url, unit, world  # noqa: F401
from webhooks import services
from webhooks.models import WebhookEndpoint
from webhooks.payloads import ALL_TYPES, AlertData


def alert_data(lock_id: int | None = None) -> AlertData:
    """The data of a lock.alert, for tests that need an event and no lock."""
    return AlertData(id=7, lock_id=lock_id, kind="tamper", message="Pry alarm", at=timezone.now())


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # status codes to answer, in turn; then `default`
    default: int = 200
    hold: threading.Event | None = None  # set: each request waits for it before answering

    def wait_for(self, count: int, seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} requests, not {count}"
            time.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if state.hold is not None:
                state.hold.wait(30)
            status = state.answers.pop(0) if state.answers else state.default
            reply = b'{"ok": true}' if status < 300 else b"receiver says no"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/doors"
    yield state
    if state.hold is not None:
        state.hold.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def org(db: None) -> Organisation:
    return Organisation.objects.create(name="Canal Hotel", slug="canal")


@pytest.fixture
def owner(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("owner", email="owner@example.com", password="pw-owner-1")
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    return user


@pytest.fixture
def make_endpoint(org: Organisation, owner: Any, receiver: Receiver) -> Callable[..., tuple[WebhookEndpoint, str]]:
    def make(**given: Any) -> tuple[WebhookEndpoint, str]:
        organisation = given.pop("organisation", org)
        options: dict[str, Any] = {"url": receiver.url, "event_types": ALL_TYPES, "actor": owner, **given}
        return services.create_endpoint(organisation, **options)

    return make
