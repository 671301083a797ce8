"""Door codes in batches (locks/code_batches.py): one job per cloud account sends the new codes and reads each
waiting lock once, settling every code its lock confirmed; everything else goes back to the code's own converge job."""

import json
import time
from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone

from locks import code_batches, codes, jobs, queues
from locks.models import AccessCode
from locks.queues import code_batch_marker, queued_marker
from tests.locks.conftest import run_workers, window
from webhooks.models import WebhookEndpoint, WebhookMessage

pytestmark = pytest.mark.django_db(transaction=True)
Status = AccessCode.Status


@pytest.fixture(autouse=True)
def throughput_mode(settings, sim_url):  # after sim_url, which sets a window of its own
    settings.CODE_POLL_WINDOW_SECONDS = 0  # no waiting inside jobs: confirmations come from the account's job


def issue(lock, django_capture_on_commit_callbacks, label="Ada"):
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        return codes.issue_access_code(lock=lock, label=label, starts_at=starts, ends_at=ends)


def create(*codes_):
    """What the workers run for each issued code: its converge job, which creates it and leaves it waiting."""
    for code in codes_:
        jobs.converge_access_code(code.pk)


def delivered(settings):
    time.sleep(0.2 + settings.CODE_POLL_SECONDS + 0.1)  # the simulator's delivery (conftest), then one poll


def settled(*codes_, settings):
    """Run the workers until every code is set, as time passes (the batch job looks again after a poll)."""
    for _ in range(30):
        run_workers()
        if statuses(*codes_) == [Status.SET] * len(codes_):
            break
        delivered(settings)
    return statuses(*codes_)


def statuses(*codes_):
    return [AccessCode.objects.get(pk=code.pk).status for code in codes_]


def test_one_job_per_account_confirms_every_waiting_code_reading_each_lock_once(
    make_lock, world, settings, django_capture_on_commit_callbacks
):
    alone, shared, wifi = make_lock("zigbee"), make_lock("zigbee"), make_lock("wifi")
    WebhookEndpoint.objects.create(
        organisation=alone.organisation, url="https://hooks.example.com/doors", event_types=["access_code.set"]
    )
    issued = [
        issue(alone, django_capture_on_commit_callbacks),
        issue(shared, django_capture_on_commit_callbacks, "Bob"),
        issue(shared, django_capture_on_commit_callbacks, "Cy"),
        issue(wifi, django_capture_on_commit_callbacks),
    ]
    queue = django_rq.get_queue("codes")
    queue.empty()  # the batch job the issues asked for: these codes are sent by their converge jobs instead
    django_rq.get_connection("codes").delete(code_batch_marker(alone.cloud_account_id))
    create(*issued)
    assert statuses(*issued) == [Status.SENDING] * 4
    assert queue.scheduled_job_registry.count == 1  # one confirmation job for the account, not one per code
    assert django_rq.get_connection("codes").exists(code_batch_marker(alone.cloud_account_id))
    for code in AccessCode.objects.filter(pk__in=[c.pk for c in issued]):
        assert code.lease_until is None  # released in the write that recorded the password id
        assert code.cloud_password_id is not None
        assert code.next_attempt_at - timezone.now() > queues.CODE_BATCH_FALLBACK / 2  # the sweeper waits

    delivered(settings)
    assert jobs.run_code_batch(alone.cloud_account_id) == 4
    assert statuses(*issued) == [Status.SET] * 4
    for code in AccessCode.objects.filter(pk__in=[c.pk for c in issued]):
        assert (code.pending_op, code.lease_until, code.attempts) == ("", None, 0)
        assert world.opens(code.lock.device_id, code.pin)
    events = WebhookMessage.objects.filter(event_type="access_code.set")
    assert sorted(json.loads(message.body)["data"]["id"] for message in events) == sorted(c.pk for c in issued)
    assert queue.scheduled_job_registry.count == 1  # nothing left waiting: it did not schedule itself again


