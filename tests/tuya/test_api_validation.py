"""Validation before sending: every rule refuses with TuyaValidationError and nothing goes out (no token either)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from locks.tuya.api import (
    MAX_PAGE_SIZE,
    LockApi,
    LockKind,
    PasswordTicket,
    ScheduleWindow,
    UnlockRef,
)
from locks.tuya.errors import TuyaValidationError
from locks.tuya.schedule import ScheduleEntry
from tests.tuya.fakes import TICKET_KEY

DEV = "dev1"
EFF, INV = 1700000000, 1700086400
TICKET = PasswordTicket(ticket_id="t1", ticket_key=TICKET_KEY, expire_time=300)


def bad_entry(working_day: int, start: int, end: int) -> ScheduleEntry:
    """A ScheduleEntry built without its own checks, as from_api does, to prove the API re-checks."""
    return ScheduleEntry.from_api({"working_day": working_day, "effective_time": start, "invalid_time": end})


def create(**overrides: Any) -> Callable[[LockApi], object]:
    kwargs: dict[str, Any] = {
        "lock_kind": "wifi",
        "pin": "1234567",
        "name": "guest",
        "effective_time": EFF,
        "invalid_time": INV,
        "ticket": TICKET,
    }
    kwargs.update(overrides)
    return lambda api: api.passwords.create_temp_password(DEV, **kwargs)


CASES: dict[str, tuple[Callable[[LockApi], object], str]] = {
    # lock kinds and PINs
    "unknown lock kind": (create(lock_kind="lora"), "lock_kind must be one of"),
    "wifi pin of 6 digits": (create(pin="123456"), "7 digits for a wifi lock"),
    "access control pin of 6 digits": (create(lock_kind="access_control", pin="123456"), "7 digits"),
    "zigbee pin of 7 digits": (create(lock_kind="zigbee", pin="1234567", type=0), "6 digits for a zigbee lock"),
    "ble pin of 7 digits": (create(lock_kind=LockKind.BLE, pin="1234567"), "6 digits"),
    "pin with letters": (create(pin="12a4567"), "digits only"),
    "pin with non-ascii digits": (create(pin="١٢٣٤٥٦٧"), "digits only"),
    "pin as int": (create(pin=1234567), "string of digits"),
    "zigbee without type": (create(lock_kind="zigbee", pin="123456"), "type .* required for Zigbee"),
    "zigbee hotel without type": (create(lock_kind="zigbee_hotel", pin="123456"), "required for Zigbee"),
    "type outside 0/1": (create(type=2), "type must be one of"),
    "type as bool": (create(type=True), "type must be one of"),
    # timestamps
    "naive datetime": (create(effective_time=datetime(2024, 1, 1)), "naive datetime"),
    "milliseconds": (create(effective_time=EFF * 1000, invalid_time=INV * 1000), "looks like milliseconds"),
    "9 digits": (create(effective_time=99999999), "10-digit"),
    "timestamp as string": (create(effective_time="1700000000"), "Unix time in seconds"),
    "timestamp as bool": (create(effective_time=True), "Unix time in seconds"),
    "effective equals invalid": (create(invalid_time=EFF), "effective_time must be before invalid_time"),
    "effective after invalid": (create(effective_time=INV, invalid_time=EFF), "must be before"),
    "aware datetimes in the wrong order": (
        create(effective_time=datetime(2024, 1, 2, tzinfo=UTC), invalid_time=datetime(2024, 1, 1, tzinfo=UTC)),
        "must be before",
    ),
    # schedules
    "schedule without time zone": (create(schedule=[ScheduleEntry(1, 0, 60)]), "time_zone is required"),
    "working_day 0": (create(schedule=[bad_entry(0, 0, 60)], time_zone="UTC"), "working_day"),
    "working_day 128": (create(schedule=[bad_entry(128, 0, 60)], time_zone="UTC"), "working_day"),
    "minute 1441": (create(schedule=[bad_entry(1, 0, 1441)], time_zone="UTC"), "0 to 1440"),
    "schedule start after end": (create(schedule=[bad_entry(1, 600, 60)], time_zone="UTC"), "before its end"),
    "empty schedule": (create(schedule=[], time_zone="UTC"), "must not be empty"),
    "schedule of dicts": (create(schedule=[{"working_day": 1}], time_zone="UTC"), "ScheduleEntry"),
    # other create fields
    "empty name": (create(name="  "), "name is required"),
    "bad ticket": (create(ticket="t1"), "PasswordTicket"),
    "empty device id": (lambda api: api.passwords.get_ticket(""), "device_id is required"),
    "device id with slash": (lambda api: api.passwords.get_ticket("a/b"), "device_id contains"),
    "device id with space": (lambda api: api.passwords.get_ticket("a b"), "device_id contains"),
    "device id as None": (lambda api: api.device.get_device(None), "device_id is required"),
    "v2 create wifi pin short": (
        lambda api: api.passwords.create_unnamed_temp_password(
            DEV, lock_kind="wifi_video", pin="123456", effective_time=EFF, invalid_time=INV
        ),
        "7 digits",
    ),
    # modify, sync, state changes
    "modify on bluetooth with a 7-digit pin": (
        lambda api: api.passwords.modify_temp_password(
            DEV, 1, lock_kind="ble_gateway", pin="1234567", effective_time=EFF, invalid_time=INV
        ),
        "6 digits",
    ),
    "modify wrong length": (
        lambda api: api.passwords.modify_temp_password(
            DEV, 1, lock_kind="zigbee", pin="1234567", effective_time=EFF, invalid_time=INV, type=0
        ),
        "6 digits",
    ),
    "sync with negative id": (lambda api: api.passwords.sync_passwords(DEV, -1), "at least 0"),
    "get with empty password id": (lambda api: api.passwords.get_temp_password(DEV, ""), "password_id"),
    "freeze with negative id": (lambda api: api.passwords.freeze_temp_password(DEV, -5), "not be negative"),
    "unfreeze with bool id": (lambda api: api.passwords.unfreeze_temp_password(DEV, True), "password_id"),
    "delete with query in id": (lambda api: api.passwords.delete_temp_password(DEV, "1?x=1"), "password_id"),
    "clear with empty device": (lambda api: api.passwords.clear_temp_passwords(" "), "device_id"),
    "list with non-bool valid": (lambda api: api.passwords.list_temp_passwords(DEV, valid="yes"), "true or false"),
    "keepalive page size 0": (lambda api: api.passwords.list_keepalive_temp_passwords(DEV, page_size=0), "at least 1"),
    "keepalive page size too big": (
        lambda api: api.passwords.list_keepalive_temp_passwords(DEV, page_size=MAX_PAGE_SIZE + 1),
        "at most 100",
    ),
    "smart-lock ticket bad device": (lambda api: api.passwords.get_smart_lock_ticket("x#y"), "device_id"),
    # advanced passwords
    "advanced type unknown": (
        lambda api: api.passwords.set_advanced_password(DEV, advanced_type="root", pin="123456"),
        "advanced_type must be one of",
    ),
    "advanced pin of 7": (
        lambda api: api.passwords.set_advanced_password(DEV, advanced_type="admin", pin="1234567"),
        "6 digits for an advanced password",
    ),
    "advanced query type": (lambda api: api.passwords.get_advanced_password(DEV, "x"), "advanced_type"),
    # offline passwords
    "offline v1.0 type 2": (
        lambda api: api.offline.create_offline_password(DEV, type=2, effective_time=EFF, invalid_time=INV, lang="en"),
        "type must be one of",
    ),
    "offline v1.0 lang": (
        lambda api: api.offline.create_offline_password(DEV, type=0, effective_time=EFF, invalid_time=INV, lang="fr"),
        "lang must be one of",
    ),
    "offline v1.0 times reversed": (
        lambda api: api.offline.create_offline_password(DEV, type=0, effective_time=INV, invalid_time=EFF, lang="en"),
        "must be before",
    ),
    "offline v1.1 type": (
        lambda api: api.offline.create_offline_password_v11(DEV, type="twice"),
        "type must be one of",
    ),
    "offline v1.1 type as int": (lambda api: api.offline.create_offline_password_v11(DEV, type=0), "type must be"),
    "offline v1.1 multiple without times": (
        lambda api: api.offline.create_offline_password_v11(DEV, type="multiple", effective_time=EFF),
        "required for a multiple-use",
    ),
    "offline v1.1 clear_one without id": (
        lambda api: api.offline.create_offline_password_v11(DEV, type="clear_one"),
        "password_id is required",
    ),
    "offline v1.1 id on once": (
        lambda api: api.offline.create_offline_password_v11(DEV, type="once", password_id=5),
        "only used with type clear_one",
    ),
    "offline v1.1 milliseconds": (
        lambda api: api.offline.create_offline_password_v11(DEV, type="once", effective_time=EFF * 1000),
        "milliseconds",
    ),
    "offline rename empty": (lambda api: api.offline.rename_offline_password(DEV, 1, ""), "name is required"),
    "dynamic bad device": (lambda api: api.offline.get_dynamic_password("a/b"), "device_id"),
    # users
    "user sex 3": (lambda api: api.users.add_device_user(DEV, nick_name="A", sex=3), "sex must be one of"),
    "user empty nick": (lambda api: api.users.add_device_user(DEV, nick_name="", sex=1), "nick_name"),
    "user height 0": (lambda api: api.users.add_device_user(DEV, nick_name="A", sex=1, height=0), "height"),
    "modify user weight str": (
        lambda api: api.users.modify_device_user(DEV, "u", nick_name="A", sex=1, weight="60"),
        "weight must be an integer",
    ),
    "role unknown": (lambda api: api.users.set_user_role(DEV, "u", "owner"), "role must be one of"),
    "delete user empty id": (lambda api: api.users.delete_device_user(DEV, ""), "user_id"),
    "get user bad id": (lambda api: api.users.get_device_user(DEV, "a/b"), "user_id"),
    "get user v11 bad id": (lambda api: api.users.get_device_user_v11(DEV, ""), "user_id"),
    "list users bad device": (lambda api: api.users.list_device_users(""), "device_id"),
    "list v11 role": (lambda api: api.users.list_device_users_v11(DEV, role="owner"), "role must be one of"),
    "list v11 page 0": (lambda api: api.users.list_device_users_v11(DEV, page_no=0), "page_no must be at least 1"),
    "list v11 page size 101": (lambda api: api.users.list_device_users_v11(DEV, page_size=101), "at most 100"),
    "allocate type": (lambda api: api.users.allocate_to_user(DEV, "u", no="1", type="eye"), "type must be one of"),
    "allocate empty no": (lambda api: api.users.allocate_to_user(DEV, "u", no="", type="card"), "no is required"),
    "home users no codes": (lambda api: api.users.list_home_users(DEV, codes=[]), "at least one code"),
    "home users unknown code": (lambda api: api.users.list_home_users(DEV, codes="unlock_eye"), "codes must be one of"),
    "home users remote kit": (
        lambda api: api.users.list_home_users(DEV, codes="unlock_telecontrol_kit"),
        "not accepted",
    ),
    "schedule not permanent without times": (
        lambda api: api.users.update_user_schedule(DEV, "u", permanent=False),
        "required unless the user is permanent",
    ),
    "schedule permanent as int": (lambda api: api.users.update_user_schedule(DEV, "u", permanent=1), "true or false"),
    "schedule reversed": (
        lambda api: api.users.update_user_schedule(DEV, "u", permanent=False, effective_time=INV, expired_time=EFF),
        "effective_time must be before expired_time",
    ),
    "schedule window minute": (
        lambda api: api.users.update_user_schedule(
            DEV, "u", permanent=True, schedule_details=[ScheduleWindow(1, 0, 1500)]
        ),
        "0 to 1440",
    ),
    "schedule window day": (
        lambda api: api.users.update_user_schedule(
            DEV, "u", permanent=True, schedule_details=[ScheduleWindow(0, 0, 60)]
        ),
        "working_day",
    ),
    "schedule window reversed": (
        lambda api: api.users.update_user_schedule(
            DEV, "u", permanent=True, schedule_details=[ScheduleWindow(1, 600, 60)]
        ),
        "start_minute must be before end_minute",
    ),
    "absent users bad device": (lambda api: api.users.list_absent_users("?"), "device_id"),
    "delete users none": (lambda api: api.users.delete_users(DEV, []), "at least one"),
    "delete users comma": (lambda api: api.users.delete_users(DEV, "a,b"), "comma"),
    "user devices empty uid": (lambda api: api.users.list_user_devices(""), "uid"),
    "user devices page size": (lambda api: api.users.list_user_devices("u", page_size=0), "page_size"),
    # unlock methods
    "allocate methods empty": (lambda api: api.unlock_methods.allocate_unlock_methods(DEV, "u", []), "at least one"),
    "allocate methods bad code": (
        lambda api: api.unlock_methods.allocate_unlock_methods(DEV, "u", [UnlockRef("unlock_eye", 1)]),
        "dp_code must be one of",
    ),
    "allocate methods negative sn": (
        lambda api: api.unlock_methods.allocate_unlock_methods(DEV, "u", [UnlockRef("unlock_card", -1)]),
        "unlock_sn",
    ),
    "assigned keys user type 3": (lambda api: api.unlock_methods.list_assigned_keys(DEV, 3, "u"), "user_type"),
    "assigned keys unlock type": (
        lambda api: api.unlock_methods.list_assigned_keys(DEV, 1, "u", unlock_type="eye"),
        "unlock_type must be one of",
    ),
    "unassigned keys unlock type": (
        lambda api: api.unlock_methods.list_unassigned_keys(DEV, unlock_type="unlock_card"),
        "unlock_type must be one of",
    ),
    "sync no codes": (lambda api: api.unlock_methods.sync_unlock_methods(DEV, ""), "at least one code"),
    "sync unknown code": (lambda api: api.unlock_methods.sync_unlock_methods(DEV, ["card"]), "codes must be one of"),
    "entry user type": (
        lambda api: api.unlock_methods.enroll_unlock_method(DEV, user_id="u", user_type=0, unlock_type="card"),
        "user_type",
    ),
    "entry unlock type": (
        lambda api: api.unlock_methods.enroll_unlock_method(DEV, user_id="u", user_type=1, unlock_type="eye"),
        "unlock_type",
    ),
    "entry pin on card": (
        lambda api: api.unlock_methods.enroll_unlock_method(
            DEV, user_id="u", user_type=1, unlock_type="card", pin="123456"
        ),
        "only be enrolled with unlock_type password",
    ),
    "entry pin length": (
        lambda api: api.unlock_methods.enroll_unlock_method(
            DEV, user_id="u", user_type=1, unlock_type="password", pin="1234567"
        ),
        "6 digits",
    ),
    "entry ticket without pin": (
        lambda api: api.unlock_methods.enroll_unlock_method(
            DEV, user_id="u", user_type=1, unlock_type="card", ticket=TICKET
        ),
        "only used together with a PIN",
    ),
    "delete key unlock no": (
        lambda api: api.unlock_methods.delete_unlock_key(
            DEV, user_type=1, user_id="u", unlock_type="card", unlock_no="3"
        ),
        "unlock_no must be an integer",
    ),
    "cancel unlock type": (lambda api: api.unlock_methods.cancel_enrollment(DEV, "palm"), "unlock_type"),
    "rename code not allowed": (
        lambda api: api.unlock_methods.rename_unlock_method(DEV, 1, dp_code="unlock_hand", unlock_name="x"),
        "cannot be renamed",
    ),
    "rename empty name": (
        lambda api: api.unlock_methods.rename_unlock_method(DEV, 1, dp_code="unlock_card", unlock_name=""),
        "unlock_name",
    ),
    "duress unlock type": (lambda api: api.unlock_methods.set_duress(DEV, "unlock_card", 1), "unlock_type"),
    "duress delete code": (
        lambda api: api.unlock_methods.delete_duress(DEV, "unlock_face", 1),
        "unlock_fingerprint, unlock_card or unlock_password",
    ),
    "user opmodes page": (lambda api: api.unlock_methods.list_user_unlock_methods(DEV, "u", page_no=0), "page_no"),
    "user opmodes code": (
        lambda api: api.unlock_methods.list_user_unlock_methods(DEV, "u", codes="unlock_eye"),
        "codes must be one of",
    ),
    "opmode attribute 3": (lambda api: api.unlock_methods.set_opmode_attribute(DEV, 1, 3, True), "attribute"),
    "opmode enabled str": (lambda api: api.unlock_methods.set_opmode_attribute(DEV, 1, 1, "true"), "enabled"),
    # records
    "open logs naive": (
        lambda api: api.records.list_open_logs(DEV, start_time=datetime(2024, 1, 1), end_time=INV),
        "naive",
    ),
    "open logs ms on v1.0": (
        lambda api: api.records.list_open_logs(DEV, start_time=EFF * 1000, end_time=INV * 1000),
        "milliseconds",
    ),
    "open logs reversed": (lambda api: api.records.list_open_logs(DEV, start_time=INV, end_time=EFF), "before"),
    "open logs page size": (
        lambda api: api.records.list_open_logs(DEV, start_time=EFF, end_time=INV, page_size=500),
        "page_size",
    ),
    "open logs v11 seconds": (
        lambda api: api.records.list_open_logs_v11(DEV, start_time=EFF, end_time=INV),
        "looks like seconds",
    ),
    "open logs v11 media flag": (
        lambda api: api.records.list_open_logs_v11(
            DEV, start_time=EFF * 1000, end_time=INV * 1000, show_media_info="yes"
        ),
        "show_media_info",
    ),
    "alarm logs empty code": (lambda api: api.records.list_alarm_logs(DEV, dp_codes=[""]), "dp_codes"),
    "alarm logs page": (lambda api: api.records.list_alarm_logs(DEV, page_no=-1), "page_no"),
    "alarm logs v11 code": (lambda api: api.records.list_alarm_logs_v11(DEV, codes=[1]), "codes"),
    "records no codes": (lambda api: api.records.list_records(DEV, dp_codes=[]), "at least one code"),
    "records one-sided range": (
        lambda api: api.records.list_records(DEV, dp_codes="unlock_card", start_time=EFF * 1000),
        "both 0",
    ),
    "records seconds": (
        lambda api: api.records.list_records(DEV, dp_codes="unlock_card", start_time=EFF, end_time=INV),
        "looks like seconds",
    ),
    "record allocate empty record": (lambda api: api.records.allocate_record(DEV, "", "u"), "record_id"),
    "record allocate empty user": (lambda api: api.records.allocate_record(DEV, "r", ""), "user_id"),
    "latest media file type": (lambda api: api.records.get_latest_media(DEV, 3), "file_type must be one of"),
    "albums bad device": (lambda api: api.records.list_albums(""), "device_id"),
    "view times bad device": (lambda api: api.records.get_media_view_times(""), "device_id"),
    "add view bad device": (lambda api: api.records.add_media_view(""), "device_id"),
    # remote unlock
    "remote unlocks bad device": (lambda api: api.remote_unlock.list_remote_unlocks(""), "device_id"),
    "remote config type": (lambda api: api.remote_unlock.set_remote_unlock(DEV, "remoteUnlock", True), "one of"),
    "remote config open str": (
        lambda api: api.remote_unlock.set_remote_unlock(DEV, "remoteUnlockWithPwd", "true"),
        "open must be true or false",
    ),
    "open door pin of 7": (lambda api: api.remote_unlock.open_door_with_password(DEV, pin="1234567"), "6 digits"),
    "open door pin letters": (lambda api: api.remote_unlock.open_door_with_password(DEV, pin="12345a"), "digits only"),
    "open door bad ticket": (lambda api: api.remote_unlock.open_door(DEV, ticket=5), "ticket"),
    "open door empty ticket id": (lambda api: api.remote_unlock.open_door(DEV, ticket=""), "ticket"),
    "channel negative": (lambda api: api.remote_unlock.open_door_channel(DEV, -1), "channel_id"),
    "channel bool": (lambda api: api.remote_unlock.open_door_channel(DEV, True), "channel_id"),
    "cancel reason 3": (lambda api: api.remote_unlock.cancel_remote_unlock(DEV, 3), "type must be one of"),
    "door operate open str": (lambda api: api.remote_unlock.door_operate(DEV, open="false"), "open"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_before_sending(api, fake, case):
    call, message = CASES[case]
    with pytest.raises(TuyaValidationError, match=message):
        call(api)
    assert fake.nothing_sent, "a refused call must send nothing, not even a token or ticket request"


@pytest.mark.parametrize(
    ("kind", "length"),
    [
        ("wifi", 7),
        ("wifi_keepalive", 7),
        ("wifi_video", 7),
        ("access_control", 7),
        ("zigbee", 6),
        ("zigbee_hotel", 6),
        ("ble", 6),
        ("ble_gateway", 6),
    ],
)
def test_pin_length_per_lock_kind(kind, length):
    assert LockKind(kind).pin_length == length


def test_pin_never_appears_in_a_validation_error(api):
    with pytest.raises(TuyaValidationError) as caught:
        api.passwords.create_temp_password(
            DEV, lock_kind="wifi", pin="98765", name="n", effective_time=EFF, invalid_time=INV
        )
    assert "98765" not in str(caught.value)
    assert "98765" not in repr(caught.value)
