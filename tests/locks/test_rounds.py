"""Lock-wide periodic work in rounds (locks/rounds.py, issue #15 item 2): one job per chunk of locks, a round that
ends when its last chunk ends, maintenance ahead of a sync backlog, and a cadence that follows push."""

from datetime import timedelta

import django_rq
import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from locks import alert_scans, events, jobs, periodic, queues, rounds
from locks.models import Lock, SyncCursor
from tests.locks.conftest import run_workers

pytestmark = pytest.mark.django_db(transaction=True)


def redis():
    return django_rq.get_connection("codes")


def interval_passes() -> None:
    """Every periodic task's interval is over (its claim lapses), as if the scheduler ran much later."""
    for task in periodic.PERIODIC:
        redis().delete(f"doors:periodic:{task.name}")


def chunks(queue_name: str, func_name: str) -> list[list[int]]:
    return [job.args[1] for job in django_rq.get_queue(queue_name).get_jobs() if job.func_name == func_name]


def test_a_round_enqueues_one_job_per_chunk_covering_every_lock_once(make_lock, settings):
    settings.LOCK_ROUND_CHUNK = 2
    locks = [make_lock("wifi") for _ in range(5)]
    assert jobs.reconcile_all_locks() == 5
    found = chunks("maintenance", "locks.jobs.reconcile_locks")
    assert [len(chunk) for chunk in found] == [2, 2, 1]
    assert sorted(i for chunk in found for i in chunk) == sorted(lock.pk for lock in locks)
    assert int(redis().get(rounds.guard_key(rounds.RECONCILE))) == 3  # chunks left
    assert alert_scans.check_all_locks() == 5
    assert len(chunks("maintenance", "locks.alert_scans.check_locks_health")) == 3
    assert django_rq.get_queue("sync").count == 0  # maintenance never waits behind the sync queue


def test_the_next_round_starts_only_after_the_last_chunk_ended(make_lock, world, settings):
    settings.LOCK_ROUND_CHUNK = 1
    for _ in range(3):
        make_lock("wifi")
    assert rounds.RECONCILE in periodic.enqueue_due()
    assert redis().exists(rounds.guard_key(rounds.RECONCILE))

    interval_passes()
    started = periodic.enqueue_due()
    assert rounds.RECONCILE not in started  # the first round's starter has not even run
    assert "purge-old-pins" in started  # plain periodic jobs are not held back

    run_workers(max_jobs=20)  # starter and chunks (with the rest of the periodic jobs)
    assert not redis().exists(rounds.guard_key(rounds.RECONCILE))
    interval_passes()
    assert rounds.RECONCILE in periodic.enqueue_due()


def test_a_round_in_progress_is_not_started_again_when_its_interval_lapses(make_lock, world, settings):
    settings.LOCK_ROUND_CHUNK = 1
    for _ in range(3):
        make_lock("wifi")
    assert jobs.sync_all_lock_events() == 3
    queue = django_rq.get_queue("sync")
    first = queue.get_job_ids()[0]
    run_workers(max_jobs=1)  # one of three chunks has run
    assert first not in queue.get_job_ids()
    assert int(redis().get(rounds.guard_key(rounds.EVENTS_SYNC))) == 2
    interval_passes()
    assert rounds.EVENTS_SYNC not in periodic.enqueue_due()
    assert len(chunks("sync", "locks.jobs.sync_locks_events")) == 2  # nothing piled up
    run_workers()
    assert not redis().exists(rounds.guard_key(rounds.EVENTS_SYNC))


def test_a_round_whose_jobs_were_lost_ends_by_itself(make_lock, settings):
    settings.LOCK_ROUND_CHUNK = 1
    make_lock("wifi")
    make_lock("wifi")
    jobs.reconcile_all_locks()
    django_rq.get_queue("maintenance").empty()  # a flushed queue: no chunk will ever say it is done
    ttl = redis().ttl(rounds.guard_key(rounds.RECONCILE))
    assert 0 < ttl <= rounds.ROUND_STALL_SECONDS


def test_one_failing_lock_does_not_stop_its_chunk_and_the_round_still_ends(queues):
    rounds.claim("test-round", "maintenance")
    redis().set(rounds.guard_key("test-round"), 1)
    seen = []

    def work(lock_id: int) -> int:
        seen.append(lock_id)
        if lock_id == 2:
            raise RuntimeError("the cloud said something odd")
        return 1

    assert rounds.run_chunk("test-round", "maintenance", [1, 2, 3], work, "test") == 2
    assert seen == [1, 2, 3]
    assert not redis().exists(rounds.guard_key("test-round"))


