"""api.passwords: tickets, temporary passwords and advanced passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from locks.tuya import crypto
from locks.tuya.api import (
    Ack,
    AdvancedType,
    CreatedPassword,
    LockKind,
    PasswordTicket,
    PasswordUse,
    TempPassword,
)
from locks.tuya.errors import TuyaLockError
from locks.tuya.schedule import ScheduleEntry
from tests.tuya.fakes import PLAIN_K, TICKET_ID, TICKET_KEY, WIFI_PIN, WIFI_PIN_ENCRYPTED

DEV = "vdevo153459260090544"
EFF, INV = 1700000000, 1700086400


def ticket() -> PasswordTicket:
    return PasswordTicket(ticket_id=TICKET_ID, ticket_key=TICKET_KEY, expire_time=300)


# --- tickets ---


def test_get_ticket_posts_without_body_and_parses(api, fake):
    fake.reply_ticket()
    result = api.passwords.get_ticket(DEV)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query, sent.body) == (
        "POST",
        f"/v1.0/devices/{DEV}/door-lock/password-ticket",
        {},
        None,
    )
    assert result == PasswordTicket(ticket_id=TICKET_ID, ticket_key=TICKET_KEY, expire_time=300)
    assert result.raw["result"]["ticket_id"] == TICKET_ID
    assert TICKET_KEY not in repr(result)


def test_get_smart_lock_ticket_uses_the_smart_lock_path(api, fake):
    fake.reply_ticket("abc")
    result = api.passwords.get_smart_lock_ticket(DEV)
    sent = fake.only()
    assert (sent.method, sent.path) == ("POST", f"/v1.0/smart-lock/devices/{DEV}/password-ticket")
    assert result.ticket_id == "abc"


# --- create ---


def test_create_temp_password_fetches_a_ticket_and_sends_the_pin_encrypted(api, fake):
    fake.reply_ticket()
    fake.reply({"id": 124367346})
    created = api.passwords.create_temp_password(
        DEV,
        lock_kind=LockKind.WIFI,
        pin=WIFI_PIN,
        name="Tenant A",
        effective_time=EFF,
        invalid_time=INV,
        type=PasswordUse.MULTIPLE,
        phone="123547127362",
        time_zone="Europe/Paris",
        schedule=[ScheduleEntry(working_day=62, start_minute=720, end_minute=1080)],
    )
    assert [(s.method, s.path) for s in fake.sent] == [
        ("POST", f"/v1.0/devices/{DEV}/door-lock/password-ticket"),
        ("POST", f"/v1.0/devices/{DEV}/door-lock/temp-password"),
    ]
    assert fake.sent[1].json == {
        "name": "Tenant A",
        "effective_time": EFF,
        "invalid_time": INV,
        "type": 0,
        "phone": "123547127362",
        "schedule_list": [{"effective_time": 720, "invalid_time": 1080, "working_day": 62}],
        "time_zone": "Europe/Paris",
        "password": WIFI_PIN_ENCRYPTED,  # the shared vector, computed independently of our crypto
        "password_type": "ticket",
        "ticket_id": TICKET_ID,
    }
    assert created == CreatedPassword(id=124367346, ticket_id=TICKET_ID, raw={})
    assert created.raw["result"] == {"id": 124367346}


def test_create_temp_password_with_a_given_ticket_and_aware_datetimes(api, fake):
    fake.reply({"id": 7})
    start = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    api.passwords.create_temp_password(
        DEV,
        lock_kind="zigbee",
        pin="123456",
        name="guest",
        effective_time=start,
        invalid_time=start.astimezone(timezone(timedelta(hours=2))) + timedelta(days=1),
        type=1,
        ticket=ticket(),
    )
    body = fake.only().json
    assert (body["effective_time"], body["invalid_time"], body["type"]) == (EFF, INV, 1)
    assert crypto.decrypt_pin(body["password"], PLAIN_K) == "123456"
    assert "phone" not in body
    assert "schedule_list" not in body
    assert "time_zone" not in body


def test_create_unnamed_temp_password_uses_v2_without_name(api, fake):
    fake.reply({"id": 9})
    created = api.passwords.create_unnamed_temp_password(
        DEV, lock_kind=LockKind.BLE, pin="654321", effective_time=EFF, invalid_time=INV, ticket=ticket()
    )
    sent = fake.only()
    assert (sent.method, sent.path) == ("POST", f"/v2.0/devices/{DEV}/door-lock/temp-password")
    assert set(sent.json) == {"effective_time", "invalid_time", "password", "password_type", "ticket_id"}
    assert crypto.decrypt_pin(sent.json["password"], PLAIN_K) == "654321"
    assert created.id == 9


def test_create_is_not_retried_on_a_server_error(api, fake):
    fake.fail(500, "system error")
    with pytest.raises(Exception, match="system error"):
        api.passwords.create_temp_password(
            DEV, lock_kind="wifi", pin=WIFI_PIN, name="n", effective_time=EFF, invalid_time=INV, ticket=ticket()
        )
    assert len(fake.sent) == 1


# --- sync, get, list ---


def test_sync_passwords_with_and_without_id(api, fake):
    assert api.passwords.sync_passwords(DEV, password_id=1001) == Ack(ok=True, raw={})
    assert api.passwords.sync_passwords(DEV)
    first, second = fake.sent
    assert (first.method, first.path, first.json) == (
        "POST",
        f"/v1.0/devices/{DEV}/door-lock/issue-password",
        {"password_id": 1001},
    )
    assert second.json == {}


def test_get_temp_password_parses_every_field(api, fake):
    fake.reply(
        {
            "id": 1001,
            "effective_time": 1530841779,
            "invalid_time": 1530881779,
            "name": "Tenant A's password",
            "phase": 2,
            "phone": "123547127362",
            "time_zone": "Asia/Shanghai",
            "delivery_status": 1,
            "schedule_list": [{"effective_time": 720, "invalid_time": 1080, "working_day": 0}],
            "unknown_extra": "ignored",
        }
    )
    result = api.passwords.get_temp_password(DEV, 1001)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/devices/{DEV}/door-lock/temp-password/1001")
    assert isinstance(result, TempPassword)
    assert (result.id, result.name, result.phase, result.delivery_status) == (1001, "Tenant A's password", 2, 1)
    assert (result.effective_time, result.invalid_time, result.time_zone) == (1530841779, 1530881779, "Asia/Shanghai")
    assert result.schedule_list[0].start_minute == 720
    assert result.schedule_list[0].working_day == 0
    assert result.raw["success"] is True


def test_get_temp_password_tolerates_missing_fields(api, fake):
    fake.reply({})
    result = api.passwords.get_temp_password(DEV, "42")
    assert (result.id, result.name, result.phase, result.schedule_list) == (0, "", None, ())


def test_list_temp_passwords_reads_password_id_as_in_the_sample(api, fake):
    fake.reply([{"password_id": 1001, "name": "A", "phase": 1, "delivery_status": 2}, {"id": 1002}])
    result = api.passwords.list_temp_passwords(DEV, valid=True)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query) == (
        "GET",
        f"/v1.0/devices/{DEV}/door-lock/temp-passwords",
        {"valid": "true"},
    )
    assert [p.id for p in result] == [1001, 1002]
    assert len(result) == 2
    assert result[0].delivery_status == 2


def test_list_temp_passwords_without_filter_sends_no_query(api, fake):
    fake.reply([])
    assert len(api.passwords.list_temp_passwords(DEV)) == 0
    assert fake.only().query == {}


def test_list_keepalive_temp_passwords(api, fake):
    fake.reply(
        {
            "has_more": False,
            "last_row_key": "ABCDEFG",
            "records": [
                {
                    "delivery_status": "SUCCESS",
                    "effective_flag": 1,
                    "effective_time": 1628006400,
                    "expired_time": 1628265540,
                    "gmt_create": 1628088594,
                    "name": "369369",
                    "operate": "CREATE",
                    "password_id": 3351004,
                    "phone": "",
                    "pwd_type_code": "temp",
                    "schedule_details": [{"all_day": False, "start_minute": 0, "end_minute": 2359, "working_day": 101}],
                }
            ],
        }
    )
    page = api.passwords.list_keepalive_temp_passwords(DEV, valid=True, last_row_key="XYZ", page_size=10)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/smart-lock/devices/{DEV}/stand-by-lock-temp-passwords")
    assert sent.query == {"valid": "true", "lastRowKey": "XYZ", "pageSize": "10"}
    assert (page.has_more, page.last_row_key, len(page)) == (False, "ABCDEFG", 1)
    item = page[0]
    assert (item.password_id, item.delivery_status, item.effective_flag, item.expired_time) == (
        3351004,
        "SUCCESS",
        1,
        1628265540,
    )
    assert item.schedule_details[0].end_minute == 2359  # read as returned, even out of range


def test_list_keepalive_accepts_the_page_without_result_wrapper(api, fake):
    fake.reply_envelope({"success": True, "has_more": True, "last_row_key": "K", "records": [{"password_id": 5}]})
    page = api.passwords.list_keepalive_temp_passwords(DEV)
    assert fake.only().query == {}
    assert (page.has_more, page.last_row_key, page[0].password_id) == (True, "K", 5)


# --- modify, freeze, unfreeze, delete, clear ---


def test_modify_temp_password(api, fake):
    fake.reply_ticket()
    fake.reply(True)
    result = api.passwords.modify_temp_password(
        DEV, 1001, lock_kind=LockKind.WIFI_KEEPALIVE, pin=WIFI_PIN, effective_time=EFF, invalid_time=INV, phone=""
    )
    ticket_call, modify = fake.sent
    assert ticket_call.path == f"/v1.0/devices/{DEV}/door-lock/password-ticket"
    assert (modify.method, modify.path) == ("PUT", f"/v1.0/devices/{DEV}/door-lock/temp-passwords/1001/modify-password")
    assert modify.json == {
        "effective_time": EFF,
        "invalid_time": INV,
        "password": WIFI_PIN_ENCRYPTED,
        "password_type": "ticket",
        "ticket_id": TICKET_ID,
    }
    assert result.ok is True


def test_modify_on_bluetooth_sends_the_new_window_with_the_same_six_digit_pin(api, fake):
    # Bluetooth locks cannot change a PIN, only its window: the caller passes the current PIN.
    fake.reply_ticket()
    fake.reply(True)
    api.passwords.modify_temp_password(DEV, 7, lock_kind="ble", pin="123456", effective_time=EFF, invalid_time=INV)
    modify = fake.sent[-1]
    assert modify.method == "PUT"
    assert (modify.json["effective_time"], modify.json["invalid_time"]) == (EFF, INV)


@pytest.mark.parametrize(
    ("method", "http", "suffix"),
    [
        ("freeze_temp_password", "PUT", "/freeze-password"),
        ("unfreeze_temp_password", "PUT", "/unfreeze-password"),
        ("delete_temp_password", "DELETE", ""),
    ],
)
def test_state_changes(api, fake, method, http, suffix):
    result = getattr(api.passwords, method)(DEV, "1001")
    sent = fake.only()
    assert (sent.method, sent.path, sent.body) == (
        http,
        f"/v1.0/devices/{DEV}/door-lock/temp-passwords/1001{suffix}",
        None,
    )
    assert result
    assert isinstance(result, Ack)


def test_state_changes_are_retried_on_server_errors_because_they_are_idempotent(api, fake):
    fake.fail(500, "system error")
    fake.reply(True)
    assert api.passwords.freeze_temp_password(DEV, 1)
    assert len(fake.sent) == 2


def test_a_false_result_is_a_falsy_ack(api, fake):
    fake.reply(False)
    assert not api.passwords.delete_temp_password(DEV, 1)


def test_lock_errors_surface_typed(api, fake):
    fake.fail(2303, "number of passwords reached the limit")
    with pytest.raises(TuyaLockError):
        api.passwords.delete_temp_password(DEV, 1)


def test_clear_temp_passwords_uses_the_specs_rest_password_path(api, fake):
    assert api.passwords.clear_temp_passwords(DEV)
    sent = fake.only()
    assert (sent.method, sent.path) == ("POST", f"/v1.0/devices/{DEV}/door-lock/temp-passwords/rest-password")


# --- advanced passwords ---


def test_set_advanced_password(api, fake):
    fake.reply_ticket()
    fake.reply(True)
    assert api.passwords.set_advanced_password(DEV, advanced_type=AdvancedType.EMERGENCY, pin="112233")
    sent = fake.sent[1]
    assert (sent.method, sent.path) == ("POST", f"/v1.0/devices/{DEV}/door-lock/advanced-password")
    assert sent.json["advanced_type"] == "emergency"
    assert (sent.json["password_type"], sent.json["ticket_id"]) == ("ticket", TICKET_ID)
    assert crypto.decrypt_pin(sent.json["password"], PLAIN_K) == "112233"


def test_get_advanced_password(api, fake):
    fake.reply({"advanced_type": "admin", "phase": 2})
    result = api.passwords.get_advanced_password(DEV, "admin")
    sent = fake.only()
    assert (sent.method, sent.path, sent.query) == (
        "GET",
        f"/v1.0/devices/{DEV}/door-lock/advanced-password",
        {"advanced_type": "admin"},
    )
    assert (result.advanced_type, result.phase) == ("admin", 2)


# --- secrets ---


def test_no_pin_ticket_key_or_secret_in_reprs_or_request_headers(api, fake):
    fake.reply_ticket()
    fake.reply({"id": 1})
    created = api.passwords.create_temp_password(
        DEV, lock_kind="wifi", pin=WIFI_PIN, name="n", effective_time=EFF, invalid_time=INV
    )
    text = repr(created) + repr(api) + repr(api.passwords) + repr(ticket())
    assert WIFI_PIN not in text
    assert TICKET_KEY not in text
    assert "4OHBOnWO" not in text
    for sent in fake.sent:
        assert WIFI_PIN.encode() not in (sent.body or b"")
        assert WIFI_PIN not in sent.url
