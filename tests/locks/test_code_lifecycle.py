"""The code lifecycle end to end: services → RQ → workers → the simulated cloud → the keypad."""

from datetime import timedelta

import django_rq
import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from locks import codes, convergence, jobs, pins
from locks.models import AccessCode
from locks.queues import code_batch_marker
from tests.locks.conftest import run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)
Status = AccessCode.Status


def issue(lock, django_capture_on_commit_callbacks, **extra):
    starts, ends = extra.pop("window", window())
    with django_capture_on_commit_callbacks(execute=True):
        return codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends, **extra)


def settle(code):
    run_workers()
    code.refresh_from_db()
    return code


@pytest.mark.parametrize("kind", ["wifi", "zigbee", "ble", "zigbee_hotel", "wifi_keepalive", "access_control"])
def test_issued_code_is_set_only_when_the_lock_has_it_and_then_opens_the_door(
    make_lock, world, kind, django_capture_on_commit_callbacks
):
    lock = make_lock(kind)
    code = issue(lock, django_capture_on_commit_callbacks)
    assert code.status == Status.REQUESTED
    assert len(code.pin) == lock.pin_length
    assert settle(code).status == Status.SET, code.failure_reason
    assert code.cloud_password_id is not None
    assert world.opens(lock.device_id, code.pin)


