"""Every published signing vector verifies under the simulator's verifier, both as a pure function and
through the HTTP view (with the vector's credentials and the clock check off, since the vectors are old)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from locks.simulator import crypto, signing
from locks.simulator.models import SimProject, SimToken
from tests.conftest import vectors
from tests.simulator.conftest import PREFIX

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
