"""api.unlock_methods: assignment, enrollment, names, duress alarms and attributes of unlocking methods."""

from __future__ import annotations

import pytest

from locks.tuya import crypto
from locks.tuya.api import KeyUserType, OpmodeAttribute, UnlockDpCode, UnlockKey, UnlockRef, UnlockType
from locks.tuya.errors import TuyaServerError
from tests.tuya.fakes import PLAIN_K, TICKET_ID

DEV = "vdevo16232264458xxxx"


def test_allocate_unlock_methods(api, fake):
    assert api.unlock_methods.allocate_unlock_methods(
        DEV, "30665363", [UnlockRef(UnlockDpCode.PASSWORD, 2), UnlockRef("unlock_card", 0)]
    )
    sent = fake.only()
    assert (sent.method, sent.path) == ("POST", f"/v1.0/devices/{DEV}/door-lock/opmodes/actions/allocate")
    assert sent.json == {
        "user_id": "30665363",
        "unlock_list": [{"dp_code": "unlock_password", "unlock_sn": 2}, {"dp_code": "unlock_card", "unlock_sn": 0}],
    }


def test_list_assigned_keys(api, fake):
    fake.reply({"unlock_keys": [{"unlock_no": 3, "unlock_type": "card", "hijack": False}]})
    keys = api.unlock_methods.list_assigned_keys(DEV, KeyUserType.NOT_HOME, "u-1", unlock_type=UnlockType.CARD)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query) == (
        "GET",
        f"/v1.0/devices/{DEV}/door-lock/user-types/2/users/u-1/assigned-keys",
        {"unlock_type": "card"},
    )
    assert keys.items == (UnlockKey(unlock_no=3, unlock_type="card", hijack=False, raw={}),)


def test_list_unassigned_keys(api, fake):
    fake.reply({"unlock_keys": [{"unlock_no": 30, "unlock_type": "fingerprint"}]})
    keys = api.unlock_methods.list_unassigned_keys(DEV)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query) == ("GET", f"/v1.0/devices/{DEV}/door-lock/unassigned-keys", {})
    assert (keys[0].unlock_no, keys[0].unlock_type, keys[0].hijack) == (30, "fingerprint", False)


def test_sync_unlock_methods_sends_codes_in_the_query(api, fake):
    assert api.unlock_methods.sync_unlock_methods(DEV, "unlock_fingerprint,unlock_password")
    sent = fake.only()
    assert (sent.method, sent.path, sent.query, sent.body) == (
        "POST",
        f"/v1.0/smart-lock/devices/{DEV}/opmodes/actions/sync",
        {"codes": "unlock_fingerprint,unlock_password"},
        None,
    )


def test_enroll_unlock_method_card(api, fake):
    assert api.unlock_methods.enroll_unlock_method(DEV, user_id="000xxxwsn", user_type=2, unlock_type="card")
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "PUT",
        f"/v1.0/devices/{DEV}/door-lock/actions/entry",
        {"user_id": "000xxxwsn", "user_type": 2, "unlock_type": "card"},
    )


def test_enroll_unlock_method_password_on_bluetooth_encrypts_with_a_ticket(api, fake):
    fake.reply_ticket()
    fake.reply(True)
    api.unlock_methods.enroll_unlock_method(
        DEV, user_id="u", user_type=KeyUserType.HOME, unlock_type=UnlockType.PASSWORD, pin="135790"
    )
    ticket_call, entry = fake.sent
    assert ticket_call.path == f"/v1.0/devices/{DEV}/door-lock/password-ticket"
    assert (entry.json["password_type"], entry.json["ticket_id"]) == ("ticket", TICKET_ID)
    assert crypto.decrypt_pin(entry.json["password"], PLAIN_K) == "135790"


def test_enrollment_is_not_retried(api, fake):
    fake.fail(500, "system error")
    with pytest.raises(TuyaServerError):
        api.unlock_methods.enroll_unlock_method(DEV, user_id="u", user_type=1, unlock_type="face")
    assert len(fake.sent) == 1


