"""Bringing in a cloud project's locks: every failure ends the import with an error on the page (#11 C.12)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from locks.models import CloudAccount
from tests.locks.conftest import run_workers
from tests.locks.test_setup_views import connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def refusing_url() -> str:
    """A port nothing listens on: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that takes the connection and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _serve(answer: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            answer(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _reply(status: int, body: bytes, **headers: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


ODD_REPLIES = {
    "http 500": _reply(500, b"<h1>Internal error</h1>", **{"Content-Type": "text/html"}),
    "html page": _reply(200, b"<html>hello</html>", **{"Content-Type": "text/html"}),
    "envelope of the wrong shape": _reply(200, json.dumps({"success": True, "result": "nonsense", "t": 1}).encode()),
    "redirect": _reply(302, b"", Location="http://127.0.0.1:9/elsewhere"),
}


@pytest.fixture(params=sorted(ODD_REPLIES))
def odd_url(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _serve(ODD_REPLIES[request.param])


def _import_ends_with_error(client: Client, url: str, sim_url: str) -> str:
    response = connect(client, sim_url, endpoint=url)
    assert response.status_code == 302, response.content.decode()
    account = CloudAccount.objects.get()
    assert account.importing
    run_workers()
    account.refresh_from_db()
    assert not account.importing, "the import never ended"
    assert account.last_error
    page = client.get(reverse("locks:setup")).content.decode()
    assert "Bringing in its locks" not in page
    assert account.last_error in page.replace("&#x27;", "'")
    return account.last_error


def test_an_import_against_a_refusing_endpoint_ends_with_an_error(
    owner_client: Client, sim_url: str, queues: None, refusing_url: str
) -> None:
    error = _import_ends_with_error(owner_client, refusing_url, sim_url)
    assert "Could not connect" in error
    assert "connection refused" in error
    assert "bring in its locks again" in error


def test_an_import_against_an_endpoint_that_never_answers_ends_with_an_error(
    owner_client: Client, sim_url: str, queues: None, silent_url: str, settings: Any
) -> None:
    settings.TUYA_TIMEOUT_SECONDS = 0.3
    error = _import_ends_with_error(owner_client, silent_url, sim_url)
    assert "No answer within 0.3 s" in error
    assert "bring in its locks again" in error


def test_an_import_against_an_endpoint_with_an_unexpected_reply_ends_with_an_error(
    owner_client: Client, sim_url: str, queues: None, odd_url: str
) -> None:
    error = _import_ends_with_error(owner_client, odd_url, sim_url)
    assert "bring in its locks again" in error
    assert "hello" not in error
    assert "Internal error" not in error
    assert "nonsense" not in error


def test_an_import_no_worker_ever_ran_ends_with_an_error(owner_client: Client, sim_url: str, queues: None) -> None:
    """A worker killed mid-import leaves no trace but the request: after a while the page stops waiting."""
    from datetime import timedelta

    from django.utils import timezone

    connect(owner_client, sim_url)
    account = CloudAccount.objects.get()
    assert account.importing
    CloudAccount.objects.filter(pk=account.pk).update(
        import_requested_at=timezone.now() - CloudAccount.IMPORT_GIVE_UP - timedelta(seconds=1)
    )
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "Bringing in its locks" not in page
    assert "The import did not finish" in page
    run_workers()  # the job turns up late after all: it still brings the locks in
    account.refresh_from_db()
    assert not account.import_pending
    assert account.last_error == ""


def test_an_import_that_could_not_be_queued_ends_with_an_error(
    owner_client: Client, sim_url: str, queues: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import django_rq
    from redis.exceptions import ConnectionError as RedisConnectionError

    class Down:
        def enqueue(self, *args: Any, **kwargs: Any) -> None:
            raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(django_rq, "get_queue", lambda name: Down())
    connect(owner_client, sim_url)
    account = CloudAccount.objects.get()
    assert not account.importing
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "Bringing in its locks" not in page
    assert "could not be started" in page
