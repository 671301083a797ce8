"""Where this server may be made to send requests (#11 B.6, and B.2 for the embedded simulator): a cloud account's
endpoint is a Tuya region; a URL only when TUYA_ALLOW_URL_ENDPOINTS is on; a private, loopback or link-local address
only when TUYA_ALLOW_PRIVATE_ENDPOINTS is on; "embedded" only while EMBEDDED_SIMULATOR is on. The dashboard, the
admin, the service and the client each hold the rule, so a stored row gets no further than a clear error; redirects
are not followed; an unknown server's words never reach a page."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from locks import accounts, codes
from locks.admin import CloudAccountForm
from locks.models import CloudAccount
from locks.simulator import conf as sim_conf
from tenants.models import Organisation
from tests.locks.conftest import run_workers
from tests.locks.test_setup_views import connect

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    """An HTTP server on loopback that counts the requests it gets and answers each with `reply`."""

    def __init__(self, status: int = 200, body: dict[str, Any] | None = None, **headers: str) -> None:
        self.hits: list[str] = []
        self.connections = 0
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                recorder.hits.append(self.path)
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                recorder.connections += 1  # every connection accepted, whether a request follows or not
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder(body={"success": False, "code": 1004, "msg": "sign invalid"})
    yield server
    server.close()


@pytest.fixture
def production_rules(settings: Any) -> Any:
    """The defaults with DEBUG off."""
    settings.TUYA_ALLOW_URL_ENDPOINTS = False
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    settings.EMBEDDED_SIMULATOR = False
    return settings


def _stored(org: Organisation, endpoint: str) -> CloudAccount:
    """An account as an old row (or a raw write) has it: never validated."""
    account = CloudAccount.objects.create(
        organisation=org, name="Stored", endpoint=endpoint, access_id=sim_conf.DEMO_ACCESS_ID,
        access_secret=sim_conf.DEMO_ACCESS_SECRET,
    )  # fmt: skip
    accounts.request_import(account)
    return account


def _import(account: CloudAccount) -> CloudAccount:
    run_workers()
    account.refresh_from_db()
    assert not account.importing
    return account


# --- the rule in the dashboard and the admin ----------------------------------------------------------------------


PRIVATE_URLS = [
    "http://127.0.0.1:8000",
    "http://127.1.2.3",
    "http://localhost:8000",  # a host name that resolves to loopback
    "http://10.1.2.3",
    "http://172.16.0.1",
    "http://192.168.1.1",
    "http://169.254.169.254/latest/meta-data",  # link-local: the cloud metadata service
    "http://100.64.0.1",  # shared address space
    "http://0.0.0.0:8000",
    "http://[::1]:8000",
    "http://[fe80::1]",
    "http://[fd00::1]",
    "http://[::ffff:127.0.0.1]",
    "http://[64:ff9b::a9fe:a9fe]",  # IPv6 forms that wrap a private IPv4 address: NAT64 of the metadata service,
    "http://[64:ff9b:1::a00:1]",  # local-use NAT64,
    "http://[2002:a9fe:a9fe::1]",  # 6to4,
    "http://[::127.0.0.1]",  # IPv4-compatible,
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]",  # Teredo, to the client 10.0.0.1
    "https://2130706433",  # 127.0.0.1 as one number
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_and_local_addresses_are_refused_unless_allowed(
    owner_client: Client, sim_url: str, queues: None, settings: Any, url: str
) -> None:
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    response = connect(owner_client, sim_url, endpoint=url)
    assert response.status_code == 400
    assert "private or local address" in response.content.decode()
    assert not CloudAccount.objects.exists()
    form = CloudAccountForm(data={"organisation": Organisation.objects.get().pk, "name": "x", "endpoint": url,
                                  "access_id": "a", "access_secret": "s"})  # fmt: skip
    assert not form.is_valid()
    assert "private or local address" in str(form.errors["endpoint"])


def test_urls_are_refused_in_production_regions_are_taken(
    owner_client: Client, sim_url: str, queues: None, production_rules: Any
) -> None:
    for url in ("https://openapi.example.com", sim_url):
        response = connect(owner_client, sim_url, endpoint=url, access_id=f"id-{len(url)}")
        assert response.status_code == 400
        assert "does not take URLs" in response.content.decode()
    assert not CloudAccount.objects.exists()
    assert connect(owner_client, sim_url, endpoint="eu").status_code == 302
    # Tuya's own data centre spelled as its URL is that region
    assert connect(owner_client, sim_url, endpoint="https://openapi.tuyaus.com/", access_id="other").status_code == 302
    assert CloudAccount.objects.count() == 2


def test_the_embedded_simulator_is_refused_while_it_is_off(
    owner_client: Client, sim_url: str, queues: None, settings: Any
) -> None:
    settings.EMBEDDED_SIMULATOR = False
    response = connect(owner_client, sim_url, endpoint="embedded")
    assert response.status_code == 400
    assert "embedded simulator is off" in response.content.decode()
    assert not CloudAccount.objects.exists()
    settings.EMBEDDED_SIMULATOR = True
    assert connect(owner_client, sim_url, endpoint="embedded").status_code == 302


def test_with_both_settings_on_the_simulator_on_loopback_is_taken(
    owner_client: Client, sim_url: str, queues: None, settings: Any
) -> None:
    settings.TUYA_ALLOW_URL_ENDPOINTS = settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = True
    assert connect(owner_client, sim_url).status_code == 302
    account = _import(CloudAccount.objects.get())
    assert account.last_error == ""


# --- stored rows: the client path holds the rule too --------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "said"),
    [
        ({"TUYA_ALLOW_URL_ENDPOINTS": False}, "does not take URLs"),
        ({"TUYA_ALLOW_PRIVATE_ENDPOINTS": False}, "private or local address"),
    ],
)
def test_a_stored_account_is_not_called_against_the_rules(
    org: Organisation, queues: None, recorder: Recorder, settings: Any, rules: dict[str, bool], said: str
) -> None:
    for name, value in rules.items():
        setattr(settings, name, value)
    account = _import(_stored(org, recorder.url))
    assert said in account.last_error
    assert recorder.hits == []


def test_a_code_on_a_lock_of_a_stored_account_is_not_sent_against_the_rules(
    org: Organisation, unit: Any, queues: None, recorder: Recorder, settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    from locks.models import AccessCode, Lock
    from tests.locks.conftest import window

    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    account = CloudAccount.objects.create(
        organisation=org, name="Stored", endpoint=recorder.url, access_id="a", access_secret="s"
    )
    lock = Lock.objects.create(
        organisation=org, cloud_account=account, unit=unit, device_id="d1", name="Room 1", kind="wifi"
    )
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    run_workers()
    code.refresh_from_db()
    assert code.status == AccessCode.Status.REQUESTED  # nothing reached any lock
    account.refresh_from_db()
    assert "private or local address" in account.last_error  # said on the account (and its alert), locks paused
    lock.refresh_from_db()
    assert lock.paused_until is not None
    assert recorder.hits == []


def test_a_host_name_that_resolves_to_a_private_address_is_not_called(
    org: Organisation, queues: None, recorder: Recorder, settings: Any
) -> None:
    """The name is only looked up when connecting (as after a DNS change): the client checks the address it
    reached before sending anything."""
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    account = _import(_stored(org, f"http://localhost:{recorder.port}"))
    assert "private or local address" in account.last_error
    assert recorder.hits == []


def test_the_client_checks_the_address_it_reached(recorder: Recorder) -> None:
    from locks.tuya import TuyaClient
    from locks.tuya.client import Urllib3Transport
    from locks.tuya.errors import TuyaConfigError

    for host in ("127.0.0.1", "localhost"):
        client = TuyaClient(f"http://{host}:{recorder.port}", "a", "s", transport=Urllib3Transport(allow_private=False))
        with pytest.raises(TuyaConfigError, match="private or local address"):
            client.get("/v1.0/devices/d1")
    assert recorder.hits == []
    allowed = TuyaClient(recorder.url, "a", "s", transport=Urllib3Transport(), max_retries=0)
    with pytest.raises(Exception, match="1004"):
        allowed.get("/v1.0/devices/d1")
    assert recorder.hits


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_private_address_is_refused_before_connecting_in_the_same_words_open_port_or_not(
    recorder: Recorder,
) -> None:
    """Otherwise "connection refused" against "private address" would tell which ports listen on a private network
    (anyone who may connect a cloud project could scan it from the setup page)."""
    from locks.tuya import TuyaClient
    from locks.tuya.client import Urllib3Transport
    from locks.tuya.errors import TuyaConfigError

    said: dict[str, set[str]] = {}
    for host in ("127.0.0.1", "localhost"):
        for port in (recorder.port, _closed_port()):
            client = TuyaClient(f"http://{host}:{port}", "a", "s", transport=Urllib3Transport(allow_private=False))
            with pytest.raises(TuyaConfigError) as refused:
                client.get("/v1.0/devices/d1")
            said.setdefault(host, set()).add(refused.value.msg)
    assert said == {host: {f"{host} is a private or local address; this server does not call those"} for host in said}
    assert recorder.connections == 0


def test_the_check_on_saving_says_the_same_as_the_check_on_connecting(settings: Any) -> None:
    from locks.cloud.endpoints import check_endpoint
    from locks.cloud.port import EndpointRefused

    settings.TUYA_ALLOW_URL_ENDPOINTS = True
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    for host in ("10.1.2.3", "localhost"):
        with pytest.raises(EndpointRefused) as refused:
            check_endpoint(f"http://{host}:22")
        assert refused.value.message == f"{host} is a private or local address; this server does not call those."


def test_a_stored_embedded_account_fails_clearly_while_the_simulator_is_off(
    org: Organisation, queues: None, settings: Any
) -> None:
    from locks.push import push_url_for

    settings.EMBEDDED_SIMULATOR = False
    account = _import(_stored(org, "embedded"))
    assert "embedded simulator is off" in account.last_error
    assert ".." not in account.last_error
    assert push_url_for(account) is None


def test_redirects_are_not_followed(org: Organisation, queues: None) -> None:
    target = Recorder(body={"success": True, "result": {}, "t": 1})
    mover = Recorder(status=302, Location=f"{target.url}/v1.0/token")
    try:
        account = _import(_stored(org, mover.url))
    finally:
        mover.close()
        target.close()
    assert mover.hits
    assert target.hits == []
    assert "HTTP 302" in account.last_error


# --- an unknown server's words never reach a page -----------------------------------------------------------------


def test_an_unknown_servers_text_is_not_shown(owner_client: Client, org: Organisation, queues: None) -> None:
    words = "Call 0800-SCAM now <b>to restore access</b>"
    server = Recorder(body={"success": False, "code": 1004, "msg": words})
    try:
        account = _import(_stored(org, server.url))
    finally:
        server.close()
    assert account.last_error.startswith("The endpoint refused the request (Tuya 1004).")
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "0800-SCAM" not in page
    assert "0800-SCAM" not in account.last_error
    assert "The endpoint refused the request" in page


def test_tuyas_own_text_is_still_shown(org: Organisation) -> None:
    from locks.cloud.tuya.client import api_for

    for endpoint, believed in (("eu", True), ("https://openapi.tuyaeu.com", True), ("http://127.0.0.1:9", False)):
        account = CloudAccount(pk=1, organisation=org, name="x", endpoint=endpoint, access_id="a", access_secret="s")
        assert api_for(account).client.server_text is believed
