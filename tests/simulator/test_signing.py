"""Every published signing vector verifies under the simulator's verifier, both as a pure function and
through the HTTP view (with the vector's credentials and the clock check off, since the vectors are old)."""

from __future__ import annotations

import http.client
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from locks.simulator import clock, conf, crypto, devices, signing
from locks.simulator.models import SimProject, SimToken
from locks.tuya import TuyaClient
from locks.tuya import signing as client_signing
from tests.conftest import vectors
from tests.locks.conftest import sim_url  # noqa: F401 - a fixture used by name
from tests.simulator.conftest import PREFIX, TuyaTestClient

VECTORS: list[dict[str, Any]] = vectors("signing")
SDK_VECTORS = [v for v in VECTORS if "request_as_sent" in v]
DOC_VECTORS = [v for v in VECTORS if "url_signed" in v["inputs"]]


def _as_received(vector: dict[str, Any]) -> tuple[str, str, str, bytes, dict[str, str]]:
    """method, path, raw query, body bytes, headers: what the server gets on the wire."""
    if "request_as_sent" in vector:
        sent = vector["request_as_sent"]
        url = urlsplit(sent["url"])
        body = (sent["body_utf8"] or "").encode()
        return sent["method"], url.path, url.query, body, sent["headers"]
    inputs = vector["inputs"]
    path, _, query = inputs["url_signed"].partition("?")
    return inputs["method"], path, query, inputs["body_utf8"].encode(), vector["expected_headers"]


def test_all_vectors_are_covered():
    assert len(SDK_VECTORS) + len(DOC_VECTORS) == len(VECTORS) >= 10


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_verifies(vector: dict[str, Any]):
    method, path, query, body, headers = _as_received(vector)
    names = [n for n in headers.get("Signature-Headers", "").split(":") if n]
    expected = signing.sign_request(
        secret=vector["inputs"]["secret"],
        client_id=headers["client_id"],
        access_token=headers.get("access_token", ""),
        t=headers["t"],
        nonce=headers.get("nonce", ""),
        method=method,
        path=path,
        query_string=query,
        body=body,
        signed_headers=[(n, headers[n]) for n in names],
    )
    assert expected == headers["sign"] == vector["derived"]["sign"]
    assert signing.canonical_url(path, query) in vector["derived"]["string_to_sign"]


@pytest.mark.django_db
@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_is_accepted_over_http(vector: dict[str, Any], settings: Any):
    settings.SIM_CLOCK_SKEW_SECONDS = 0
    method, path, query, body, headers = _as_received(vector)
    SimProject.objects.create(access_id=headers["client_id"], secret=vector["inputs"]["secret"])
    if headers.get("access_token"):
        SimToken.objects.create(
            access_id=headers["client_id"],
            uid="u",
            access_token=headers["access_token"],
            refresh_token="r-" + vector["name"],
            expires_at=timezone.now() + timedelta(hours=1),
        )
    if path.startswith("/v1.0/token/"):
        SimToken.objects.create(
            access_id=headers["client_id"],
            uid="u",
            access_token="old-" + vector["name"],
            refresh_token=path.rsplit("/", 1)[1],
            expires_at=timezone.now() + timedelta(hours=1),
        )
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k.lower() != "content-length"}
    url = PREFIX + path + (f"?{query}" if query else "")
    response = Client().generic(method, url, body, content_type="application/json", **meta)
    reply = json.loads(response.content)
    # Past the signature check: token calls succeed, the others stop at the unknown device or path.
    if signing.is_token_path(path):
        assert reply["success"], reply
    else:
        assert reply["code"] in {2010, 1108}, reply


def test_wrong_secret_does_not_verify():
    vector = SDK_VECTORS[0]
    method, path, query, body, headers = _as_received(vector)
    sign = signing.sign_request(
        secret="x" * 32, client_id=headers["client_id"], access_token="", t=headers["t"], method=method, path=path
    )
    assert not signing.signs_match(sign, headers["sign"])


def test_ticket_vector():
    vector = vectors("lock-password")[0]
    inputs = vector["inputs"]
    assert crypto.wrap_ticket_key(inputs["access_secret"], inputs["ticket_plain_key_K"]) == vector["ticket_key_hex"]
    assert (
        crypto.encrypt_pin(inputs["ticket_plain_key_K"], inputs["pin_digits"]) == vector["encrypted_password_hex_upper"]
    )
    for hex_text in (vector["encrypted_password_hex_upper"], vector["encrypted_password_hex_lower"]):
        assert crypto.decrypt_pin(inputs["ticket_plain_key_K"], hex_text) == inputs["pin_digits"]
    assert crypto.decrypt_pin(inputs["ticket_plain_key_K"], "00" * 16) is None
    assert crypto.decrypt_pin(inputs["ticket_plain_key_K"], "not hex") is None


