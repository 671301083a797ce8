"""api.remote_unlock: switches, unlocking with and without a password, revoking, door-operate."""

from __future__ import annotations

import pytest

from locks.tuya import crypto
from locks.tuya.api import CancelReason, PasswordTicket, RemoteUnlockType
from locks.tuya.errors import TuyaServerError
from tests.tuya.fakes import PLAIN_K, TICKET_ID, TICKET_KEY

DEV = "6c362ac3c53fbd6f3ewqfa"


def test_list_remote_unlocks_accepts_the_samples_single_object(api, fake):
    fake.reply({"remote_unlock_type": "remoteUnlockWithPwd", "open": True})
    result = api.remote_unlock.list_remote_unlocks(DEV)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/devices/{DEV}/door-lock/remote-unlocks")
    assert [(s.remote_unlock_type, s.open) for s in result] == [("remoteUnlockWithPwd", True)]


def test_list_remote_unlocks_accepts_a_list(api, fake):
    fake.reply(
        [
            {"remote_unlock_type": "remoteUnlockWithPwd", "open": True},
            {"remote_unlock_type": "remoteUnlockWithoutPwd", "open": False},
        ]
    )
    assert len(api.remote_unlock.list_remote_unlocks(DEV)) == 2


def test_set_remote_unlock(api, fake):
    assert api.remote_unlock.set_remote_unlock(DEV, RemoteUnlockType.WITH_PASSWORD, True)
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "POST",
        f"/v1.0/devices/{DEV}/door-lock/remote-unlock/config",
        {"remote_unlock_type": "remoteUnlockWithPwd", "open": True},
    )


def test_open_door_with_password(api, fake):
    fake.reply_ticket()
    fake.reply(True)
    assert api.remote_unlock.open_door_with_password(DEV, pin="246802")
    ticket_call, open_call = fake.sent
    assert ticket_call.path == f"/v1.0/devices/{DEV}/door-lock/password-ticket"
    assert (open_call.method, open_call.path) == ("POST", f"/v1.0/devices/{DEV}/door-lock/open-door")
    assert (open_call.json["password_type"], open_call.json["ticket_id"]) == ("ticket", TICKET_ID)
    assert crypto.decrypt_pin(open_call.json["password"], PLAIN_K) == "246802"


def test_open_door_without_password_fetches_a_smart_lock_ticket(api, fake):
    fake.reply_ticket("sl-ticket")
    fake.reply(True)
    assert api.remote_unlock.open_door(DEV)
    ticket_call, open_call = fake.sent
    assert (ticket_call.method, ticket_call.path) == ("POST", f"/v1.0/smart-lock/devices/{DEV}/password-ticket")
    assert (open_call.method, open_call.path, open_call.json) == (
        "POST",
        f"/v1.0/devices/{DEV}/door-lock/password-free/open-door",
        {"ticket_id": "sl-ticket"},
    )


def test_unlocking_is_never_retried_after_a_server_error(api, fake):
    fake.fail(500, "system error")
    with pytest.raises(TuyaServerError):
        api.remote_unlock.open_door(DEV, ticket="given")
    assert len(fake.sent) == 1


def test_open_door_channel_v11_uses_the_door_lock_ticket(api, fake):
    fake.reply_ticket("dl-ticket")
    fake.reply(True)
    assert api.remote_unlock.open_door_channel(DEV, 1)
    ticket_call, open_call = fake.sent
    assert ticket_call.path == f"/v1.0/devices/{DEV}/door-lock/password-ticket"
    assert (open_call.method, open_call.path, open_call.json) == (
        "POST",
        f"/v1.1/devices/{DEV}/door-lock/password-free/open-door",
        {"ticket_id": "dl-ticket", "channel_id": 1},
    )


def test_open_door_channel_with_a_given_ticket(api, fake):
    ticket = PasswordTicket(ticket_id="WHmutLIq", ticket_key=TICKET_KEY, expire_time=300)
    api.remote_unlock.open_door_channel(DEV, 2, ticket=ticket)
    assert fake.only().json == {"ticket_id": "WHmutLIq", "channel_id": 2}


def test_cancel_remote_unlock(api, fake):
    assert api.remote_unlock.cancel_remote_unlock(DEV, CancelReason.REJECT)
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "PUT",
        f"/v1.0/devices/{DEV}/door-lock/password-free/open-door/cancel",
        {"type": 1},
    )


def test_door_operate(api, fake):
    fake.reply_ticket("sl")
    fake.reply(True)
    assert api.remote_unlock.door_operate(DEV, open=False)
    ticket_call, operate = fake.sent
    assert ticket_call.path == f"/v1.0/smart-lock/devices/{DEV}/password-ticket"
    assert (operate.method, operate.path, operate.json) == (
        "POST",
        f"/v1.0/smart-lock/devices/{DEV}/password-free/door-operate",
        {"ticket_id": "sl", "open": False},
    )


def test_door_operate_without_open_leaves_it_out(api, fake):
    api.remote_unlock.door_operate(DEV, ticket="t1")
    assert fake.only().json == {"ticket_id": "t1"}