def test_code_for_a_future_window_is_set_but_does_not_open_yet(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    code = settle(issue(lock, django_capture_on_commit_callbacks, window=window(2, 5)))
    assert code.status == Status.SET
    assert not world.opens(lock.device_id, code.pin)


def test_freeze_and_unfreeze_take_effect_on_the_lock(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    with django_capture_on_commit_callbacks(execute=True):
        codes.freeze_access_code(code)
    assert settle(code).status == Status.FROZEN
    assert not world.opens(lock.device_id, code.pin)
    with django_capture_on_commit_callbacks(execute=True):
        codes.unfreeze_access_code(code)
    assert settle(code).status == Status.SET
    assert world.opens(lock.device_id, code.pin)


def test_freeze_is_refused_on_locks_that_cannot(make_lock, django_capture_on_commit_callbacks):
    code = settle(issue(make_lock("wifi"), django_capture_on_commit_callbacks))
    with pytest.raises(ValidationError, match="Only Zigbee"):
        codes.freeze_access_code(code)


def test_change_pin_and_window(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    old_pin = code.pin
    new_pin = pins.generate_pin(lock)
    with django_capture_on_commit_callbacks(execute=True):
        codes.change_access_code(code, pin=new_pin, ends_at=timezone.now() + timedelta(days=3))
    code = settle(code)
    assert code.status == Status.SET, code.failure_reason
    assert not code.needs_modify
    assert world.opens(lock.device_id, new_pin)
    assert not world.opens(lock.device_id, old_pin)


def test_removed_code_is_gone_from_the_lock(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    with django_capture_on_commit_callbacks(execute=True):
        codes.remove_access_code(code)
    assert settle(code).status == Status.REMOVED
    assert not world.opens(lock.device_id, code.pin)


def test_remove_before_it_was_ever_sent_sends_nothing(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    code = issue(lock, django_capture_on_commit_callbacks)
    codes.remove_access_code(code)
    assert settle(code).status == Status.REMOVED
    assert world.passwords(lock.device_id) == []


def test_weekly_schedule_is_sent_in_the_propertys_time_zone(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    every_day = codes.WeeklySchedule(frozenset(range(7)), 0, 1440)
    code = settle(issue(lock, django_capture_on_commit_callbacks, kind=AccessCode.Kind.WEEKLY, schedule=every_day))
    assert code.status == Status.SET
    stored = world.passwords(lock.device_id)[0]
    assert stored["time_zone"] == "Europe/Amsterdam"
    assert stored["schedule_list"] == [{"effective_time": 0, "invalid_time": 1440, "working_day": 127}]
    assert world.opens(lock.device_id, code.pin)


def test_one_time_code_opens_once(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    code = settle(issue(lock, django_capture_on_commit_callbacks, kind=AccessCode.Kind.ONCE))
    assert world.opens(lock.device_id, code.pin)
    assert not world.opens(lock.device_id, code.pin)


def test_lost_reply_on_create_is_found_not_duplicated(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    world.fault(endpoint="temp_password_create", kind="lost_reply", count=1)
    code = issue(lock, django_capture_on_commit_callbacks)
    run_workers()
    code.refresh_from_db()
    assert code.status == Status.UNKNOWN
    assert "checking whether the code was created" in code.failure_reason
    convergence.converge_access_code(code.pk)  # the retry: finds the password by its marker
    code.refresh_from_db()
    assert code.status == Status.SET
    assert len(world.passwords(lock.device_id)) == 1
    assert world.opens(lock.device_id, code.pin)


def test_offline_lock_backs_off_with_a_reason_then_delivers(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    world.fault(endpoint="temp_password_create", kind="tuya_code", code=2001, count=1)
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    assert code.status == Status.SENDING
    # The lock reports online, so it is not told "offline" (#11 D.16): the cloud could not reach it this time.
    assert "could not reach the lock" in code.failure_reason
    assert code.next_attempt_at > timezone.now()
    convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    assert code.status == Status.SET, code.failure_reason


def test_a_committed_code_whose_enqueue_was_lost_is_swept(make_lock, world, monkeypatch):
    lock = make_lock("wifi")
    monkeypatch.setattr("locks.queues.enqueue_converge", lambda code_id: None)  # Redis down at commit time
    starts, ends = window()
    code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    monkeypatch.undo()
    assert jobs.sweep_access_codes() == 1
    assert settle(code).status == Status.SET


def test_rolled_back_request_enqueues_nothing(make_lock, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    starts, ends = window()

    def request_that_fails_after_the_service_call():
        with transaction.atomic():
            codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
            raise RuntimeError("the request failed after the service call")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        request_that_fails_after_the_service_call()
    assert callbacks == []
    assert not AccessCode.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"pin": "12345"}, "pin"),
        ({"pin": "1234567"}, "pin"),  # a run
        ({"window": window(-5, -1)}, "ends_at"),
        ({"window": window(5, 1)}, "ends_at"),
        ({"kind": AccessCode.Kind.WEEKLY}, "schedule_days"),
        ({"label": " "}, "label"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_created(make_lock, extra, field):
    lock = make_lock("wifi")
    starts, ends = extra.pop("window", window())
    with pytest.raises(ValidationError) as info:
        codes.issue_access_code(lock=lock, label=extra.pop("label", "Ada"), starts_at=starts, ends_at=ends, **extra)
    assert field in info.value.message_dict
    assert not AccessCode.objects.exists()


def test_empty_schedule_is_refused():
    with pytest.raises(ValidationError, match="at least one day"):
        codes.WeeklySchedule(frozenset(), 540, 720)


def test_duplicate_pin_on_the_same_lock_is_refused(make_lock, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    code = issue(lock, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="already uses this PIN"):
        issue(lock, django_capture_on_commit_callbacks, pin=code.pin)


def test_stale_version_is_refused(make_lock, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    code = issue(lock, django_capture_on_commit_callbacks)
    codes.remove_access_code(code, version=code.version)
    with pytest.raises(ValidationError, match="changed while you were looking"):
        codes.freeze_access_code(code, version=code.version)


def test_every_change_is_audited_without_the_pin(make_lock, front_desk, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    code = issue(lock, django_capture_on_commit_callbacks, actor=front_desk)
    codes.freeze_access_code(code, actor=front_desk)
    codes.remove_access_code(code, actor=front_desk)
    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor__username"))
    assert events[-3:] == [("code.issue", "desk"), ("code.freeze", "desk"), ("code.delete", "desk")]
    assert not any(code.pin in e.summary for e in AuditEvent.objects.all())


def test_pins_are_encrypted_at_rest(make_lock, django_capture_on_commit_callbacks):
    from django.db import connection

    code = issue(make_lock("wifi"), django_capture_on_commit_callbacks)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pin FROM locks_accesscode WHERE id = %s", [code.pk])
        stored = cursor.fetchone()[0]
    assert code.pin not in stored
    assert stored.startswith("gAAAA")  # a Fernet token


def test_zigbee_code_that_could_not_reach_the_lock_is_resent_when_it_is_back(
    make_lock, world, settings, django_capture_on_commit_callbacks
):
    lock = make_lock("zigbee")
    world.online(lock.device_id, False)
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    assert code.status == Status.SENDING  # never "set": the lock has not confirmed
    assert code.failure_reason == "The lock's gateway could not reach it; resending in a minute."
    world.online(lock.device_id, True)
    settings.SIM_ISSUE_PASSWORD_INTERVAL = 0  # a minute later
    convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    assert code.status == Status.SET, code.failure_reason
    assert world.opens(lock.device_id, code.pin)


def given_up_zigbee_code(make_lock, world, settings, capture):
    """A Zigbee code whose lock never answers: the gateway gives up after its resends (the cloud's delivery state)."""
    settings.SIM_ISSUE_PASSWORD_INTERVAL = 0
    lock = make_lock("zigbee")
    world.online(lock.device_id, False)
    code = settle(issue(lock, capture))
    for _ in range(4):
        convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    return code


def test_zigbee_code_gives_up_after_a_few_resends(make_lock, world, settings, django_capture_on_commit_callbacks):
    code = given_up_zigbee_code(make_lock, world, settings, django_capture_on_commit_callbacks)
    assert code.status == Status.FAILED
    assert "did not accept the code" in code.failure_reason


def test_no_pin_or_secret_in_logs_or_job_arguments(make_lock, world, caplog, django_capture_on_commit_callbacks):
    import logging

    caplog.set_level(logging.DEBUG)
    lock = make_lock("zigbee")
    code = issue(lock, django_capture_on_commit_callbacks)
    queued = django_rq.get_queue("codes").jobs
    assert [list(job.args) for job in queued] == [[code.pk]]  # JSON-serialised: ids only, never a PIN
    world.fault(endpoint="temp_password_create", kind="http_500", count=1)
    settle(code)
    convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    assert code.status == Status.SET
    secret = lock.cloud_account.access_secret
    for text in (caplog.text, code.failure_reason, repr(code)):
        assert code.pin not in text
        assert secret not in text


def test_refused_credentials_pause_the_whole_account_and_say_why(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    other = make_lock("zigbee")
    account = lock.cloud_account
    account.access_secret = "W" * 32
    account.save()
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    assert code.status == Status.REQUESTED  # nothing was sent: the cloud refused us before anything happened
    assert "Check the access secret" in code.failure_reason
    account.refresh_from_db()
    assert "(Tuya 1004)" in account.last_error  # the simulator at a URL is not Tuya: its code, not its words
    other.refresh_from_db()
    assert other.paused_until is not None
    assert other.paused_until > timezone.now()


def test_with_no_waiting_in_jobs_the_accounts_delayed_confirmation_job_confirms_codes(
    make_lock, world, settings, django_capture_on_commit_callbacks
):
    import time

    settings.CODE_POLL_WINDOW_SECONDS = 0  # workers never sleep on a lock: throughput mode
    lock = make_lock("zigbee")
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    assert code.status == Status.SENDING  # created, not yet confirmed, and the worker moved on
    assert (code.attempts, code.failure_reason) == (0, "")
    scheduled = django_rq.get_queue("codes").scheduled_job_registry
    assert scheduled.count == 1  # the next look at the lock waits in RQ's scheduled registry, not in a worker
    for _ in range(50):
        time.sleep(settings.CODE_POLL_SECONDS)
        if settle(code).status == Status.SET:
            break
    assert code.status == Status.SET
    assert world.opens(lock.device_id, code.pin)


def test_with_no_waiting_in_jobs_the_sweeper_confirms_codes_whose_confirmation_job_was_lost(
    make_lock, world, settings, django_capture_on_commit_callbacks
):
    import time

    settings.CODE_POLL_WINDOW_SECONDS = 0
    lock = make_lock("zigbee")
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    assert code.status == Status.SENDING
    queue = django_rq.get_queue("codes")
    for job_id in queue.scheduled_job_registry.get_job_ids():
        queue.scheduled_job_registry.remove(job_id, delete_job=True)  # lost, as with a flushed Redis
    django_rq.get_connection("codes").delete(code_batch_marker(lock.cloud_account_id))  # its marker lapsed
    AccessCode.objects.filter(pk=code.pk).update(next_attempt_at=timezone.now())  # the sweeper's fallback passed
    for _ in range(50):
        time.sleep(settings.CODE_POLL_SECONDS)
        jobs.sweep_access_codes()
        if settle(code).status == Status.SET:
            break
    assert code.status == Status.SET
    assert world.opens(lock.device_id, code.pin)


def test_a_refused_removal_is_retried_after_a_growing_pause_not_at_every_sweep(
    make_lock, world, django_capture_on_commit_callbacks
):
    lock = make_lock("wifi")
    code = settle(issue(lock, django_capture_on_commit_callbacks))
    assert code.status == Status.SET
    world.fault(endpoint="temp_password_delete", kind="tuya_code", code=1109, count=100)  # the cloud says no
    with django_capture_on_commit_callbacks(execute=True):
        codes.remove_access_code(code)
    code = settle(code)
    assert (code.status, code.desired) == (Status.FAILED, AccessCode.Desired.REMOVED)
    assert code.next_attempt_at > timezone.now()  # paused: the next sweeps leave it alone
    assert code.pk not in set(convergence.due_codes())
    paused_for = code.next_attempt_at - timezone.now()

    AccessCode.objects.filter(pk=code.pk).update(next_attempt_at=timezone.now())  # the pause is over
    jobs.sweep_access_codes()
    code = settle(code)
    assert code.status == Status.FAILED
    assert code.next_attempt_at - timezone.now() > paused_for  # and it grew

    world.call("DELETE", "/_sim/faults")
    AccessCode.objects.filter(pk=code.pk).update(next_attempt_at=timezone.now())
    jobs.sweep_access_codes()
    assert settle(code).status == Status.REMOVED
    assert not world.opens(lock.device_id, code.pin)