# --- Signature-Headers: every header a client may name is verified with the value it sent -----------------------

BODY = b'{"note": "signed headers"}'
# (what the client lists in Signature-Headers and signs, the name it sends the header under, the value). WSGI keeps
# Content-Type and Content-Length without the HTTP_ prefix, folds '-' and '_' together and upper-cases every name.
SIGNED_HEADER_CASES = {
    "Content-type, as a widely used third-party client signs every POST": [
        ("Content-type", "Content-type", "application/json")
    ],
    "Content-Type": [("Content-Type", "Content-Type", "application/json; charset=utf-8")],
    "content-type, lower case": [("content-type", "content-type", "application/json")],
    "Content-Length": [("Content-Length", "Content-Length", str(len(BODY)))],
    "a custom X- header": [("X-Request-Id", "X-Request-Id", "3f2b9c")],
    "listed in one case, sent in another": [("x-Custom-HEADER", "X-CUSTOM-header", "Mixed Case Value")],
    "Tuya's documented underscore headers": [
        ("area_id", "area_id", "29a33e8796834b1efa6"),
        ("call_id", "call_id", "8a"),
    ],
    "a standard header": [("User-Agent", "User-Agent", "third-party-tuya/1.0")],
    "Tuya's own lang header": [("lang", "lang", "en")],
    "all of them at once, in the listed order": [
        ("Content-type", "Content-Type", "application/json"),
        ("Content-Length", "content-length", str(len(BODY))),
        ("X-Trace", "x-trace", "t-1"),
        ("area_id", "AREA_ID", "eu"),
    ],
}


def _signed_request(
    access_token: str, device_id: str, signed: list[tuple[str, str, str]]
) -> tuple[str, str, dict[str, str]]:
    """Headers made by our client's signer (locks/tuya/signing.py), each signed header then sent under its own name."""
    path = f"/v1.0/devices/{device_id}/door-lock/password-ticket"
    headers = client_signing.signed_headers(
        client_id=conf.access_id(),
        secret=conf.access_secret(),
        method="POST",
        path=path,
        t=str(clock.now_ms()),
        body=BODY,
        access_token=access_token,
        nonce="5138cc3a9033d69856923fd07b491173",
        extra_signed=[(listed, value) for listed, _sent, value in signed],
    )
    for listed, sent, value in signed:
        headers.pop(listed)
        headers[sent] = value
    return "POST", path, headers


def _through_django(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """The mounted simulator, through Django's WSGI handler (as under gunicorn): the test client builds the WSGI
    environ from the headers as a server does (Content-Type -> CONTENT_TYPE, X-Trace -> HTTP_X_TRACE)."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    rest = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    response = Client().generic(method, PREFIX + path, BODY, content_type=content_type, headers=rest)
    return dict(json.loads(response.content))


def _over_a_socket(base_url: str, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """The standalone simulator over HTTP: the headers on the wire exactly as given (http.client adds
    Content-Length and Host only when they are not among them)."""
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    try:
        connection.request(method, path, body=BODY, headers=headers)
        return dict(json.loads(connection.getresponse().read()))
    finally:
        connection.close()


@pytest.mark.parametrize("signed", SIGNED_HEADER_CASES.values(), ids=SIGNED_HEADER_CASES.keys())
def test_signed_headers_verify_as_sent_through_the_mounted_simulator(signed, db) -> None:
    tuya = TuyaTestClient()
    tuya.connect()
    device = devices.create_device(kind="wifi", name="signed headers")
    reply = _through_django(*_signed_request(tuya.token, device.id, signed))
    assert reply["success"], reply
    assert reply["result"]["ticket_id"]


@pytest.mark.parametrize("signed", SIGNED_HEADER_CASES.values(), ids=SIGNED_HEADER_CASES.keys())
def test_signed_headers_verify_as_sent_over_a_socket(signed, sim_url) -> None:  # noqa: F811 - the fixture
    token = TuyaClient(sim_url, conf.access_id(), conf.access_secret()).tokens.current().access_token
    device = devices.create_device(kind="zigbee", name="signed headers")
    reply = _over_a_socket(sim_url, *_signed_request(token, device.id, signed))
    assert reply["success"], reply


@pytest.mark.parametrize("through", ["django", "socket"])
def test_a_signed_header_whose_value_changed_on_the_way_is_refused(through, sim_url) -> None:  # noqa: F811
    token = TuyaClient(sim_url, conf.access_id(), conf.access_secret()).tokens.current().access_token
    device = devices.create_device(kind="zigbee", name="signed headers")
    method, path, headers = _signed_request(token, device.id, [("Content-type", "Content-type", "application/json")])
    headers["Content-type"] = "text/plain"
    reply = (
        _through_django(method, path, headers)
        if through == "django"
        else _over_a_socket(sim_url, method, path, headers)
    )
    assert (reply["success"], reply["code"]) == (False, 1004)
