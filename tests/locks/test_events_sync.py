"""The events sync against the simulator: act at the door, run the sync job, find each event once and linked."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_rq
import pytest
from django.utils import timezone
from PIL import Image

from locks import codes, event_records, events, jobs
from locks.cloud.port import CloudEvent
from locks.models import (
    AccessCode,
    CloudAccount,
    EventMedia,
    Lock,
    LockEvent,
    LockUser,
    SyncCursor,
    UnlockMethod,
)
from tenants.models import Stay
from tests.conftest import private_media_in
from tests.locks.conftest import run_workers, window
from tests.locks.fake_tuya import FakeCloud, serve

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _sync_settings(settings: Any, tmp_path: Path) -> None:
    private_media_in(settings, tmp_path / "private")


def issue_code(lock: Lock, guest: Any, stay: Stay | None, capture: Any) -> AccessCode:
    starts, ends = window()
    with capture(execute=True):
        code = codes.issue_access_code(
            lock=lock, label=guest.name, starts_at=starts, ends_at=ends, guest=guest, stay=stay
        )
    run_workers()
    code.refresh_from_db()
    assert code.status == AccessCode.Status.SET, code.failure_reason
    return code


def sync(lock: Lock) -> int:
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)
    run_workers()  # runs the sync, then the photo jobs it enqueued
    return LockEvent.objects.filter(lock=lock).count()


def test_door_events_are_stored_once_and_linked(make_lock, world, guest, unit, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    now = timezone.now()
    stay = Stay.objects.create(unit=unit, guest=guest, check_in=now, check_out=now + timedelta(days=2))
    code = issue_code(lock, guest, stay, django_capture_on_commit_callbacks)

    # A member of the home with a fingerprint on the lock, known to us as a lock user with that method.
    member = world.call("POST", f"/_sim/devices/{lock.device_id}/home-users", {"nick_name": "Ann"})
    world.call(
        "POST",
        f"/_sim/devices/{lock.device_id}/methods",
        {"type": "fingerprint", "unlock_sn": 3, "user_id": member["user_id"]},
    )
    ann = LockUser.objects.create(
        organisation=lock.organisation, lock=lock, cloud_user_id=member["user_id"], name="Ann"
    )
    finger = UnlockMethod.objects.create(
        organisation=lock.organisation,
        lock=lock,
        lock_user=ann,
        unlock_type="fingerprint",
        unlock_sn=3,
        status=UnlockMethod.Status.ACTIVE,
    )

    assert world.opens(lock.device_id, code.pin)
    for _ in range(3):
        assert not world.opens(lock.device_id, "1234567" if code.pin != "1234567" else "7654321")
    world.call("POST", f"/_sim/devices/{lock.device_id}/present", {"type": "fingerprint", "number": 3})
    world.call("POST", f"/_sim/devices/{lock.device_id}/alarm", {"alarm": "pry"})
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell")

    assert sync(lock) == 5
    by_kind = {e.classification: e for e in LockEvent.objects.filter(lock=lock)}
    assert set(by_kind) == {"temporary code", "wrong code", "fingerprint", "pry", "doorbell"}

    temp = by_kind["temporary code"]
    assert temp.category == LockEvent.Category.UNLOCK
    assert (temp.access_code, temp.guest, temp.stay) == (code, guest, stay)
    assert temp.dp_value == str(code.cloud_password_id)

    fingerprint = by_kind["fingerprint"]
    assert (fingerprint.lock_user, fingerprint.unlock_method) == (ann, finger)
    assert fingerprint.cloud_user_id == member["user_id"]

    assert by_kind["wrong code"].category == LockEvent.Category.ALARM
    assert by_kind["pry"].dp_code == "alarm_lock"

    # The Wi-Fi lock's camera took a photo of the doorbell and the pry: fetched, decrypted, thumbnailed.
    bell = by_kind["doorbell"].media.get()
    assert bell.status == EventMedia.Status.DONE, bell.failure_reason
    original = Path(events.settings.PRIVATE_MEDIA_ROOT) / bell.original
    with Image.open(original) as image:
        assert image.format == "JPEG"
        assert image.size == (bell.width, bell.height)
    assert "file_key" not in str(by_kind["doorbell"].raw)

    # A second sync finds everything again and stores nothing.
    result = events.sync_lock(lock)
    assert result.new == 0
    assert not result.errors
    assert LockEvent.objects.filter(lock=lock).count() == 5
    assert EventMedia.objects.filter(event__lock=lock).count() == 3  # the camera films every alert
    cursors = {c.stream: c for c in SyncCursor.objects.filter(lock=lock)}
    assert set(cursors) == {"open-logs", "alarm-logs"}
    assert all(c.last_event_at and not c.last_error and c.failures == 0 for c in cursors.values())


def test_unknown_codes_and_users_are_stored_unlinked(make_lock, world):
    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/methods", {"type": "card", "unlock_sn": 7})
    world.call("POST", f"/_sim/devices/{lock.device_id}/present", {"type": "card", "number": 7})
    world.call("POST", f"/_sim/devices/{lock.device_id}/present", {"type": "key", "number": 1})

    assert sync(lock) == 2
    card = LockEvent.objects.get(lock=lock, dp_code="unlock_card")
    assert card.classification == "card"
    assert card.lock_user is None
    assert card.unlock_method is None
    assert card.access_code is None


def test_access_control_device_is_synced_through_records(make_lock, world, guest, django_capture_on_commit_callbacks):
    lock = make_lock("access_control")
    code = issue_code(lock, guest, None, django_capture_on_commit_callbacks)
    assert world.opens(lock.device_id, code.pin)
    world.call("POST", f"/_sim/devices/{lock.device_id}/present", {"type": "card", "number": 9})  # unknown card

    assert sync(lock) == 2
    opened = LockEvent.objects.get(lock=lock, dp_code="unlock_temporary")
    assert opened.natural_key.startswith("r:")
    assert (opened.access_code, opened.guest) == (code, guest)
    wrong = LockEvent.objects.get(lock=lock, dp_code="alarm_lock")
    assert wrong.classification == "wrong card"
    assert list(SyncCursor.objects.filter(lock=lock).values_list("stream", flat=True)) == ["records"]
    # The access-control device films everything: both photos were fetched.
    assert set(EventMedia.objects.filter(event__lock=lock).values_list("status", flat=True)) == {"done"}
    assert events.sync_lock(lock).new == 0


def test_zigbee_lock_has_alarms_only_and_keepalive_nothing(make_lock, world):
    zigbee = make_lock("zigbee")
    world.call("POST", f"/_sim/devices/{zigbee.device_id}/alarm", {"alarm": "low_battery"})
    world.call("POST", f"/_sim/devices/{zigbee.device_id}/doorbell")
    assert sync(zigbee) == 2
    assert set(LockEvent.objects.values_list("classification", flat=True)) == {"low battery", "doorbell"}
    assert list(SyncCursor.objects.filter(lock=zigbee).values_list("stream", flat=True)) == ["alarm-logs"]

    keepalive = make_lock("wifi_keepalive")
    assert events.streams_for(keepalive.kind) == ()
    assert jobs.sync_lock_events(keepalive.pk) == 0
    assert keepalive.pk not in events.due_lock_ids()


def test_duress_alarm_names_the_method_that_opened(make_lock, world):
    lock = make_lock("ble")
    world.call("POST", f"/_sim/devices/{lock.device_id}/methods", {"type": "fingerprint", "unlock_sn": 2})
    finger = UnlockMethod.objects.create(
        organisation=lock.organisation, lock=lock, unlock_type="fingerprint", unlock_sn=2, duress=True
    )
    # Mark the method as the duress finger on the lock itself, through the cloud API.
    from locks.cloud.tuya.client import api_for

    api_for(lock.cloud_account).unlock_methods.set_duress(lock.device_id, "fingerprint", 2)
    world.call("POST", f"/_sim/devices/{lock.device_id}/present", {"type": "fingerprint", "number": 2})
    sync(lock)
    duress = LockEvent.objects.get(lock=lock, dp_code="hijack")
    assert duress.classification == "duress"
    assert duress.unlock_method == finger


def test_crash_between_pages_resumes_from_the_cursor(make_lock, world, settings):
    settings.EVENTS_SYNC_PAGE_SIZE = 5
    lock = make_lock("wifi")
    for number in range(23):  # a mechanical key, turned 23 times (numbers differ: each record is distinct)
        world.call("POST", f"/_sim/devices/{lock.device_id}/present", {"type": "key", "number": number})
        time.sleep(0.002)

    class Crash(Exception):
        pass

    stored: list[int] = []

    def crash_after_two_pages(stream: str, page_no: int, new: list[LockEvent]) -> None:
        stored.append(page_no)
        if len(stored) == 2:
            raise Crash

    with pytest.raises(Crash):
        events.sync_lock(lock, on_page=crash_after_two_pages)
    # The oldest pages (5 and 4 of 5: 3 + 5 records) are committed and the cursor is at the newest of them.
    assert stored == [5, 4]
    kept = list(LockEvent.objects.filter(lock=lock).order_by("occurred_at"))
    assert len(kept) == 8
    cursor = SyncCursor.objects.get(lock=lock, stream="open-logs")
    assert cursor.last_event_at == kept[-1].occurred_at

    result = events.sync_lock(lock)
    assert result.new == 15
    assert LockEvent.objects.filter(lock=lock).count() == 23
    assert events.sync_lock(lock).new == 0


def test_rate_limit_is_recorded_with_a_back_off_and_nothing_crashes(make_lock, world, settings):
    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/alarm", {"alarm": "pry"})
    world.fault(kind="tuya_code", code=1199, endpoint="open_logs_v11")

    result = events.sync_lock(lock)
    assert "open-logs" in result.errors
    cursor = SyncCursor.objects.get(lock=lock, stream="open-logs")
    assert "1199" in cursor.last_error
    assert cursor.failures == 1
    assert cursor.retry_at > timezone.now()
    # A rate limit ends the run: the alarm stream was not asked, and the lock waits out its back-off.
    assert not SyncCursor.objects.filter(lock=lock, stream="alarm-logs").exists()
    assert lock.pk not in events.due_lock_ids()
    assert jobs.sync_all_lock_events() == 0

    world.call("DELETE", "/_sim/faults")
    SyncCursor.objects.filter(pk=cursor.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    assert sync(lock) == 1
    cursor.refresh_from_db()
    assert (cursor.last_error, cursor.failures, cursor.retry_at) == ("", 0, None)


def test_server_errors_on_one_stream_leave_the_other_synced(make_lock, world):
    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell")
    world.fault(kind="http_500", endpoint="open_logs_v11")
    result = events.sync_lock(lock)
    assert set(result.errors) == {"open-logs"}
    assert result.new == 1  # the doorbell, from alarm-logs
    cursor = SyncCursor.objects.get(lock=lock, stream="open-logs")
    assert cursor.last_error
    assert cursor.failures == 1
    # Failing again doubles the wait.
    SyncCursor.objects.filter(pk=cursor.pk).update(retry_at=None)
    events.sync_lock(lock)
    cursor.refresh_from_db()
    assert cursor.failures == 2
    assert cursor.retry_at - timezone.now() > timedelta(seconds=100)


def test_periodic_sync_reads_every_lock_with_records(make_lock, world):
    locks = [make_lock("wifi"), make_lock("zigbee"), make_lock("wifi_keepalive")]
    assert jobs.sync_all_lock_events() == 2  # the keepalive lock has nothing to read
    run_workers()
    assert {c.lock_id for c in SyncCursor.objects.all()} == {locks[0].pk, locks[1].pk}


# --- what the simulator will not do on purpose: a fake cloud with bad pages ------------------------------------


def _log(ms: int, code: str = "unlock_key", value: str = "1", **extra: Any) -> dict[str, Any]:
    return {"status": {"code": code, "value": value}, "update_time": ms, "user_id": "0", "nick_name": "", **extra}


@pytest.fixture
def fake_lock(org, unit, queues) -> Any:
    cloud = FakeCloud()
    with serve(cloud) as url:
        account = CloudAccount.objects.create(
            organisation=org, name="Fake", endpoint=url, access_id="fake-id", access_secret="fake-secret-0123456789"
        )
        lock = Lock.objects.create(
            organisation=org, cloud_account=account, unit=unit, device_id="fakedev1", name="Fake", kind="wifi"
        )
        yield cloud, lock


def test_bad_records_are_skipped_with_a_reason_and_duplicates_stored_once(fake_lock):
    cloud, lock = fake_lock
    now = int(time.time() * 1000)
    good = _log(now - 5000, "unlock_card", "4", user_id="ghost-user")  # a card and a user we do not know
    cloud.add_open_logs(
        [
            good,
            dict(good),  # the cloud sent it twice
            {"status": [], "update_time": now - 3000},  # no DP code
            _log(now - 2000, "unlock_temporary", "99999"),  # a temporary password that is not ours
            _log(now - 1000, "unlock_app", "0", media_infos=[{"file_url": "https://example.invalid/x.jpg"}]),
        ]
    )
    cloud.alarm_logs = [{"status": [{"code": "alarm_lock", "value": "pry"}], "update_time": None}]  # no time
    result = events.sync_lock(lock)
    assert result.new == 3
    assert not result.errors
    assert any("alert record without a time" in n for n in result.notes)
    assert any("without a DP code" in n for n in result.notes)
    cursor = SyncCursor.objects.get(lock=lock, stream="open-logs")
    assert "skipped" in cursor.last_error
    card = LockEvent.objects.get(dp_code="unlock_card")
    assert card.cloud_user_id == "ghost-user"
    assert card.lock_user is None
    assert LockEvent.objects.get(dp_code="unlock_temporary").access_code is None
    keyless = EventMedia.objects.get()
    assert keyless.status == EventMedia.Status.FAILED
    assert "without its file key" in keyless.failure_reason


def test_a_short_page_keeps_the_cursor_back_until_it_is_read_whole(fake_lock, settings):
    settings.EVENTS_SYNC_PAGE_SIZE = 10
    cloud, lock = fake_lock
    now = int(time.time() * 1000)
    cloud.add_open_logs([_log(now - 60_000 + i * 100, value=str(i)) for i in range(35)])
    cloud.short_pages = {3: 4}  # page 3 of 4 comes back with 4 of its 10 records

    result = events.sync_lock(lock)
    assert result.new == 29
    cursor = SyncCursor.objects.get(lock=lock, stream="open-logs")
    assert "page 3 of 4 had 4 of 10 records" in cursor.last_error
    oldest_four = sorted(LockEvent.objects.values_list("occurred_at", flat=True))[:5]
    assert cursor.last_event_at == oldest_four[-1]  # only page 4 (the 5 oldest) moved it

    cloud.short_pages = {}
    assert events.sync_lock(lock).new == 6
    cursor.refresh_from_db()
    assert cursor.last_error == ""
    assert LockEvent.objects.count() == 35


def test_records_are_classified_in_words() -> None:
    # Reading the vendor's records (and refusing those without a code or a time) is the adapter's: test_cloud_port.
    assert event_records.classify("alarm_lock", "tongue_bad") == ("alarm", "bolt jammed")
    assert event_records.classify("unlock_phone_remote", "1") == ("unlock", "remote")


def test_non_ascii_digits_from_the_cloud_are_stored_unlinked_not_a_crash(make_lock) -> None:
    lock = make_lock("wifi")
    odd = {"natural_key": "odd:1", "code": "unlock_temporary", "value": "²", "occurred_at": timezone.now()}
    records = [CloudEvent(**odd, actor_name="", cloud_user_id="", raw={})]
    stored = events.store_records(lock, records)
    assert [(e.dp_value, e.access_code_id) for e in stored] == [("²", None)]
