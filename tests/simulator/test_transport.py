"""Transport as Tuya does it: header checks, clock, signature, tokens, envelopes, error codes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from locks.simulator import clock, conf
from locks.simulator.models import SimPassword, SimToken
from tests.simulator.conftest import PREFIX, TuyaTestClient

pytestmark = pytest.mark.django_db


def _assert_failure(reply: dict[str, Any], code: int) -> None:
    assert reply["success"] is False
    assert reply["code"] == code, reply
    assert reply["msg"]
    assert isinstance(reply["t"], int)
    assert re.fullmatch(r"[0-9a-f]{32}", reply["tid"])


def test_demo_credentials_are_used_when_unset():
    assert conf.DEMO_ACCESS_ID == "simdemoaccessid00001"
    assert len(conf.DEMO_ACCESS_SECRET) == 32


def test_configured_credentials_replace_the_demo_ones(settings):
    settings.TUYA_ACCESS_ID = "realprojectid0000001"
    settings.TUYA_ACCESS_SECRET = "s" * 32
    client = TuyaTestClient()
    assert client.access_id == "realprojectid0000001"
    assert client.connect()["success"]
    _assert_failure(TuyaTestClient(conf.DEMO_ACCESS_ID, conf.DEMO_ACCESS_SECRET).request("GET", "/v1.0/token"), 1005)


def test_token_grant_result_and_envelope():
    reply = TuyaTestClient().connect()
    assert set(reply) == {"result", "success", "t", "tid"}
    assert re.fullmatch(r"[0-9a-f]{32}", reply["tid"])
    result = reply["result"]
    assert set(result) == {"access_token", "expire_time", "refresh_token", "uid"}
    assert result["expire_time"] == 7200


def test_repeated_grant_returns_the_live_token_with_remaining_time(sim_clock):
    first = TuyaTestClient().connect()["result"]
    sim_clock.advance(100)
    second = TuyaTestClient().connect()["result"]
    assert second["access_token"] == first["access_token"]
    assert second["expire_time"] == 7100


def test_grant_type_must_be_1():
    _assert_failure(TuyaTestClient().request("GET", "/v1.0/token", {"grant_type": 2}), 1003)


def test_token_ttl_is_configurable(settings):
    settings.SIM_TOKEN_TTL = 60
    assert TuyaTestClient().connect()["result"]["expire_time"] == 60


def test_expired_token_gets_1010(tuya, sim_clock, make_device):
    device = make_device()
    sim_clock.advance(7201)
    _assert_failure(tuya.request("GET", f"/v1.0/devices/{device.id}"), 1010)
    tuya.connect()  # the expired one is not handed out again
    assert tuya.ok("GET", f"/v1.0/devices/{device.id}")["id"] == device.id


def test_refresh_works_once_and_kills_the_old_pair(tuya, make_device):
    device = make_device()
    old_token, old_refresh = tuya.token, tuya.refresh_token
    result = tuya.ok("GET", f"/v1.0/token/{old_refresh}")
    assert result["access_token"] != old_token
    assert result["expire_time"] == 7200
    _assert_failure(tuya.request("GET", f"/v1.0/token/{old_refresh}"), 1010)
    _assert_failure(tuya.request("GET", f"/v1.0/devices/{device.id}"), 1010)
    tuya.token = result["access_token"]
    assert tuya.ok("GET", f"/v1.0/devices/{device.id}")["id"] == device.id


def test_refresh_works_after_the_access_token_expired(tuya, sim_clock):
    sim_clock.advance(8000)
    assert tuya.ok("GET", f"/v1.0/token/{tuya.refresh_token}")["expire_time"] == 7200


def test_refresh_signed_with_the_access_token_is_refused(tuya):
    # Token calls are signed without access_token; a client that includes it computes another sign.
    from locks.simulator import signing

    t = str(clock.now_ms())
    path = f"/v1.0/token/{tuya.refresh_token}"
    to_sign = signing.string_to_sign("GET", b"", [], path)
    bad = signing.compute_sign(
        secret=tuya.secret, client_id=tuya.access_id, access_token=tuya.token, t=t, nonce="", to_sign=to_sign
    )
    _assert_failure(tuya.request("GET", path, sign=bad, t=t), 1004)


@pytest.mark.parametrize("header", ["client_id", "sign", "t"])
def test_missing_header_gets_1105(tuya, header):
    _assert_failure(tuya.request("GET", "/v1.0/devices/x", headers={header: None}), 1105)


def test_missing_access_token_gets_1002(tuya):
    _assert_failure(tuya.request("GET", "/v1.0/devices/x", token=""), 1002)


def test_unknown_token_gets_1010(tuya):
    _assert_failure(tuya.request("GET", "/v1.0/devices/x", token="f" * 32), 1010)


def test_unknown_client_id_gets_1005():
    _assert_failure(TuyaTestClient("nosuchproject0000000", "x" * 32).request("GET", "/v1.0/token"), 1005)


@pytest.mark.parametrize("offset_ms", [-301_000, 301_000])
def test_clock_skew_gets_1013(tuya, offset_ms):
    _assert_failure(tuya.request("GET", "/v1.0/devices/x", t=str(clock.now_ms() + offset_ms)), 1013)


def test_small_clock_skew_is_fine(tuya, make_device):
    device = make_device()
    assert tuya.request("GET", f"/v1.0/devices/{device.id}", t=str(clock.now_ms() - 290_000))["success"]


def test_bad_sign_gets_1004(tuya):
    _assert_failure(tuya.request("GET", "/v1.0/devices/x", sign="0" * 64), 1004)


def test_sign_method_other_than_hmac_sha256_gets_1004(tuya, make_device):
    device = make_device()
    _assert_failure(tuya.request("GET", f"/v1.0/devices/{device.id}", headers={"sign_method": "MD5"}), 1004)


def test_old_style_sign_gets_1004(tuya):
    import hashlib
    import hmac

    t = str(clock.now_ms())
    old = hmac.new(tuya.secret.encode(), (tuya.access_id + tuya.token + t).encode(), hashlib.sha256)
    _assert_failure(tuya.request("GET", "/v1.0/devices/x", sign=old.hexdigest().upper(), t=t), 1004)


def test_query_is_signed_sorted_and_decoded(tuya, make_device):
    device = make_device("wifi")
    # Sent in insertion order with a percent-encoded value; signed sorted and decoded by the test client.
    reply = tuya.request("GET", f"/v1.0/devices/{device.id}/door-lock/temp-passwords", {"valid": "true", "a b": "c/d"})
    assert reply["success"], reply


def test_nonce_and_signature_headers_are_verified(tuya, make_device):
    from locks.simulator import signing

    device = make_device()
    t, path = str(clock.now_ms()), f"/v1.0/devices/{device.id}"
    headers = [("area_id", "29a33e8796834b1efa6"), ("call_id", "8afdb70ab2ed11eb85290242ac130003")]
    sign = signing.sign_request(
        secret=tuya.secret,
        client_id=tuya.access_id,
        access_token=tuya.token,
        t=t,
        nonce="abc",
        method="GET",
        path=path,
        signed_headers=headers,
    )
    extra = {"nonce": "abc", "Signature-Headers": "area_id:call_id", **dict(headers)}
    assert tuya.request("GET", path, sign=sign, t=t, headers=extra)["success"]
    extra["call_id"] = "tampered"
    _assert_failure(tuya.request("GET", path, sign=sign, t=t, headers=extra), 1004)


def test_body_is_hashed_as_received(tuya, make_device):
    """The SDK quirk: tuya-connector-python's post(path, {}) hashes '' but sends '{}'.

    The simulator hashes the bytes it received, as the formula says, so that request gets 1004. A client that
    sends no body for body-less calls (post(path) / post(path, None)) works here and on the real cloud alike;
    a client relying on '{}' being read as empty would only work if Tuya happened to normalise bodies.
    """
    from locks.simulator import signing

    device = make_device()
    path = f"/v1.0/devices/{device.id}/door-lock/password-ticket"
    t = str(clock.now_ms())
    sign_of_empty = signing.sign_request(
        secret=tuya.secret, client_id=tuya.access_id, access_token=tuya.token, t=t, method="POST", path=path
    )
    _assert_failure(tuya.request("POST", path, body=b"{}", sign=sign_of_empty, t=t), 1004)
    assert tuya.request("POST", path, body=b"{}")["success"]  # '{}' signed as '{}' is fine
    assert tuya.request("POST", path)["success"]


def test_compact_and_spaced_json_both_verify(tuya, make_device):
    device = make_device()
    path = f"/v1.0/devices/{device.id}/door-lock/password-ticket"
    assert tuya.request("POST", path, body=b'{"a":1}')["success"]
    assert tuya.request("POST", path, body=b'{"a": 1}')["success"]


def test_unknown_path_gets_1108(tuya):
    _assert_failure(tuya.request("GET", "/v1.0/no/such/thing"), 1108)
    _assert_failure(tuya.request("DELETE", "/v1.0/token"), 1108)


def test_unknown_device_gets_2010(tuya):
    _assert_failure(tuya.request("GET", "/v1.0/devices/vdevo000000000000000"), 2010)


def test_malformed_json_gets_1109_and_changes_nothing(tuya, make_device):
    device = make_device()
    reply = tuya.request("POST", f"/v1.0/devices/{device.id}/door-lock/temp-password", body=b'{"name": ')
    _assert_failure(reply, 1109)
    reply = tuya.request("POST", f"/v1.0/devices/{device.id}/door-lock/temp-password", body=b"[1, 2]")
    _assert_failure(reply, 1109)
    assert not SimPassword.objects.exists()


def test_refusals_are_http_200_even_without_any_header():
    response = Client().get(f"{PREFIX}/v1.0/devices/x")
    assert response.status_code == 200
    _assert_failure(json.loads(response.content), 1105)


def test_device_details_fields(tuya, make_device):
    device = make_device("zigbee", battery=15, time_zone="Asia/Shanghai")
    result = tuya.ok("GET", f"/v1.0/devices/{device.id}")
    assert result["local_key"] == device.local_key
    assert result["online"] is True
    assert result["sub"] is True
    assert result["time_zone"] == "+08:00"
    assert {"code": "residual_electricity", "value": 15} in result["status"]
    for field in ("category", "product_id", "product_name", "uuid", "uid", "active_time", "create_time", "name"):
        assert field in result


def test_tokens_survive_in_the_database(tuya):
    assert SimToken.objects.filter(access_token=tuya.token).exists()
