"""The periodic jobs reach the workers in a form they accept, once per interval across schedulers."""

import logging

import django_rq
import pytest
from rq.registry import FailedJobRegistry

from locks import codes, jobs, periodic
from locks.models import AccessCode
from locks.queues import enqueue_converge
from tests.locks.conftest import run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)


def test_periodic_jobs_run_on_the_json_workers_and_sweep_lost_codes(make_lock, world, monkeypatch):
    lock = make_lock("wifi")
    monkeypatch.setattr("locks.queues.enqueue_code_batch", lambda account_id: None)  # the fast path was lost
    starts, ends = window()
    code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    monkeypatch.undo()
    names = periodic.enqueue_due()
    assert names[:4] == ["sweep-access-codes", "reconcile-all-locks", "purge-old-pins", "sweep-enrollments"]
    assert names == [task.name for task in periodic.PERIODIC]  # every periodic job, each once
    assert periodic.enqueue_due() == []  # another scheduler in the same interval enqueues nothing
    run_workers()  # the sweep, the reconcile, the purge, then the converge job the sweep enqueued
    run_workers()
    for name in ("codes", "maintenance", "sync"):
        assert FailedJobRegistry(queue=django_rq.get_queue(name)).count == 0
    code.refresh_from_db()
    assert code.status == AccessCode.Status.SET
    assert world.opens(lock.device_id, code.pin)


def test_a_code_whose_job_was_lost_gets_a_new_one_after_the_marker_lapses(make_lock, redis_url):
    lock = make_lock("wifi")
    starts, ends = window()
    code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    enqueue_converge(code.pk)
    queue = django_rq.get_queue("codes")
    assert queue.count == 1
    enqueue_converge(code.pk)
    assert queue.count == 1  # already waiting
    queue.empty()  # the job is lost (a dead scheduler's registry, a flushed queue)
    django_rq.get_connection("codes").delete(f"doors:converge-queued:{code.pk}")  # its marker lapsed
    enqueue_converge(code.pk)
    assert queue.count == 1


def info_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]


def test_a_periodic_job_with_nothing_to_do_logs_nothing_at_info(make_lock, world, monkeypatch, caplog):
    """#11 C.19: the 5 s sweeper and the other periodic jobs said four INFO lines a run (about 6,000 in 17 minutes
    of `dev.py run`) when there was nothing to do. At rest: DEBUG only; a run that did something: one INFO line;
    any other job: RQ's lines as before."""
    make_lock("wifi")
    with caplog.at_level(logging.INFO):
        assert periodic.enqueue_due()
        django_rq.get_queue("codes").enqueue(jobs.sweep_access_codes)  # a second sweep, after the first one
        caplog.clear()
        run_workers()
    routine = [line for line in info_lines(caplog) if "sweep_access_codes" in line or "purge_old_pins" in line]
    assert routine == []

    # The fast path was lost: the sweep finds it.
    monkeypatch.setattr("locks.queues.enqueue_converge", lambda code_id: None)
    starts, ends = window()
    lock = make_lock("wifi")
    code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    monkeypatch.undo()
    django_rq.get_queue("codes").enqueue(jobs.sweep_access_codes)
    caplog.clear()
    # RQ's own logger too: a test before this one may have left it above INFO (seen in a full run).
    with caplog.at_level(logging.INFO), caplog.at_level(logging.INFO, logger="rq.worker"):
        run_workers()
    lines = info_lines(caplog)
    assert [line for line in lines if "sweep_access_codes" in line] == ["locks.jobs.sweep_access_codes(): 1"]
    assert any(f"converge_access_code({code.pk})" in line for line in lines)  # other jobs: RQ's lines as ever


def test_the_scheduler_loop_logs_its_enqueues_at_debug(caplog, queues, monkeypatch):
    ticks = iter([None])

    def sleep(seconds):
        next(ticks)  # one tick, then StopIteration ends the loop

    monkeypatch.setattr(periodic.time, "sleep", sleep)
    with caplog.at_level(logging.DEBUG, logger="locks.periodic"), pytest.raises(StopIteration):
        periodic.run_forever()
    enqueued = [r for r in caplog.records if r.name == "locks.periodic"]
    assert enqueued
    assert {r.levelno for r in enqueued} == {logging.DEBUG}
