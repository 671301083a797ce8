"""The api methods over real HTTP against the signature-checking test server: bodies, queries, odd paths."""

from __future__ import annotations

import pytest

from locks.tuya import TuyaClient, crypto
from locks.tuya.api import LockApi
from tests.tuya.cloud_server import FakeTuyaCloud
from tests.tuya.fakes import ACCESS_ID, ACCESS_SECRET, PLAIN_K, TICKET_KEY, WIFI_PIN_ENCRYPTED

DEV = "vdevo153459260090544"


@pytest.fixture
def cloud():
    with FakeTuyaCloud(ACCESS_ID, ACCESS_SECRET) as server:
        yield server


@pytest.fixture
def signed_api(cloud) -> LockApi:
    return LockApi(TuyaClient(cloud.url, ACCESS_ID, ACCESS_SECRET, backoff_seconds=0.01, timeout=(2, 2)))


def test_create_temp_password_end_to_end(cloud, signed_api):
    cloud.reply("POST", f"/v1.0/devices/{DEV}/door-lock/password-ticket", {"ticket_id": "t9", "ticket_key": TICKET_KEY})
    cloud.reply("POST", f"/v1.0/devices/{DEV}/door-lock/temp-password", lambda r: {"id": len(r.json()["password"])})
    created = signed_api.passwords.create_temp_password(
        DEV, lock_kind="wifi", pin="1234567", name="Tenant A", effective_time=1700000000, invalid_time=1700086400
    )
    assert created.id == 32
    sent = cloud.requests[-1].json()
    assert (sent["password"], sent["ticket_id"], sent["password_type"]) == (WIFI_PIN_ENCRYPTED, "t9", "ticket")


def test_query_with_commas_and_booleans_signs(cloud, signed_api):
    cloud.reply("GET", f"/v1.0/smart-lock/devices/{DEV}/users", lambda r: {"records": [], "total": 0, "echo": r.query})
    page = signed_api.users.list_home_users(DEV, codes="unlock_fingerprint,unlock_password", page_size=100)
    assert page.raw["result"]["echo"] == {
        "codes": "unlock_fingerprint,unlock_password",
        "page_no": "1",
        "page_size": "100",
    }
    cloud.reply("GET", f"/v1.1/devices/{DEV}/door-lock/open-logs", lambda r: {"logs": [], "total": 0, "echo": r.query})
    logs = signed_api.records.list_open_logs_v11(
        DEV, start_time=1553053133000, end_time=1614008938000, show_media_info=True
    )
    assert logs.raw["result"]["echo"]["showMediaInfo"] == "true"


def test_comma_joined_path_and_enrollment_pin_sign(cloud, signed_api):
    cloud.reply("POST", f"/v1.0/smart-lock/devices/{DEV}/users/a1,b2/actions/delete-users-issue", True)
    assert signed_api.users.delete_users(DEV, ["a1", "b2"])
    cloud.reply("POST", f"/v1.0/devices/{DEV}/door-lock/password-ticket", {"ticket_id": "t1", "ticket_key": TICKET_KEY})
    cloud.reply("PUT", f"/v1.0/devices/{DEV}/door-lock/actions/entry", lambda r: r.json())
    ack = signed_api.unlock_methods.enroll_unlock_method(
        DEV, user_id="u", user_type=2, unlock_type="password", pin="024680"
    )
    assert crypto.decrypt_pin(ack.raw["result"]["password"], PLAIN_K) == "024680"
