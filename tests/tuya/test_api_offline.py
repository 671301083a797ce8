"""api.offline: offline passwords (v1.0, v1.1), renaming them, dynamic passwords."""

from __future__ import annotations

import pytest

from locks.tuya.api import Lang, OfflinePasswordV11, OfflineType, OfflineTypeV10
from locks.tuya.errors import TuyaServerError

DEV = "6cdb36b2e489885fa57lzm"
EFF, INV = 1623747600, 1623769200


def test_create_offline_password_v10(api, fake):
    fake.reply({"offline_temp_password": "0282554135"})
    result = api.offline.create_offline_password(
        DEV, type=OfflineTypeV10.CLEAR_ALL, effective_time=EFF, invalid_time=INV, lang=Lang.EN, name="clear"
    )
    sent = fake.only()
    assert (sent.method, sent.path) == ("POST", f"/v1.0/devices/{DEV}/door-lock/offline-temp-password")
    assert sent.json == {"effective_time": EFF, "invalid_time": INV, "type": 9, "lang": "en", "name": "clear"}
    assert result.password == "0282554135"
    assert "0282554135" not in repr(result)


def test_create_offline_password_v11_multiple(api, fake):
    fake.reply(
        {
            "effective_time": EFF,
            "offline_temp_password_id": "2345011",
            "offline_temp_password": "0282554135",
            "invalid_time": INV,
            "offline_temp_password_name": "name267",
        }
    )
    result = api.offline.create_offline_password_v11(
        DEV, type=OfflineType.MULTIPLE, effective_time=EFF, invalid_time=INV, name="name267"
    )
    sent = fake.only()
    assert (sent.method, sent.path) == ("POST", f"/v1.1/devices/{DEV}/door-lock/offline-temp-password")
    assert sent.json == {"type": "multiple", "effective_time": EFF, "invalid_time": INV, "name": "name267"}
    assert result == OfflinePasswordV11(
        password_id="2345011", password="0282554135", name="name267", effective_time=EFF, invalid_time=INV, raw={}
    )
    assert "0282554135" not in repr(result)


def test_create_offline_password_v11_once_lets_the_cloud_pick_the_hours(api, fake):
    fake.reply({"offline_temp_password": "12345678"})
    result = api.offline.create_offline_password_v11(DEV, type="once")
    assert fake.only().json == {"type": "once"}
    assert (result.password, result.effective_time) == ("12345678", None)


def test_create_offline_password_v11_clear_one(api, fake):
    fake.reply({"offline_temp_password": "99"})
    api.offline.create_offline_password_v11(DEV, type="clear_one", password_id=2345011)
    assert fake.only().json == {"type": "clear_one", "password_id": "2345011"}


def test_offline_creates_are_not_retried(api, fake):
    fake.fail(500, "system error")
    with pytest.raises(TuyaServerError):
        api.offline.create_offline_password_v11(DEV, type="once")
    assert len(fake.sent) == 1


def test_rename_offline_password(api, fake):
    assert api.offline.rename_offline_password(DEV, 2345011, "new0ne")
    sent = fake.only()
    assert (sent.method, sent.path) == ("PUT", f"/v1.0/devices/{DEV}/door-lock/offline-temp-password/2345011")
    assert sent.json == {"password_name": "new0ne"}


def test_get_dynamic_password(api, fake):
    fake.reply({"dynamic_password": "86420135"})
    result = api.offline.get_dynamic_password(DEV)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query) == ("GET", f"/v1.0/devices/{DEV}/door-lock/dynamic-password", {})
    assert result.password == "86420135"
    assert "86420135" not in repr(result)
