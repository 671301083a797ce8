"""The periodic jobs reach the workers in a form they accept, once per interval across schedulers."""

import django_rq
import pytest
from rq.registry import FailedJobRegistry

from locks import jobs, periodic, services
from locks.models import AccessCode
from locks.queues import enqueue_converge
from tests.locks.conftest import run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)


def test_periodic_jobs_run_on_the_json_workers_and_sweep_lost_codes(make_lock, world, monkeypatch):
    lock = make_lock("wifi")
    monkeypatch.setattr("locks.queues.enqueue_converge", lambda code_id: None)  # the fast path was lost
    starts, ends = window()
    code = services.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    monkeypatch.undo()
    names = periodic.enqueue_due()
    assert names[:4] == ["sweep-access-codes", "reconcile-all-locks", "purge-old-pins", "sweep-enrollments"]
    assert names == [task.name for task in periodic.PERIODIC]  # every periodic job, each once
    assert periodic.enqueue_due() == []  # another scheduler in the same interval enqueues nothing
    run_workers()  # the sweep, the reconcile, the purge, then the converge job the sweep enqueued
    run_workers()
    for name in ("codes", "sync"):
        assert FailedJobRegistry(queue=django_rq.get_queue(name)).count == 0
    code.refresh_from_db()
    assert code.status == AccessCode.Status.SET
    assert world.opens(lock.device_id, code.pin)


def test_a_code_whose_job_was_lost_gets_a_new_one_after_the_marker_lapses(make_lock, redis_url):
    lock = make_lock("wifi")
    starts, ends = window()
    code = services.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    enqueue_converge(code.pk)
    queue = django_rq.get_queue("codes")
    assert queue.count == 1
    enqueue_converge(code.pk)
    assert queue.count == 1  # already waiting
    queue.empty()  # the job is lost (a dead scheduler's registry, a flushed queue)
    django_rq.get_connection("codes").delete(f"doors:converge-queued:{code.pk}")  # its marker lapsed
    enqueue_converge(code.pk)
    assert queue.count == 1


def test_fixed_id_periodic_jobs_do_not_pile_up_while_workers_lag(make_lock, queues) -> None:
    from locks import alerts

    lock = make_lock("wifi")
    for _ in range(3):  # three intervals pass and no worker has started them yet
        jobs.reconcile_all_locks()
        alerts.check_all_locks()
    queue = django_rq.get_queue("sync")
    assert sorted(queue.get_job_ids()) == sorted([f"reconcile-{lock.pk}", f"lock-health-{lock.pk}"])
