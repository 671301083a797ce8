"""Temporary passwords end to end, for every lock kind: our client sends, the simulated lock's keypad decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from locks.tuya import TuyaLockError, TuyaUnsupportedError, TuyaValidationError, crypto
from locks.tuya.api import LockKind, PasswordUse
from tests.contract.conftest import APPLICABLE, KINDS, Sim, now_s

DAY = 86400


def pins(kind: str) -> tuple[str, str, str]:
    """Three distinct PINs of the right length for the kind."""
    n = LockKind(kind).pin_length
    return "4827193"[:n], "6150382"[:n], "9034716"[:n]


def deleted_phase(kind: str) -> int:
    return 4 if LockKind(kind).is_zigbee else 0


@pytest.mark.parametrize("kind", KINDS)
def test_lifecycle_create_freeze_modify_delete(sim: Sim, kind: str) -> None:
    api, dev = sim.api, sim.make_device(kind)
    pin, later_pin, new_pin = pins(kind)
    now = now_s()
    before = datetime.now(UTC)

    ticket = api.passwords.get_ticket(dev)
    created = api.passwords.create_temp_password(
        dev,
        lock_kind=kind,
        pin=pin,
        name="guest",
        effective_time=now - 60,
        invalid_time=now + DAY,
        type=0,
        ticket=ticket,
    )
    assert created.id > 0
    assert created.ticket_id == ticket.ticket_id
    # Nothing is on the lock until the delivery has happened (the lock is asked as of the moment of creation).
    assert sim.keypad_at(before, dev, pin) == {"opened": False, "reason": "unknown_code"}
    later = api.passwords.create_temp_password(
        dev,
        lock_kind=kind,
        pin=later_pin,
        name="later",
        effective_time=now + 2 * DAY,
        invalid_time=now + 3 * DAY,
        type=0,
    )

    record = sim.wait_delivered(kind, dev, created.id)
    sim.wait_delivered(kind, dev, later.id)
    if kind in APPLICABLE["keepalive_list"]:
        assert (record.operate, record.delivery_status, record.effective_flag) == ("ADD", "SUCCESS", 1)
        assert record.name == "guest"
        assert (record.effective_time, record.expired_time) == (now - 60, now + DAY)
    else:
        assert (record.phase, record.delivery_status, record.name) == (2, 2, "guest")
        assert (record.effective_time, record.invalid_time) == (now - 60, now + DAY)

    # Inside its window the code opens; a window in the future does not, yet.
    assert sim.opens(dev, pin)
    assert sim.keypad(dev, later_pin) == {"opened": False, "reason": "not_yet_valid"}

    if kind in APPLICABLE["freeze"]:
        assert api.passwords.freeze_temp_password(dev, created.id)
        assert sim.wait_delivered(kind, dev, created.id).phase == 3
        assert sim.keypad(dev, pin) == {"opened": False, "reason": "frozen"}
        assert api.passwords.unfreeze_temp_password(dev, created.id)
        assert sim.wait_delivered(kind, dev, created.id).phase == 2
        assert sim.opens(dev, pin)
    else:
        with pytest.raises(TuyaUnsupportedError) as exc:
            api.passwords.freeze_temp_password(dev, created.id)
        assert exc.value.code == 2004
        with pytest.raises(TuyaUnsupportedError):
            api.passwords.unfreeze_temp_password(dev, created.id)
        assert sim.opens(dev, pin)

    current = pin
    if LockKind(kind).is_bluetooth:
        # A Bluetooth lock keeps its PIN (2306 from the cloud) but takes a new window.
        with pytest.raises(TuyaLockError) as exc:
            api.passwords.modify_temp_password(
                dev, created.id, lock_kind=kind, pin=new_pin, effective_time=now - 60, invalid_time=now + DAY, type=0
            )
        assert exc.value.code == 2306
        assert sim.transport.count("PUT", "/modify-password") == 1  # a refusal is final: not repeated
        assert api.passwords.modify_temp_password(
            dev, created.id, lock_kind=kind, pin=pin, effective_time=now - 60, invalid_time=now + 2 * DAY, type=0
        )
        assert sim.wait_delivered(kind, dev, created.id).invalid_time == now + 2 * DAY
        assert sim.opens(dev, pin)
    else:
        assert api.passwords.modify_temp_password(
            dev, created.id, lock_kind=kind, pin=new_pin, effective_time=now - 60, invalid_time=now + DAY, type=0
        )
        sim.wait_delivered(kind, dev, created.id)
        assert sim.keypad(dev, pin) == {"opened": False, "reason": "unknown_code"}
        assert sim.opens(dev, new_pin)
        current = new_pin

    assert api.passwords.delete_temp_password(dev, created.id)
    record = sim.wait_delivered(kind, dev, created.id)
    if kind in APPLICABLE["keepalive_list"]:
        assert (record.operate, record.effective_flag) == ("DELETE", 0)
    else:
        assert record.phase == deleted_phase(kind)
    assert sim.keypad(dev, current) == {"opened": False, "reason": "unknown_code"}
    # The other password is untouched.
    assert sim.keypad(dev, later_pin)["reason"] == "not_yet_valid"


@pytest.mark.parametrize("kind", KINDS)
def test_unnamed_create_v2(sim: Sim, kind: str) -> None:
    dev, (pin, _, _) = sim.make_device(kind), pins(kind)
    now = now_s()
    if kind not in APPLICABLE["create_v2"]:
        with pytest.raises(TuyaUnsupportedError):
            sim.api.passwords.create_unnamed_temp_password(
                dev, lock_kind=kind, pin=pin, effective_time=now - 60, invalid_time=now + DAY, type=0
            )
        assert sim.lock_memory(dev) == []
        return
    created = sim.api.passwords.create_unnamed_temp_password(
        dev, lock_kind=kind, pin=pin, effective_time=now - 60, invalid_time=now + DAY, type=0
    )
    record = sim.wait_delivered(kind, dev, created.id)
    assert (record.name, record.delivery_status) == ("", 2)
    assert sim.opens(dev, pin)


@pytest.mark.parametrize("kind", KINDS)
def test_both_tickets_decrypt_with_the_access_secret(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    for ticket in (sim.api.passwords.get_ticket(dev), sim.api.passwords.get_smart_lock_ticket(dev)):
        assert len(ticket.ticket_id) == 8
        assert 0 < ticket.expire_time <= 300
        assert len(crypto.decrypt_ticket_key(ticket.ticket_key, sim.client.access_secret)) == 16
    # A smart-lock ticket encrypts a PIN as well as the door-lock one.
    pin = pins(kind)[0]
    now = now_s()
    created = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin=pin, name="t", effective_time=now - 60, invalid_time=now + DAY, type=0, ticket=ticket
    )
    sim.wait_delivered(kind, dev, created.id)
    assert sim.opens(dev, pin)


@pytest.mark.parametrize("kind", KINDS)
def test_read_endpoints_refuse_kinds_they_do_not_apply_to(sim: Sim, kind: str) -> None:
    dev, (pin, _, _) = sim.make_device(kind), pins(kind)
    now = now_s()
    created = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin=pin, name="r", effective_time=now - 60, invalid_time=now + DAY, type=0
    )
    calls = {
        "get": lambda: sim.api.passwords.get_temp_password(dev, created.id),
        "list": lambda: sim.api.passwords.list_temp_passwords(dev),
        "keepalive_list": lambda: sim.api.passwords.list_keepalive_temp_passwords(dev),
        "clear": lambda: sim.api.passwords.clear_temp_passwords(dev),
        "issue": lambda: sim.api.passwords.sync_passwords(dev),
    }
    for name, call in calls.items():
        if kind in APPLICABLE[name]:
            if name in ("get", "list", "keepalive_list"):
                call()
        else:
            with pytest.raises(TuyaUnsupportedError):
                call()


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_pin_length_is_refused_before_sending(sim: Sim, kind: str) -> None:
    dev = sim.make_device(kind)
    wrong = "1" * (13 - LockKind(kind).pin_length)  # 6 for Wi-Fi kinds, 7 for the others
    now = now_s()
    named, unnamed = sim.api.passwords.create_temp_password, sim.api.passwords.create_unnamed_temp_password
    for create, extra in ((named, {"name": "x"}), (unnamed, {})):
        with pytest.raises(TuyaValidationError, match="digits"):
            create(dev, lock_kind=kind, pin=wrong, effective_time=now, invalid_time=now + DAY, type=0, **extra)
    assert sim.transport.sent == []  # not even a token or a ticket was fetched
    assert sim.lock_memory(dev) == []


def test_the_simulator_refuses_a_wrong_length_pin_that_bypasses_our_check(sim: Sim) -> None:
    """The other side of the contract: a PIN of the wrong length, sent anyway, is refused with 1101."""
    from locks.tuya import TuyaParameterError

    dev = sim.make_device("wifi")
    ticket = sim.api.passwords.get_ticket(dev)
    ticket_id, encrypted = sim.api.passwords.encrypt_pin(dev, "123456", ticket)
    now = now_s()
    body = {
        "name": "bypass",
        "password": encrypted,
        "password_type": "ticket",
        "ticket_id": ticket_id,
        "effective_time": now,
        "invalid_time": now + DAY,
    }
    with pytest.raises(TuyaParameterError) as exc:
        sim.client.post(f"/v1.0/devices/{dev}/door-lock/temp-password", body)
    assert exc.value.code == 1101
    assert sim.lock_memory(dev) == []


@pytest.mark.parametrize("kind", ["wifi", "zigbee", "ble", "wifi_keepalive"])
def test_one_time_password_opens_once(sim: Sim, kind: str) -> None:
    dev, (pin, _, _) = sim.make_device(kind), pins(kind)
    now = now_s()
    created = sim.api.passwords.create_temp_password(
        dev,
        lock_kind=kind,
        pin=pin,
        name="once",
        effective_time=now - 60,
        invalid_time=now + DAY,
        type=PasswordUse.ONCE,
    )
    sim.wait_delivered(kind, dev, created.id)
    assert sim.opens(dev, pin)
    assert sim.keypad(dev, pin) == {"opened": False, "reason": "already_used"}
    # Used up, it no longer counts as valid.
    if kind in APPLICABLE["list"]:
        assert [p.id for p in sim.api.passwords.list_temp_passwords(dev, valid=True)] == []
        assert [p.id for p in sim.api.passwords.list_temp_passwords(dev, valid=False)] == [created.id]
    if kind in APPLICABLE["keepalive_list"]:
        assert [p.password_id for p in sim.api.passwords.list_keepalive_temp_passwords(dev, valid=True)] == []


def test_list_filters_valid_and_invalid(sim: Sim) -> None:
    dev, kind = sim.make_device("zigbee"), "zigbee"
    now = now_s()
    keep = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin="111222", name="keep", effective_time=now - 60, invalid_time=now + DAY, type=0
    )
    gone = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin="333444", name="gone", effective_time=now - 60, invalid_time=now + DAY, type=0
    )
    sim.wait_delivered(kind, dev, gone.id)
    sim.api.passwords.delete_temp_password(dev, gone.id)
    sim.wait_delivered(kind, dev, gone.id)
    assert [p.id for p in sim.api.passwords.list_temp_passwords(dev, valid=True)] == [keep.id]
    assert [p.id for p in sim.api.passwords.list_temp_passwords(dev, valid=False)] == [gone.id]
    assert sorted(p.id for p in sim.api.passwords.list_temp_passwords(dev)) == sorted([keep.id, gone.id])


def test_keepalive_list_pages_by_last_row_key(sim: Sim) -> None:
    kind = "access_control"
    dev = sim.make_device(kind)
    now = now_s()
    ids = [
        sim.api.passwords.create_temp_password(
            dev, lock_kind=kind, pin=f"70000{i}0", name=f"p{i}", effective_time=now - 60, invalid_time=now + DAY
        ).id
        for i in range(5)
    ]
    seen: list[int] = []
    page = sim.api.passwords.list_keepalive_temp_passwords(dev, page_size=2)
    while True:
        seen += [p.password_id for p in page]
        if not page.has_more:
            break
        assert page.last_row_key
        page = sim.api.passwords.list_keepalive_temp_passwords(dev, page_size=2, last_row_key=page.last_row_key)
    assert seen == sorted(ids)


def test_issue_password_resends_what_the_gateway_gave_up_on(sim: Sim, sim_settings: object) -> None:
    kind = "zigbee"
    dev = sim.make_device(kind)
    sim.set_online(dev, False)
    now = now_s()
    created = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin="246813", name="late", effective_time=now - 60, invalid_time=now + DAY, type=0
    )
    # The gateway retries three times, then reports the failure.
    record = sim.wait_delivered(kind, dev, created.id)
    assert (record.delivery_status, record.phase) == (3, 5)
    assert sim.keypad(dev, "246813")["opened"] is False
    sim.set_online(dev, True)
    assert sim.api.passwords.sync_passwords(dev, created.id)
    record = sim.wait_delivered(kind, dev, created.id)
    assert (record.delivery_status, record.phase) == (2, 2)
    assert sim.opens(dev, "246813")
    # Once a minute per device.
    from locks.tuya import TuyaError

    with pytest.raises(TuyaError) as exc:
        sim.api.passwords.sync_passwords(dev)
    assert exc.value.code == 1113
    assert sim.transport.count("POST", "/issue-password") == 2  # not retried


def test_clear_all_on_the_hotel_lock(sim: Sim) -> None:
    kind = "zigbee_hotel"
    dev = sim.make_device(kind)
    now = now_s()
    # The hotel lock refuses overlapping windows: one guest after the other.
    first = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin="135790", name="a", effective_time=now - 60, invalid_time=now + DAY, type=0
    )
    second = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin="975310", name="b", effective_time=now + DAY, invalid_time=now + 2 * DAY, type=0
    )
    overlapping = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin="555111", name="c", effective_time=now, invalid_time=now + 3600, type=0
    )
    for pw in (first, second):
        assert sim.wait_delivered(kind, dev, pw.id).delivery_status == 2
    assert sim.wait_delivered(kind, dev, overlapping.id).delivery_status == 6
    assert sim.opens(dev, "135790")
    assert sim.keypad(dev, "555111") == {"opened": False, "reason": "unknown_code"}

    assert sim.api.passwords.clear_temp_passwords(dev)
    for pw in (first, second):
        assert sim.wait_delivered(kind, dev, pw.id).phase == 4
    assert sim.keypad(dev, "135790") == {"opened": False, "reason": "unknown_code"}
    assert [p.id for p in sim.api.passwords.list_temp_passwords(dev, valid=True)] == []


def test_window_ends(sim: Sim) -> None:
    kind = "wifi"
    dev = sim.make_device(kind)
    now = now_s()
    created = sim.api.passwords.create_temp_password(
        dev, lock_kind=kind, pin="8642097", name="w", effective_time=now - 60, invalid_time=now + 3600
    )
    sim.wait_delivered(kind, dev, created.id)
    at = datetime.fromtimestamp(now, UTC)
    assert sim.keypad_at(at + timedelta(minutes=59), dev, "8642097")["opened"] is True
    assert sim.keypad_at(at + timedelta(minutes=61), dev, "8642097") == {"opened": False, "reason": "expired"}
