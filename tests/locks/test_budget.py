"""One budget of cloud calls per project, shared through Redis, spent by priority (issue #15 item 3)."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.urls import reverse
from django.utils import timezone

from locks import events
from locks.cloud import budget
from locks.cloud.tuya.client import api_for
from locks.models import SyncCursor
from tests.locks.conftest import run_workers

PROJECT = "test-project"
OPEN_LOGS = ("GET", "/v1.1/devices/vdevo1726/door-lock/open-logs")


class Clock:
    """A clock the budget reads and sleeps on: time moves only when it sleeps."""

    def __init__(self, at: float = 1_000_000.25) -> None:
        self.now, self.slept = at, 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


@pytest.fixture
def per_second(settings, queues) -> int:
    settings.TUYA_CALLS_PER_SECOND = 10
    budget._redis.cache_clear()  # the test's Redis
    return 10


def take_many(n: int, priority: budget.Priority, clock: Clock, call: tuple[str, str] = OPEN_LOGS) -> list[float]:
    """When each of n calls at this priority got its slot."""
    got = []
    with budget.at(priority):
        for _ in range(n):
            budget.take(PROJECT, *call, clock=clock, sleep=clock.sleep)
            got.append(clock.now)
    return got


def test_each_priority_fills_a_second_only_up_to_its_share(per_second) -> None:
    clock = Clock()
    start = int(clock.now)
    got = take_many(7, budget.Priority.MAINTENANCE, clock)  # 35 % of 10: 3 a second
    assert [int(t) - start for t in got] == [0, 0, 0, 1, 1, 1, 2]
    got = take_many(6, budget.Priority.POLL, Clock(clock.now + 10))  # 50 %: 5 a second
    assert [int(t) - int(got[0]) for t in got] == [0, 0, 0, 0, 0, 1]


def test_door_calls_never_wait_and_the_others_give_way_to_them(per_second) -> None:
    clock = Clock()
    take_many(12, budget.Priority.DOOR, clock)  # a check-in burst: more than the whole second
    assert clock.slept == 0
    got = take_many(1, budget.Priority.PUSHED, clock)
    assert int(got[0]) == int(Clock().now) + 1  # the pushed sync waited for the next second


def test_a_call_that_finds_no_room_within_its_wait_is_deferred(per_second) -> None:
    frozen = Clock()
    take_many(10, budget.Priority.DOOR, frozen)

    def no_time_passes(seconds: float) -> None:
        frozen.slept += seconds  # the second never ends: every door call keeps it full

    with budget.at(budget.Priority.POLL), pytest.raises(budget.BudgetShort) as deferred:
        budget.take(PROJECT, *OPEN_LOGS, clock=frozen, sleep=no_time_passes)
    assert frozen.slept <= budget.BUDGET_WAIT_SECONDS
    assert "door codes" in deferred.value.message
    assert budget.deferred_count(PROJECT) == 1


def test_each_api_has_its_own_budget_shared_by_every_lock(per_second) -> None:
    """Tuya limits each API of a project on its own: every lock's open-logs share one second, device details
    another."""
    clock = Clock()
    start = int(clock.now)
    other_lock = ("GET", "/v1.1/devices/bf3e0a77c2/door-lock/open-logs")
    got = take_many(5, budget.Priority.POLL, clock) + take_many(1, budget.Priority.POLL, clock, other_lock)
    assert [int(t) - start for t in got] == [0, 0, 0, 0, 0, 1]  # the other lock's call waited: the same API
    details = ("GET", "/v1.0/devices/bf3e0a77c2")
    assert [int(t) - start for t in take_many(5, budget.Priority.POLL, clock, details)] == [1, 1, 1, 1, 1]


@pytest.mark.parametrize(
    ("method", "path", "api"),
    [
        ("get", "/v1.1/devices/vdevo1726/door-lock/open-logs?page_no=2", "GET /v1.1/devices/*/door-lock/open-logs"),
        ("GET", "/v1.0/devices/abcdef", "GET /v1.0/devices/*"),  # a device id without a digit is still an id
        ("DELETE", "/v1.0/devices/d1/door-lock/temp-password/8812", "DELETE /v1.0/devices/*/door-lock/temp-password/*"),
        ("POST", "/v1.0/smart-lock/devices/d1/password-ticket", "POST /v1.0/smart-lock/devices/*/password-ticket"),
    ],
)
def test_a_calls_api_is_its_path_without_ids(method: str, path: str, api: str) -> None:
    assert budget.api_of(method, path) == api


def test_a_too_frequent_answer_halves_that_apis_budget_for_a_while(per_second, settings) -> None:
    budget.shrink(PROJECT, *OPEN_LOGS)
    clock = Clock()
    got = take_many(3, budget.Priority.POLL, clock)  # 50 % of 5: 2 a second
    assert [int(t) - int(got[0]) for t in got] == [0, 0, 1]
    details = take_many(5, budget.Priority.POLL, Clock(clock.now + 10), ("GET", "/v1.0/devices/d1"))
    assert len({int(t) for t in details}) == 1  # another API keeps its whole budget
    shrunk = [key.decode() for key in django_rq.get_connection("sync").keys("doors:budget-shrunk:*")]
    assert len(shrunk) == 1
    ttl = django_rq.get_connection("sync").ttl(shrunk[0])
    assert 0 < ttl <= settings.TUYA_BUDGET_SHRINK_SECONDS


@pytest.mark.django_db(transaction=True)
def test_the_clouds_1199_shrinks_the_projects_budget(per_second, make_lock, world, account) -> None:
    lock = make_lock("wifi")
    world.fault(kind="tuya_code", code=1199, endpoint="open_logs_v11")
    events.sync_lock(lock)
    client = api_for(account).client
    project = budget.project_key(client.base_url, account.access_id)
    path = f"/v1.1/devices/{lock.device_id}/door-lock/open-logs"
    assert django_rq.get_connection("sync").exists(f"doors:budget-shrunk:{budget._api_key(project, 'GET', path)}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("queue", "priority"),
    [("unlock", budget.Priority.DOOR), ("codes", budget.Priority.DOOR), ("sync", budget.Priority.PUSHED),
     ("maintenance", budget.Priority.MAINTENANCE)],
)  # fmt: skip
def test_a_job_spends_at_its_queues_priority(queues, queue: str, priority: budget.Priority) -> None:
    job = django_rq.get_queue(queue).enqueue("locks.cloud.budget.current.get")
    run_workers()
    assert job.return_value() == priority
    assert budget.current.get() == budget.Priority.DOOR  # the worker's own context is back to a web request's


@pytest.mark.django_db(transaction=True)
def test_the_setup_page_says_when_the_safety_net_is_behind(owner_client, make_lock) -> None:
    lock = make_lock("wifi")
    cursor = SyncCursor.objects.create(lock=lock, stream="open-logs", last_synced_at=timezone.now())
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "Event sync is behind" not in page
    SyncCursor.objects.filter(pk=cursor.pk).update(last_synced_at=timezone.now() - timedelta(hours=8))
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "Event sync is behind: a lock of this project was last read 8" in page
    assert "raise it to the project" in page