def test_a_round_with_nothing_due_ends_at_once(queues):
    rounds.claim(rounds.EVENTS_SYNC, "sync")
    assert jobs.sync_all_lock_events() == 0
    assert not redis().exists(rounds.guard_key(rounds.EVENTS_SYNC))


def test_maintenance_runs_ahead_of_a_sync_backlog(make_lock, world, settings):
    settings.LOCK_ROUND_CHUNK = 1
    for _ in range(3):
        make_lock("wifi")
    jobs.sync_all_lock_events()  # a backlog of three sync chunks
    jobs.reconcile_all_locks()  # then maintenance is enqueued
    run_workers(max_jobs=3)
    assert chunks("maintenance", "locks.jobs.reconcile_locks") == []  # all three reconciles went first
    assert len(chunks("sync", "locks.jobs.sync_locks_events")) == 3


def cursor(lock: Lock, *, synced_ago: timedelta | None, event_ago: timedelta | None) -> None:
    now = timezone.now()
    SyncCursor.objects.create(
        lock=lock, stream="open-logs", last_synced_at=now - synced_ago if synced_ago is not None else None,
        last_event_at=now - event_ago if event_ago is not None else None,
    )  # fmt: skip


def test_with_push_alive_quiet_locks_are_polled_only_as_a_safety_net(make_lock, account):
    quiet = make_lock("wifi")
    cursor(quiet, synced_ago=timedelta(hours=1), event_ago=timedelta(days=2))
    busy = make_lock("wifi")
    cursor(busy, synced_ago=timedelta(minutes=20), event_ago=timedelta(minutes=10))
    busy_just_read = make_lock("wifi")  # busy too, but polled minutes ago: push brings its events meanwhile
    cursor(busy_just_read, synced_ago=timedelta(minutes=5), event_ago=timedelta(minutes=10))
    overdue = make_lock("wifi")
    cursor(overdue, synced_ago=timedelta(hours=7), event_ago=timedelta(days=2))
    never = make_lock("wifi")
    everyone = {quiet.pk, busy.pk, busy_just_read.pk, overdue.pk, never.pk}

    assert set(events.due_lock_ids()) == everyone  # no push connection: every lock, every interval
    redis().set(queues.push_alive_marker(account.pk), 1, ex=queues.PUSH_ALIVE_SECONDS)
    assert set(events.due_lock_ids()) == {busy.pk, overdue.pk, never.pk}
    redis().delete(queues.push_alive_marker(account.pk))  # the connection dropped and its marker lapsed
    assert set(events.due_lock_ids()) == everyone


def test_the_due_query_is_one_statement_however_many_locks(make_lock, account):
    redis().set(queues.push_alive_marker(account.pk), 1, ex=queues.PUSH_ALIVE_SECONDS)
    make_lock("wifi")
    with CaptureQueriesContext(db_connection) as few:
        events.due_lock_ids()
    for _ in range(5):
        make_lock("wifi")
    with CaptureQueriesContext(db_connection) as more:
        events.due_lock_ids()
    assert len(few) == len(more) == 2  # the accounts to ask Redis about, then the due locks


def test_a_round_whose_first_job_fails_lets_the_next_interval_start_one(make_lock, monkeypatch):
    make_lock("wifi")
    rounds.claim(rounds.EVENTS_SYNC, "sync")

    def database_away(now=None):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(events, "due_lock_ids", database_away)
    with pytest.raises(RuntimeError):
        jobs.sync_all_lock_events()
    assert not redis().exists(rounds.guard_key(rounds.EVENTS_SYNC))
    interval_passes()
    assert rounds.EVENTS_SYNC in periodic.enqueue_due()


def test_with_push_alive_health_checks_only_locks_not_seen_for_the_safety_net(make_lock, account):
    seen = make_lock("wifi")
    unseen = make_lock("wifi")
    never = make_lock("wifi")
    now = timezone.now()
    Lock.objects.filter(pk=seen.pk).update(last_seen_at=now - timedelta(hours=1))
    Lock.objects.filter(pk=unseen.pk).update(last_seen_at=now - timedelta(hours=7))
    everyone = {seen.pk, unseen.pk, never.pk}

    assert set(alert_scans.health_due_lock_ids()) == everyone  # no push: every lock, every round
    redis().set(queues.push_alive_marker(account.pk), 1, ex=queues.PUSH_ALIVE_SECONDS)
    assert set(alert_scans.health_due_lock_ids()) == {unseen.pk, never.pk}
    assert alert_scans.check_all_locks() == 2
