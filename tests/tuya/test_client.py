"""The transport against a local server that verifies signatures like the Tuya cloud."""

import json
import logging
import time

import pytest

from locks.tuya import TuyaClient, errors
from tests.tuya.cloud_server import FakeTuyaCloud

CLIENT_ID = "testclientid00000001"
SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def cloud():
    with FakeTuyaCloud(CLIENT_ID, SECRET) as server:
        yield server


@pytest.fixture
def client(cloud):
    return TuyaClient(cloud.url, CLIENT_ID, SECRET, backoff_seconds=0.01, timeout=(2, 2))


def test_request_is_signed_and_returns_the_envelope(cloud, client):
    cloud.reply("GET", "/v1.0/devices/d1", {"id": "d1", "online": True})
    envelope = client.get("/v1.0/devices/d1")
    assert envelope["success"] is True
    assert envelope["result"] == {"id": "d1", "online": True}
    assert len(envelope["tid"]) == 32


def test_query_and_body_reach_the_server_as_signed(cloud, client):
    cloud.reply("GET", "/v1.0/q", lambda r: r.query)
    cloud.reply("POST", "/v1.0/b", lambda r: r.json())
    assert client.get("/v1.0/q", {"z": 1, "a": "x y", "flag": False})["result"] == {
        "z": "1",
        "a": "x y",
        "flag": "false",
    }
    body = {"name": "Zoë", "n": [1, 2]}
    assert client.post("/v1.0/b", body)["result"] == body


def test_one_token_for_many_calls(cloud, client):
    cloud.reply("GET", "/v1.0/x", {})
    for _ in range(5):
        client.get("/v1.0/x")
    assert cloud.grants == 1


def test_expired_token_is_refreshed_and_the_call_retried_once(cloud, client):
    cloud.reply("POST", "/v1.0/x", {"done": True})
    client.post("/v1.0/x")
    cloud.expire_all_tokens()
    assert client.post("/v1.0/x")["result"] == {"done": True}
    assert (cloud.grants, cloud.refreshes) == (1, 1)


def test_token_refused_twice_gives_a_token_error(cloud, client):
    cloud.reply("GET", "/v1.0/x", {"success": False, "code": 1010, "msg": "token invalid"})
    with pytest.raises(errors.TuyaTokenError):
        client.get("/v1.0/x")
    assert cloud.refreshes == 1  # one refresh, one retry, then the error


def test_rate_limited_post_is_retried_because_it_was_not_carried_out(cloud, client):
    cloud.reply("POST", "/v1.0/x", {"success": False, "code": 1199, "msg": "too frequent"}, {"ok": 1})
    assert client.post("/v1.0/x")["result"] == {"ok": 1}


def test_rate_limit_that_persists_raises_after_the_retry_budget(cloud, client):
    cloud.reply("POST", "/v1.0/x", {"success": False, "code": 1110, "msg": "concurrent request over limit"})
    with pytest.raises(errors.TuyaRateLimitedError) as info:
        client.post("/v1.0/x")
    assert info.value.code == 1110
    assert sum(1 for r in cloud.requests if r.path == "/v1.0/x") == client.max_retries + 1


def test_server_error_on_post_is_not_repeated(cloud, client):
    cloud.reply("POST", "/v1.0/x", {"success": False, "code": 500, "msg": "system error"})
    with pytest.raises(errors.TuyaServerError):
        client.post("/v1.0/x")
    assert sum(1 for r in cloud.requests if r.path == "/v1.0/x") == 1


def test_server_error_on_get_is_retried(cloud, client):
    cloud.reply("GET", "/v1.0/x", {"success": False, "code": 500, "msg": "system error"}, {"ok": 1})
    assert client.get("/v1.0/x")["result"] == {"ok": 1}


def test_timeout_on_post_is_reported_not_repeated(cloud):
    client = TuyaClient(cloud.url, CLIENT_ID, SECRET, timeout=(1, 0.3))
    cloud.reply("POST", "/v1.0/slow", lambda r: time.sleep(0.6) or {})
    with pytest.raises(errors.TuyaTimeoutError, match="No answer within 0.3 s"):
        client.post("/v1.0/slow")
    assert sum(1 for r in cloud.requests if r.path == "/v1.0/slow") == 1


def test_unreachable_endpoint_is_a_network_error():
    client = TuyaClient("http://127.0.0.1:9", CLIENT_ID, SECRET, backoff_seconds=0.001, timeout=(0.5, 0.5))
    with pytest.raises(errors.TuyaNetworkError, match="Could not connect to http://127.0.0.1:9"):
        client.get("/v1.0/x")