def test_a_code_not_confirmed_yet_waits_for_the_next_run(make_lock, settings, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    settings.SIM_DELIVERY_SECONDS = 1.5  # long enough that the lock is still busy with it however slow the test
    code = issue(lock, django_capture_on_commit_callbacks)
    create(code)
    settings.CODE_POLL_SECONDS = 0  # look at once
    django_rq.get_connection("codes").delete(code_batch_marker(lock.cloud_account_id))
    assert jobs.run_code_batch(lock.cloud_account_id) == 0
    code.refresh_from_db()
    assert (code.status, code.lease_until) == (Status.SENDING, None)
    assert code.next_attempt_at > timezone.now() + queues.CODE_BATCH_FALLBACK / 2
    assert django_rq.get_connection("codes").exists(code_batch_marker(lock.cloud_account_id))  # it runs again
    time.sleep(1.5)
    assert settled(code, settings=settings) == [Status.SET]


def test_a_code_a_worker_holds_is_left_to_it(make_lock, settings, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    code = issue(lock, django_capture_on_commit_callbacks)
    create(code)
    held = timezone.now() + timedelta(seconds=60)
    AccessCode.objects.filter(pk=code.pk).update(lease_until=held)  # a converge job is on it
    delivered(settings)
    assert jobs.run_code_batch(lock.cloud_account_id) == 0
    code.refresh_from_db()
    assert (code.status, code.lease_until) == (Status.SENDING, held)


def test_a_wish_changed_while_it_waited_goes_back_to_the_converge_job(
    make_lock, world, settings, django_capture_on_commit_callbacks
):
    lock = make_lock("zigbee")
    code = issue(lock, django_capture_on_commit_callbacks)
    create(code)
    with django_capture_on_commit_callbacks(execute=False):  # the service's own job is not run
        codes.freeze_access_code(code)
    delivered(settings)
    django_rq.get_connection("codes").delete(queued_marker(code.pk))
    assert jobs.run_code_batch(lock.cloud_account_id) == 0  # set on the lock, but frozen is wanted
    assert django_rq.get_connection("codes").exists(queued_marker(code.pk))  # its converge job freezes it
    for _ in range(20):
        run_workers()
        delivered(settings)
        if statuses(code) == [Status.FROZEN]:
            break
    assert statuses(code) == [Status.FROZEN]
    assert not world.opens(lock.device_id, AccessCode.objects.get(pk=code.pk).pin)


def test_a_failed_delivery_goes_back_to_the_converge_job(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    world.online(lock.device_id, False)  # the gateway takes the create but cannot reach the lock
    code = issue(lock, django_capture_on_commit_callbacks)
    create(code)
    time.sleep(4 * 0.2 + 0.3)  # the gateway tried three more times, then said it could not deliver
    django_rq.get_connection("codes").delete(queued_marker(code.pk))
    assert jobs.run_code_batch(lock.cloud_account_id) == 0
    code.refresh_from_db()
    assert (code.status, code.lease_until) == (Status.SENDING, None)
    assert django_rq.get_connection("codes").exists(queued_marker(code.pk))


def test_codes_whose_confirmation_job_was_lost_are_confirmed_by_the_sweeper_after_the_fallback(
    make_lock, world, settings, django_capture_on_commit_callbacks
):
    lock = make_lock("zigbee")
    code = issue(lock, django_capture_on_commit_callbacks)
    create(code)
    queue = django_rq.get_queue("codes")
    for job_id in queue.scheduled_job_registry.get_job_ids():
        queue.scheduled_job_registry.remove(job_id, delete_job=True)  # lost, as with a flushed Redis
    django_rq.get_connection("codes").delete(code_batch_marker(lock.cloud_account_id))  # its marker lapsed
    delivered(settings)
    assert jobs.sweep_access_codes() == 0  # not yet: the confirmation job may only be late
    AccessCode.objects.filter(pk=code.pk).update(next_attempt_at=timezone.now())  # the fallback has passed
    assert jobs.sweep_access_codes() == 1
    for _ in range(20):
        run_workers()
        if statuses(code) == [Status.SET]:
            break
        delivered(settings)
    assert statuses(code) == [Status.SET]
    assert world.opens(lock.device_id, code.pin)


def test_new_codes_go_out_in_one_batch_job_per_account_and_are_confirmed_by_it(
    make_lock, world, settings, django_capture_on_commit_callbacks
):
    locks = [make_lock("zigbee_hotel"), make_lock("zigbee"), make_lock("wifi")]
    issued = [issue(lock, django_capture_on_commit_callbacks, f"Guest {i}") for i, lock in enumerate(locks)]
    queue = django_rq.get_queue("codes")
    assert [job.func_name for job in queue.get_jobs()] == ["locks.jobs.run_code_batch"]  # one, not one per code
    assert jobs.run_code_batch(locks[0].cloud_account_id) == 3  # sent
    for code in AccessCode.objects.filter(pk__in=[c.pk for c in issued]):
        assert (code.status, code.pending_op, code.lease_until) == (Status.SENDING, "create", None)
        assert code.cloud_password_id is not None
        assert code.op_started_at is not None
        assert [p["password_id"] for p in world.passwords(code.lock.device_id)] == [code.cloud_password_id]
    assert queue.scheduled_job_registry.count == 1  # it looks again after a poll
    delivered(settings)
    assert jobs.run_code_batch(locks[0].cloud_account_id) == 3  # confirmed
    assert statuses(*issued) == [Status.SET] * 3
    for code in issued:
        assert world.opens(code.lock.device_id, code.pin)
        assert len(world.passwords(code.lock.device_id)) == 1


def test_a_burst_larger_than_one_run_is_shared_with_a_second_run_at_once(
    make_lock, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(code_batches, "SEND_BATCH", 2)
    lock = make_lock("zigbee")
    issued = [issue(lock, django_capture_on_commit_callbacks, f"Guest {i}") for i in range(3)]
    queue = django_rq.get_queue("codes")
    django_rq.get_connection("codes").delete(code_batch_marker(lock.cloud_account_id))
    queue.empty()
    assert jobs.run_code_batch(lock.cloud_account_id) == 2
    assert [job.func_name for job in queue.get_jobs()] == ["locks.jobs.run_code_batch"]  # the next run, not delayed
    assert sorted(statuses(*issued)) == [Status.REQUESTED, Status.SENDING, Status.SENDING]
    assert settled(*issued, settings=settings) == [Status.SET] * 3


def test_a_batch_killed_after_sending_leaves_no_duplicate_the_converge_job_adopts_the_password(
    make_lock, world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    lock = make_lock("zigbee")  # a residential Zigbee lock takes overlapping codes: a second create would show
    code = issue(lock, django_capture_on_commit_callbacks)

    def killed(*args, **kwargs):
        raise SystemExit("killed before recording the password ids")

    monkeypatch.setattr(code_batches, "_record", killed)
    with pytest.raises(SystemExit):
        jobs.run_code_batch(lock.cloud_account_id)
    monkeypatch.undo()
    code.refresh_from_db()
    assert (code.status, code.cloud_password_id) == (Status.SENDING, None)  # sent, its id never recorded
    assert code.lease_until is not None  # held until the lease ends
    assert jobs.run_code_batch(lock.cloud_account_id) == 0  # a second run leaves it alone meanwhile
    now = timezone.now()
    AccessCode.objects.filter(pk=code.pk).update(lease_until=now, next_attempt_at=now)  # the lease and fallback end
    assert jobs.sweep_access_codes() == 1
    assert settled(code, settings=settings) == [Status.SET]
    assert len(world.passwords(lock.device_id)) == 1  # adopted by its marker, not created twice


def test_a_failed_create_is_recorded_as_its_converge_job_would_and_left_to_it(
    make_lock, world, django_capture_on_commit_callbacks
):
    lock = make_lock("zigbee")
    code = issue(lock, django_capture_on_commit_callbacks)
    world.fault(endpoint="temp_password_create", kind="tuya_code", code=2001, count=1)
    assert jobs.run_code_batch(lock.cloud_account_id) == 0
    code.refresh_from_db()
    assert (code.status, code.lease_until, code.attempts) == (Status.SENDING, None, 1)
    assert "could not reach the lock" in code.failure_reason  # as test_code_lifecycle's offline lock
    assert code.next_attempt_at > timezone.now()  # backing off
    jobs.run_code_batch(lock.cloud_account_id)
    assert statuses(code) == [Status.SENDING]  # a code that failed once is its converge job's from now on
    jobs.converge_access_code(code.pk)
    code.refresh_from_db()
    assert code.status in (Status.SENDING, Status.SET), code.failure_reason
    assert code.cloud_password_id is not None
    assert len(world.passwords(lock.device_id)) == 1


def test_a_create_whose_reply_was_lost_is_found_by_its_marker_not_made_twice(
    make_lock, world, settings, django_capture_on_commit_callbacks
):
    lock = make_lock("wifi")
    code = issue(lock, django_capture_on_commit_callbacks)
    world.fault(endpoint="temp_password_create", kind="lost_reply", count=1)
    jobs.run_code_batch(lock.cloud_account_id)
    code.refresh_from_db()
    assert code.status == Status.UNKNOWN
    assert "checking whether the code was created" in code.failure_reason
    jobs.converge_access_code(code.pk)  # the retry finds the password by its marker
    assert settled(code, settings=settings) == [Status.SET]
    assert len(world.passwords(lock.device_id)) == 1
    assert world.opens(lock.device_id, code.pin)


def test_a_code_a_converge_job_moved_on_between_look_up_and_claim_is_left_to_that_job(
    make_lock, world, monkeypatch, django_capture_on_commit_callbacks
):
    lock = make_lock("zigbee")
    code = issue(lock, django_capture_on_commit_callbacks)
    claim = code_batches._claim

    def raced(code_ids, now):
        # A converge job took the code's first step and backed off just before the batch's claim.
        AccessCode.objects.filter(pk=code.pk).update(attempts=1, failure_reason="The cloud is busy; retrying shortly.")
        return claim(code_ids, now)

    monkeypatch.setattr(code_batches, "_claim", raced)
    django_rq.get_connection("codes").delete(queued_marker(code.pk))
    assert jobs.run_code_batch(lock.cloud_account_id) == 0
    code.refresh_from_db()
    assert (code.status, code.lease_until, code.cloud_password_id) == (Status.REQUESTED, None, None)  # not sent
    assert world.passwords(lock.device_id) == []
    assert django_rq.get_connection("codes").exists(queued_marker(code.pk))  # its converge job goes on
