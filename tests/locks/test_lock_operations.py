"""Offline and dynamic passwords, advanced passwords, hotel clear-all and Zigbee sync, through the workers."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from locks import codes, operations
from locks.models import AccessCode, LockOperation
from tests.locks.conftest import run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)
Done = LockOperation.Status.DONE


def run(operation):
    run_workers()
    operation.refresh_from_db()
    return operation


def test_offline_window_is_rounded_as_the_spec_says():
    now = datetime(2021, 1, 23, 22, 11, 12, tzinfo=UTC)
    assert operations.offline_window("once", now=now, starts_at=None, ends_at=None) == (
        datetime(2021, 1, 23, 22, tzinfo=UTC),
        datetime(2021, 1, 24, 4, tzinfo=UTC),
    )
    assert operations.offline_window("clear_all", now=now, starts_at=None, ends_at=None)[1] == datetime(
        2021, 1, 24, 22, tzinfo=UTC
    )
    entered = datetime(2021, 1, 27, 15, 11, 12, tzinfo=UTC)
    assert operations.offline_window("multiple", now=now, starts_at=entered, ends_at=entered + timedelta(hours=5)) == (
        datetime(2021, 1, 27, 15, tzinfo=UTC),
        datetime(2021, 1, 27, 20, tzinfo=UTC),
    )


def test_offline_password_opens_an_offline_lock(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    world.online(lock.device_id, False)
    starts, ends = window(-1, 26)
    with django_capture_on_commit_callbacks(execute=True):
        operation = operations.request_offline_password(
            lock=lock, kind="multiple", label="Plumber", starts_at=starts, ends_at=ends
        )
    operation = run(operation)
    assert operation.status == Done, operation.failure_reason
    assert len(operation.secret) == 10
    assert operation.result["effective_time"] == int(starts.replace(minute=0, second=0, microsecond=0).timestamp())
    assert world.opens(lock.device_id, operation.secret)
    with django_capture_on_commit_callbacks(execute=True):
        clear = operations.request_offline_password(lock=lock, kind="clear_one", clears=operation)
    clear = run(clear)
    assert not world.opens(lock.device_id, clear.secret)  # typing the clearing code clears, it does not open
    assert not world.opens(lock.device_id, operation.secret)


def test_dynamic_password_opens_the_door(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    with django_capture_on_commit_callbacks(execute=True):
        operation = operations.request_dynamic_password(lock=lock)
    assert run(operation).status == Done
    assert world.opens(lock.device_id, operation.secret)


def test_advanced_password_on_a_hotel_lock(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee_hotel")
    with django_capture_on_commit_callbacks(execute=True):
        operation = operations.set_advanced_password(lock=lock, advanced_type="emergency", pin="580412")
    operation = run(operation)
    assert (operation.status, operation.result) == (Done, {"phase": 2})
    assert world.opens(lock.device_id, "580412")


def test_an_advanced_password_the_gateway_cannot_deliver_fails_in_plain_words(
    make_lock, world, django_capture_on_commit_callbacks
):
    lock = make_lock("zigbee_hotel")
    world.online(lock.device_id, False)  # the gateway gives up after its retries: the spec's phase 3
    with django_capture_on_commit_callbacks(execute=True):
        operation = operations.set_advanced_password(lock=lock, advanced_type="emergency", pin="580412")
    operation = run(operation)
    assert operation.status == LockOperation.Status.FAILED
    assert operation.result == {"phase": 3}
    assert operation.failure_reason == (
        "The lock did not take the advanced password: its gateway could not reach it. "
        "Check that the lock is online (in range of its gateway, batteries good), then set it again."
    )


def test_clear_all_on_a_hotel_lock_removes_every_code(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee_hotel")
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        code = codes.issue_access_code(lock=lock, label="Guest", starts_at=starts, ends_at=ends)
    run_workers()
    with django_capture_on_commit_callbacks(execute=True):
        operation = operations.clear_all_codes(lock=lock)
    assert run(operation).status == Done
    run_workers()
    code.refresh_from_db()
    assert code.status == AccessCode.Status.REMOVED
    assert not world.opens(lock.device_id, code.pin)


def test_sync_pending_codes_once_a_minute(make_lock, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    with django_capture_on_commit_callbacks(execute=True):
        operation = operations.sync_pending_codes(lock=lock)
    assert run(operation).status == Done
    with pytest.raises(ValidationError, match="once a minute"):
        operations.sync_pending_codes(lock=lock)


@pytest.mark.parametrize(
    ("kind", "call"),
    [
        ("zigbee_hotel", lambda lock: operations.request_offline_password(lock=lock, kind="once")),
        ("wifi_video", lambda lock: operations.request_dynamic_password(lock=lock)),
        ("wifi", lambda lock: operations.set_advanced_password(lock=lock, advanced_type="admin", pin="580412")),
        ("zigbee", lambda lock: operations.clear_all_codes(lock=lock)),
        ("wifi", lambda lock: operations.sync_pending_codes(lock=lock)),
    ],
)
def test_operations_a_lock_cannot_do_are_refused_before_anything_is_sent(make_lock, kind, call):
    lock = make_lock(kind)
    with pytest.raises(ValidationError):
        call(lock)
    assert not LockOperation.objects.exists()


def test_offline_window_that_rounds_to_nothing_is_refused(make_lock):
    lock = make_lock("wifi")
    start = timezone.now().replace(minute=5) + timedelta(hours=2)
    with pytest.raises(ValidationError, match="whole hours"):
        operations.request_offline_password(
            lock=lock, kind="multiple", starts_at=start, ends_at=start + timedelta(minutes=30)
        )


def test_lost_operation_job_is_handed_out_again(make_lock, monkeypatch):
    from locks import jobs

    lock = make_lock("zigbee")
    monkeypatch.setattr("locks.queues.enqueue_lock_operation", lambda op_id: None)
    operation = operations.request_dynamic_password(lock=lock)
    monkeypatch.undo()
    LockOperation.objects.filter(pk=operation.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    jobs.sweep_access_codes()
    assert run(operation).status == Done


def test_an_operation_that_waited_long_in_the_queue_is_not_handed_out_twice_while_it_runs(make_lock) -> None:
    lock = make_lock("wifi")
    long_ago = timezone.now() - timedelta(minutes=20)
    waited = LockOperation.objects.create(organisation=lock.organisation, lock=lock, kind="dynamic")
    stuck = LockOperation.objects.create(organisation=lock.organisation, lock=lock, kind="dynamic")
    LockOperation.objects.filter(pk__in=[waited.pk, stuck.pk]).update(created_at=long_ago, status="running")
    LockOperation.objects.filter(pk=waited.pk).update(started_at=timezone.now())  # a worker took it just now
    LockOperation.objects.filter(pk=stuck.pk).update(started_at=long_ago)  # its worker died long ago
    assert operations.stalled_operations() == [stuck.pk]
    waited.refresh_from_db()
    assert waited.status == "running"