def test_non_json_reply_is_a_protocol_error(cloud, client):
    cloud.reply("GET", "/v1.0/html", {"_http_status": 200, "_body": b"<html>hello</html>"})
    with pytest.raises(errors.TuyaProtocolError, match="not a Tuya JSON envelope"):
        client.get("/v1.0/html")


def test_http_404_page_is_a_protocol_error(cloud, client):
    cloud.reply("GET", "/v1.0/gone", {"_http_status": 404, "_body": b"Not found"})
    with pytest.raises(errors.TuyaProtocolError, match="HTTP 404"):
        client.get("/v1.0/gone")


def test_wrong_secret_is_a_signature_error(cloud):
    client = TuyaClient(cloud.url, CLIENT_ID, "f" * 32)
    with pytest.raises(errors.TuyaSignatureError) as info:
        client.get("/v1.0/x")
    assert info.value.code == 1004


def test_unknown_client_id_is_an_auth_error(cloud):
    with pytest.raises(errors.TuyaAuthError) as info:
        TuyaClient(cloud.url, "nobody", SECRET).get("/v1.0/x")
    assert info.value.code == 1005


def test_unknown_region_name_is_a_config_error():
    with pytest.raises(errors.TuyaConfigError, match="region name"):
        TuyaClient("mars", CLIENT_ID, SECRET)


def test_region_names_resolve():
    assert TuyaClient("eu", CLIENT_ID, SECRET).base_url == "https://openapi.tuyaeu.com"
    assert TuyaClient("us-east", CLIENT_ID, SECRET).base_url == "https://openapi-ueaz.tuyaus.com"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (1004, errors.TuyaSignatureError),
        (1106, errors.TuyaPermissionError),
        (28841105, errors.TuyaPermissionError),
        (2004, errors.TuyaUnsupportedError),
        (2009, errors.TuyaUnsupportedError),
        (1111, errors.TuyaRateLimitedError),
        (2001, errors.TuyaDeviceOfflineError),
        (2312, errors.TuyaDeviceOfflineError),
        (1100, errors.TuyaParameterError),
        (1109, errors.TuyaParameterError),
        (2010, errors.TuyaNotFoundError),
        (2303, errors.TuyaLockError),
        (500, errors.TuyaServerError),
        (9999, errors.TuyaError),
    ],
)
def test_each_code_maps_to_its_error_class(cloud, client, code, cls):
    cloud.reply("PUT", "/v1.0/e", {"success": False, "code": code, "msg": f"message {code}"})
    with pytest.raises(cls) as info:
        client.put("/v1.0/e")
    assert type(info.value) is cls
    assert (info.value.code, info.value.msg) == (code, f"message {code}")
    assert str(info.value) == f"Tuya error {code}: message {code} (on /v1.0/e)"


def test_no_secret_or_token_in_logs_reprs_or_errors(cloud, client, caplog):
    caplog.set_level(logging.DEBUG)
    cloud.reply("GET", "/v1.0/x", {"success": False, "code": 1106, "msg": "permission deny"})
    with pytest.raises(errors.TuyaPermissionError) as info:
        client.get("/v1.0/x")
    cloud.expire_all_tokens()
    cloud.reply("GET", "/v1.0/y", {})
    client.get("/v1.0/y")  # refresh: the refresh token travels in the path
    token = client.tokens.current()
    texts = [caplog.text, repr(client), str(info.value), repr(info.value), repr(token), json.dumps(info.value.envelope)]
    for text in texts:
        assert SECRET not in text
        assert token.access_token not in text
        assert token.refresh_token not in text
    assert "/v1.0/token/***" in caplog.text


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        # An IPv6 address that leads to an IPv4 one is what that IPv4 address is (Python's is_global says True
        # for the prefixes): NAT64, well-known and local-use; 6to4; IPv4-compatible; Teredo, server and client.
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b::a00:1", False),
        ("64:ff9b::808:808", True),
        ("64:ff9b:1::a00:1", False),
        ("64:ff9b:1::7f00:1", False),
        ("2002:a9fe:a9fe::1", False),
        ("2002:a00:1::1", False),
        ("2002:808:808::1", True),
        ("::127.0.0.1", False),
        ("::a9fe:a9fe", False),
        ("2001:0:a9fe:a9fe::1", False),  # Teredo server 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo client 10.0.0.1 (stored inverted)
        ("fe80::1%eth0", False),
        ("not an address", False),
    ],
)
def test_public_addresses_judge_the_ipv4_address_inside(address, public):
    from locks.tuya.client import is_public_address

    assert is_public_address(address) is public