def test_delete_unlock_key(api, fake):
    assert api.unlock_methods.delete_unlock_key(
        DEV, user_type=2, user_id="u-9", unlock_type="fingerprint", unlock_no=30
    )
    sent = fake.only()
    assert (sent.method, sent.path) == (
        "DELETE",
        f"/v1.0/devices/{DEV}/door-lock/user-types/2/users/u-9/unlock-types/fingerprint/keys/30",
    )


def test_cancel_enrollment(api, fake):
    assert api.unlock_methods.cancel_enrollment(DEV, UnlockType.CARD)
    sent = fake.only()
    assert (sent.method, sent.path, sent.body) == (
        "PUT",
        f"/v1.0/devices/{DEV}/door-lock/unlock-types/card/actions/cancel",
        None,
    )


def test_rename_unlock_method(api, fake):
    assert api.unlock_methods.rename_unlock_method(DEV, 2, dp_code="unlock_telecontrol_kit", unlock_name="Remote")
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "PUT",
        f"/v1.0/devices/{DEV}/door-lock/opmodes/2",
        {"dp_code": "unlock_telecontrol_kit", "unlock_name": "Remote"},
    )


def test_set_duress(api, fake):
    assert api.unlock_methods.set_duress(DEV, "card", 130)
    sent = fake.only()
    assert (sent.method, sent.path) == ("PUT", f"/v1.0/devices/{DEV}/door-lock/unlock-types/card/keys/130/hijack")


def test_delete_duress(api, fake):
    assert api.unlock_methods.delete_duress(DEV, UnlockDpCode.FINGERPRINT, 1)
    sent = fake.only()
    assert (sent.method, sent.path) == (
        "DELETE",
        f"/v1.0/smart-lock/devices/{DEV}/unlock-types/unlock_fingerprint/keys/1/hijack",
    )


def test_list_user_unlock_methods(api, fake):
    fake.reply(
        [
            {
                "phase": 3,
                "dp_code": "unlock_password",
                "unlock_attr": 0,
                "unlock_name": "lin",
                "user_name": "James",
                "user_id": "28873683",
                "unlock_sn": 3,
                "unlock_id": "12-3",
                "lock_user_id": 2,
                "opmode_id": "729548",
                "user_type": 20,
                "delivery_status": "SUCCESS",
                "allocate_flag": 0,
                "notify_info": {"app_send": 0, "msg_phone": "86-15156789943"},
            }
        ]
    )
    result = api.unlock_methods.list_user_unlock_methods(
        DEV, "33970143", codes=["unlock_fingerprint", "unlock_password", "unlock_card"], page_size=20
    )
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/smart-lock/devices/{DEV}/opmodes/33970143")
    assert sent.query == {
        "codes": "unlock_fingerprint,unlock_password,unlock_card",
        "unlock_name": "",
        "page_no": "1",
        "page_size": "20",
    }
    method = result[0]
    assert (method.opmode_id, method.unlock_sn, method.phase, method.allocate_flag) == ("729548", 3, 3, False)
    assert (method.notify_info.app_send, method.notify_info.msg_phone) == (0, "86-15156789943")


def test_list_user_unlock_methods_reads_notify_info_given_as_json_text(api, fake):
    fake.reply([{"opmode_id": "1", "notify_info": '{"app_send": 1}'}])
    assert api.unlock_methods.list_user_unlock_methods(DEV, "u")[0].notify_info.app_send == 1
    assert fake.only().query["codes"] == ""


def test_set_opmode_attribute(api, fake):
    assert api.unlock_methods.set_opmode_attribute(DEV, 1234, OpmodeAttribute.PHOTO, True)
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "POST",
        f"/v1.0/smart-lock/devices/{DEV}/opmodes/1234/attribute/2/opmode-attr",
        {"enabled": True},
    )
