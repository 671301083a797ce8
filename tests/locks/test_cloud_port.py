"""The cloud port's Tuya adapter against the simulator over HTTP: values in the app's terms, errors in the port's
classes (locks/cloud/port.py), and every operation of the port implemented."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.utils import timezone

from locks import event_records, media, push
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.cloud.tuya import records
from locks.cloud.tuya.adapter import DP_TO_TYPE, TuyaCloud, decrypt_media
from locks.cloud.tuya.client import api_for
from locks.cloud.tuya.errors import translate
from locks.models import CloudAccount, Lock
from locks.tuya import errors as tuya
from locks.tuya.api.records import AlarmLog, LockRecord, OpenLog
from tenants.models import Organisation
from tests.locks.conftest import World, window

# --- the port as a whole -----------------------------------------------------------------------------------------


def test_the_adapter_implements_every_operation_of_the_port() -> None:
    wanted = {name for name, _ in inspect.getmembers(port.LockCloud, inspect.isfunction) if not name.startswith("_")}
    assert wanted, "the port lists its operations"
    missing = sorted(name for name in wanted if not callable(getattr(TuyaCloud, name, None)))
    assert not missing
    for name in wanted:  # the same parameters, so a caller of the port can call the adapter as the port says
        ours = list(inspect.signature(getattr(port.LockCloud, name)).parameters)
        assert list(inspect.signature(getattr(TuyaCloud, name)).parameters) == ours, name


def test_an_account_gets_the_tuya_adapter(account: CloudAccount) -> None:
    cloud = cloud_for(account)
    assert isinstance(cloud, TuyaCloud)
    assert cloud.api is api_for(account)  # one client per account and process, as before the port


# --- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("theirs", "ours", "unavailable", "refused"),
    [
        (tuya.TuyaValidationError("bad pin"), port.InvalidRequest, False, False),
        (tuya.TuyaEndpointRefused("no urls"), port.EndpointRefused, False, True),
        (tuya.TuyaConfigError("unknown region"), port.Misconfigured, False, False),
        (tuya.TuyaTokenError("token invalid", code=1010), port.TokenRefused, True, True),
        (tuya.TuyaAuthError("clientId is invalid", code=1005), port.AccountRefused, False, True),
        (tuya.TuyaSignatureError("sign invalid", code=1004), port.AccountRefused, False, True),
        (tuya.TuyaPermissionError("permission deny", code=1106), port.AccountRefused, False, True),
        (tuya.TuyaRateLimitedError("too many", code=1199), port.RateLimited, True, False),
        (tuya.TuyaTimeoutError("timed out"), port.NoAnswer, True, False),
        (tuya.TuyaNetworkError("refused"), port.NoAnswer, True, False),
        (tuya.TuyaServerError("system error", code=500), port.NoAnswer, True, False),
        (tuya.TuyaProtocolError("not json"), port.BadReply, False, False),
        (tuya.TuyaDeviceOfflineError("device is offline", code=2001), port.LockOffline, False, False),
        (tuya.TuyaNotFoundError("not found", code=2010), port.NotFound, False, False),
        (tuya.TuyaNotFoundError("user not exist", code=2006), port.PersonNotFound, False, False),
        (tuya.TuyaUnsupportedError("not support", code=2008), port.Unsupported, False, False),
        (tuya.TuyaLockError("illegal operation", code=2306), port.LockRefused, False, False),
        (tuya.TuyaLockError("operation in progress", code=2328), port.LockBusy, False, False),
        (tuya.TuyaError("do not repeat", code=1113), port.TooSoon, False, False),
        (tuya.TuyaMediaError("bad padding"), port.MediaUnreadable, False, False),
        (tuya.TuyaParameterError("param illegal", code=1109), port.CloudError, False, False),
    ],
)
def test_every_client_error_has_its_class_in_the_port(
    theirs: tuya.TuyaError, ours: type[port.CloudError], unavailable: bool, refused: bool
) -> None:
    error = translate(theirs)
    assert type(error) is ours
    # The groups the app decides on: try again later, or the whole account is refused.
    assert isinstance(error, port.Unavailable) is unavailable
    assert isinstance(error, port.AccountRefused) is refused
    # The same words as before the port: the message, the code for display, the hint, and the whole line for logs.
    assert (error.message, error.code, error.hint, str(error)) == (theirs.msg, theirs.code, theirs.hint, str(theirs))
    assert error.__cause__ is theirs


def test_an_outcome_is_unknown_only_when_no_answer_came() -> None:
    assert translate(tuya.TuyaTimeoutError("timed out")).outcome_unknown
    assert not translate(tuya.TuyaRateLimitedError("busy", code=1110)).outcome_unknown


def test_an_error_in_plain_words_names_the_vendor_and_its_code() -> None:
    error = translate(tuya.TuyaDeviceOfflineError("device is offline", code=2001))
    assert error.explained() == f"device is offline (Tuya 2001). {tuya.TuyaDeviceOfflineError.hint}"
    assert error.explained("It sleeps.") == "device is offline (Tuya 2001). It sleeps."
    assert translate(tuya.TuyaNetworkError("no route")).explained("Later.") == "no route. Later."


def test_a_lock_the_cloud_cannot_reach_is_offline(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("wifi")
    world.online(lock.device_id, False)
    with pytest.raises(port.LockOffline) as offline:
        cloud_for(lock.cloud_account).open_door(lock)
    assert offline.value.code == 2001


def test_a_refused_account_and_a_missing_lock(account: CloudAccount, world: World) -> None:
    cloud = cloud_for(account)
    with pytest.raises(port.NotFound):
        cloud.lock("no-such-device")
    account.access_secret = "not-the-secret-" * 2
    with pytest.raises(port.AccountRefused):
        cloud_for(account).lock_ids()


def test_an_endpoint_this_server_may_not_call_sends_nothing(org: Organisation, settings: Any) -> None:
    settings.TUYA_ALLOW_URL_ENDPOINTS = False
    account = CloudAccount(
        pk=99, organisation=org, name="x", endpoint="http://10.0.0.1", access_id="a", access_secret="s"
    )
    with pytest.raises(port.EndpointRefused) as refused:
        cloud_for(account).lock_ids()
    assert "this server does not take URLs" in refused.value.message
    assert isinstance(refused.value, port.AccountRefused)


def test_faults_come_out_as_the_port_says(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("wifi")
    cloud = cloud_for(lock.cloud_account)
    starts, ends = window()
    spec = port.PasswordSpec("5820417", "guest", starts, ends)
    world.fault(endpoint="temp_password_create", kind="tuya_code", code=1106, count=1)
    with pytest.raises(port.AccountRefused):
        cloud.create_password(lock, spec)
    world.fault(endpoint="temp_password_create", kind="http_500", count=1)
    with pytest.raises(port.NoAnswer):
        cloud.create_password(lock, spec)


def test_a_media_file_with_the_wrong_key_is_unreadable() -> None:
    with pytest.raises(port.MediaUnreadable):
        decrypt_media(b"\x00" * 64, "0" * 32)


# --- values --------------------------------------------------------------------------------------------------------


def _settled(cloud: port.LockCloud, lock: Lock, password_id: int) -> port.CloudPassword:
    deadline = time.monotonic() + 5
    while True:
        state = cloud.read_password(lock, password_id)
        if state.state != "pending" or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


@pytest.mark.parametrize("kind", ["wifi", "zigbee", "wifi_keepalive"])
def test_a_password_from_create_to_delete(make_lock: Callable[..., Lock], world: World, kind: str) -> None:
    lock = make_lock(kind)
    cloud = cloud_for(lock.cloud_account)
    starts, ends = window()
    pin = "5820417"[: lock.pin_length]
    password_id = cloud.create_password(lock, port.PasswordSpec(pin, "guest ab12cd34ef56g", starts, ends))
    assert _settled(cloud, lock, password_id).state == "set"
    assert world.opens(lock.device_id, pin)
    found = port.find_by_marker(cloud, lock, "ab12cd34ef56g")
    assert found is not None
    assert found.password_id == password_id
    if lock.can_freeze:
        cloud.freeze_password(lock, password_id)
        assert _settled(cloud, lock, password_id).state == "frozen"
        cloud.unfreeze_password(lock, password_id)
        assert _settled(cloud, lock, password_id).state == "set"
    cloud.delete_password(lock, password_id)
    assert _settled(cloud, lock, password_id).state == "removed"
    assert port.find_by_marker(cloud, lock, "ab12cd34ef56g") is None


def test_a_weekly_password_speaks_weekdays(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("wifi")
    cloud = cloud_for(lock.cloud_account)
    starts, ends = window(-1, 24 * 14)
    weekly = port.WeeklyHours(frozenset({0, 6}), 9 * 60, 17 * 60)  # Mondays and Sundays, 09:00-17:00
    spec = port.PasswordSpec("5820417", "weekly", starts, ends, time_zone="Europe/Amsterdam", weekly=weekly)
    password_id = cloud.create_password(lock, spec)
    schedule = api_for(lock.cloud_account).passwords.get_temp_password(lock.device_id, password_id).raw["result"]
    assert schedule["schedule_list"][0]["working_day"] == 1 | 2  # Sunday is bit 0, Monday bit 1 (Tuya's encoding)


def test_a_failed_delivery_says_resending_may_help(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("zigbee")
    cloud = cloud_for(lock.cloud_account)
    world.online(lock.device_id, False)
    starts, ends = window()
    password_id = cloud.create_password(lock, port.PasswordSpec("582041", "guest", starts, ends))
    deadline = time.monotonic() + 10
    state = cloud.read_password(lock, password_id)
    while state.state == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
        state = cloud.read_password(lock, password_id)
    assert state.state == "failed"
    assert state.undelivered
    assert "delivery failed" in state.reason


def test_the_accounts_locks_in_our_terms(account: CloudAccount, world: World) -> None:
    ids = {kind: world.device(kind) for kind in ("wifi", "zigbee_hotel", "access_control")}
    cloud = cloud_for(account)
    assert set(ids.values()) <= set(cloud.lock_ids())
    assert cloud.account_user()
    for kind, device_id in ids.items():
        found = cloud.lock(device_id)
        assert (found.device_id, found.kind, found.online) == (device_id, kind, True)
        assert found.battery is None or 0 <= found.battery <= 100


def test_one_off_operations(make_lock: Callable[..., Lock]) -> None:
    lock = make_lock("wifi")
    cloud = cloud_for(lock.cloud_account)
    now = int(timezone.now().timestamp()) // 3600 * 3600
    code = cloud.offline_code(lock, "multiple", valid_from=now, valid_until=now + 7200, name="cleaner")
    assert code.pin.isdigit()
    assert code.password_id
    assert (code.valid_from, code.valid_until) == (now, now + 7200)
    assert cloud.dynamic_code(lock).isdigit()
    hotel = make_lock("zigbee_hotel")
    cloud.set_special_password(hotel, "admin", "582041")
    deadline = time.monotonic() + 5
    while (state := cloud.special_password_state(hotel, "admin")) == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state == "set"
    cloud.clear_passwords(hotel)
    with pytest.raises(port.Unsupported):
        cloud.clear_passwords(lock)  # only hotel locks clear all at once


def test_people_and_methods(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("wifi")
    cloud = cloud_for(lock.cloud_account)
    user_id = cloud.add_person(lock, "Ada", 2)
    assert any(p.user_id == user_id and p.name == "Ada" for p in cloud.people(lock))
    cloud.rename_person(lock, user_id, "Ada L.", 2)
    assert any(p.user_id == user_id and p.name == "Ada L." for p in cloud.people(lock))
    assert cloud.methods_of(lock, user_id) == []
    assert cloud.absent_people(lock) == set()
    cloud.remove_person(lock, user_id)
    assert all(p.user_id != user_id for p in cloud.people(lock))
    with pytest.raises(port.NotFound):
        cloud.remove_person(lock, user_id)


def test_an_enrollment_and_its_method_by_our_type_names(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("wifi")
    cloud = cloud_for(lock.cloud_account)
    user_id = cloud.add_person(lock, "Ada", 2)
    cloud.start_enrollment(lock, user_id, "card")
    with pytest.raises(port.LockBusy):  # one enrollment at a time
        cloud.start_enrollment(lock, user_id, "fingerprint")
    cloud.cancel_enrollment(lock, "card")
    cloud.start_enrollment(lock, user_id, "fingerprint")
    steps = world.call("POST", f"/_sim/devices/{lock.device_id}/enroll-step", {})["enrollment"]
    while steps["remaining"]:
        steps = world.call("POST", f"/_sim/devices/{lock.device_id}/enroll-step", {})["enrollment"]
    pushed = [push.enrollment_progress(lock.device_id, m["bizData"]) for m in steps["messages"]]
    assert pushed[-1] == port.EnrollmentProgress(lock.device_id, steps["total"], 0)
    [method] = cloud.methods_of(lock, user_id)
    assert (method.unlock_type, method.duress) == ("fingerprint", False)
    cloud.set_duress(lock, "fingerprint", method.unlock_sn, True)
    assert cloud.methods_of(lock, user_id)[0].duress is True
    cloud.delete_method(lock, user_id, "fingerprint", method.unlock_sn)
    assert cloud.methods_of(lock, user_id) == []


def test_a_persons_role_and_validity_in_weekdays_and_minutes(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("access_control")
    cloud = cloud_for(lock.cloud_account)
    world.call("POST", f"/_sim/devices/{lock.device_id}/home-users", {"nick_name": "Guard", "role": "normal"})
    person = next(p for p in cloud.people(lock) if p.name == "Guard")
    assert (person.role, person.valid_from, person.methods) == ("normal", None, None)  # methods: read separately
    cloud.set_role(lock, person.user_id, "admin")
    assert next(p for p in cloud.people(lock) if p.name == "Guard").role == "admin"
    valid_from = datetime(2030, 1, 1, tzinfo=dt_timezone.utc)
    hours = [port.WeeklyHours(frozenset({0, 1, 2, 3, 4}), 8 * 60, 18 * 60)]
    cloud.set_validity(
        lock, person.user_id, valid_from=valid_from, valid_until=valid_from + timedelta(days=30), hours=hours,
        time_zone="Europe/Amsterdam",
    )  # fmt: skip
    again = next(p for p in cloud.people(lock) if p.user_id == person.user_id)
    assert again.valid_from == valid_from
    assert again.hours == tuple(hours)


def test_an_event_page_of_what_happened_at_the_door(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("wifi")
    cloud = cloud_for(lock.cloud_account)
    starts, ends = window()
    password_id = cloud.create_password(lock, port.PasswordSpec("5820417", "guest", starts, ends))
    _settled(cloud, lock, password_id)
    assert world.opens(lock.device_id, "5820417")
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell", {})
    since, until = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(minutes=1)
    page = cloud.unlock_page(lock, since=since, until=until, page_no=1, page_size=20)
    assert page.received >= 1
    # The guest's code opened the door: the event names the password, as the events sync links it to the code.
    assert ("unlock_temporary", str(password_id)) in {(e.code, e.value) for e in page.events}
    alerts = cloud.alert_page(lock, page_no=1, page_size=20)
    assert all(isinstance(e, port.CloudEvent) for e in alerts.events)
    # The older listing (for locks that refuse the current one) reads the same records, without their photos.
    compat = cloud.unlock_page(lock, since=since, until=until, page_no=1, page_size=20, compat=True)
    assert {e.natural_key for e in compat.events} == {e.natural_key for e in page.events}


def test_records_keep_the_natural_keys_the_events_store_holds() -> None:
    # Stored events are keyed by these (LockEvent.natural_key): a record read again must find its row, so the keys
    # stay exactly as the events sync has always built them (the values below were taken from that parsing).
    unlock = records.open_log_event(
        OpenLog.from_api(
            {
                "status": [{"code": "unlock_fingerprint", "value": 3}, {"code": "unlock_app", "value": True}],
                "update_time": 1700000000123,
                "user_id": "u1",
                "nick_name": "Ann",
                "unlock_name": "Finger",
                "media_infos": [{"file_url": "https://x/1.jpg", "file_key": "k1"}],
            }
        )
    )
    assert (unlock.natural_key, unlock.code, unlock.value) == (
        "o:1700000000123:unlock_fingerprint,unlock_app:3:u1",
        "unlock_fingerprint",
        "3",
    )
    assert (unlock.occurred_at, unlock.actor_name, unlock.cloud_user_id) == (
        datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt_timezone.utc),
        "Ann",
        "u1",
    )
    assert unlock.media == (port.MediaRef("https://x/1.jpg", "k1"),)
    assert unlock.raw["media_infos"] == [{"file_url": "https://x/1.jpg"}]  # the key only in `media`
    alarm = records.alarm_log_event(
        AlarmLog.from_api({"status": [{"code": "alarm_lock", "value": "pry"}], "update_time": 1700000000})
    )
    assert (alarm.natural_key, alarm.occurred_at.timestamp()) == ("a:1700000000000:alarm_lock:pry", 1700000000)
    card = {"gmt_create": 1700000000456, "dps": [{"unlock_card": 4}], "user_id": "0", "unlock_name": "Card 4"}
    by_id = records.access_record_event(LockRecord.from_api({"record_id": "rec-9", **card}))
    assert (by_id.natural_key, by_id.value, by_id.actor_name, by_id.cloud_user_id) == ("r:rec-9", "4", "Card 4", "")
    bell = {"gmt_create": 1700000000456, "dps": [{"doorbell": {"ring": True}}], "user_id": "u2", "user_name": "Bob"}
    no_id = records.access_record_event(LockRecord.from_api(bell))
    assert no_id.natural_key == 'r:1700000000456:doorbell:{"ring":true}:u2'
    long = {"status": [{"code": "unlock_password", "value": "x" * 250}], "update_time": 1700000000789, "user_id": "u3"}
    assert records.open_log_event(OpenLog.from_api(long)).natural_key == (
        "o:1700000000789:sha256:24607e5da6759325e8566056b56a78601aac6d851d8ee5d325c1d14f552c4130"
    )


def test_records_without_code_or_time_are_skipped_with_the_reason() -> None:
    with pytest.raises(records.Skip, match="DP code"):
        records.open_log_event(OpenLog.from_api({"update_time": 1700000000000}))
    with pytest.raises(records.Skip, match="alert record without a time"):
        records.alarm_log_event(AlarmLog.from_api({"status": [{"code": "alarm_lock", "value": "pry"}]}))
    unlock = records.open_log_event(
        OpenLog.from_api({"status": {"code": "unlock_key", "value": "1"}, "update_time": 1700000000})
    )
    assert unlock.occurred_at.timestamp() == 1700000000  # seconds are read as seconds


def test_the_unlock_codes_of_methods_read_as_the_adapter_names_them() -> None:
    # The events sync links an unlock to its method by the app's table; the adapter reads methods by its own.
    assert event_records.METHOD_TYPES == DP_TO_TYPE


def test_remote_unlocking(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("zigbee")
    cloud = cloud_for(lock.cloud_account)
    assert cloud.remote_unlock_allowed(lock)
    assert cloud.open_door(lock)
    wifi = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{wifi.device_id}/doorbell", {})
    cloud.refuse_remote_unlock(wifi)


def test_photos(make_lock: Callable[..., Lock], world: World) -> None:
    lock = make_lock("wifi")
    cloud = cloud_for(lock.cloud_account)
    assert cloud.latest_photo(lock) is None  # nothing in the last 90 s
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell")
    latest = cloud.latest_photo(lock)
    assert latest is not None
    assert latest.file_key not in repr(latest)
    plain = cloud.decrypt_media(media.download(latest.file_url, allow_private=True), latest.file_key)
    assert plain.startswith(b"\xff\xd8")  # a JPEG
    count = cloud.media_views(lock)
    assert cloud.add_media_view(lock) == count + 1
    video = make_lock("wifi_video")
    world.call("POST", f"/_sim/devices/{video.device_id}/alarm", {"alarm": "pry"})
    world.call("POST", f"/_sim/devices/{video.device_id}/doorbell")
    album = cloud.album(video)
    assert sorted(photo.label for photo in album) == ["doorbell", "pry"]  # Tuya's event types in words
    assert all(photo.taken_at is not None for photo in album)
