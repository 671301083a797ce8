"""Push end to end: the simulator's message service over a real WebSocket, our consumer in a thread, real RQ queues.

The world (a finger on the reader, the doorbell, the lock's Wi-Fi) is played through the simulator's control API;
everything reaches the app only through the message service and the jobs it enqueues.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import django_rq
import pytest
from django.test import Client

from locks import push, queues
from locks.models import Alert, CloudAccount, Lock, RemoteUnlockRequest, UnlockMethod
from locks.simulator import push as sim_push
from locks.simulator.models import SimPushMessage
from locks.simulator.server import ThreadingWSGIServer, build_server
from locks.tuya.push import PushConsumer, TuyaPushAuthError
from tests.locks.conftest import World, run_workers
from tests.locks.test_lock_users import add_user, post, watch_until_settled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim_server(transactional_db: None, settings: Any) -> Iterator[ThreadingWSGIServer]:
    """The standalone simulator with its message service (`tuya_simulator --push-port`), in threads."""
    settings.SIM_DELIVERY_SECONDS = 0.2
    settings.SIM_RATE_LIMIT = 0
    settings.ENROLL_POLL_SECONDS = 1
    settings.ENROLL_WINDOW_SECONDS = 60
    server = build_server("127.0.0.1", 0, quiet=True, push_port=0, push_poll_seconds=0.05)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    assert server.push is not None
    settings.TUYA_PUSH_URL = server.push.url  # the accounts' endpoint is a URL: no region to derive it from
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sim_url(sim_server: ThreadingWSGIServer) -> str:  # overrides tests/locks/conftest.py's: same server, plus push
    return f"http://127.0.0.1:{sim_server.server_address[1]}"


@pytest.fixture
def listening(account: CloudAccount) -> Iterator[push.Listener]:
    listener = push.Listener([account.pk], backoff=0.05, max_backoff=0.5)
    listener.reload()
    consumer = next(iter(listener.running.values()))[0]
    wait_for(lambda: consumer.stats.connects == 1)
    yield listener
    listener.stop()


def wait_for(check: Callable[[], Any], seconds: float = 5.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, "not within the time"
            return result
        time.sleep(0.02)


def fresh(lock: Lock) -> Lock:
    lock.refresh_from_db()
    return lock


def queued(queue: str) -> list[Any]:
    return [job for job in django_rq.get_queue(queue).get_jobs() if job.func_name == "locks.jobs.sync_lock_events"]


def test_enrollment_progress_arrives_by_push(listening, owner_client: Client, make_lock, world: World) -> None:
    lock = make_lock("wifi")
    user = add_user(owner_client, lock)
    assert post(owner_client, "lock-user-enroll", user.pk, unlock_type="fingerprint").status_code == 302
    method = UnlockMethod.objects.get(lock_user=user)
    run_workers()  # the entry call: the lock waits for a finger
    wait_for(lambda: UnlockMethod.objects.get(pk=method.pk).steps_total == 4)  # "totalPeriod", pushed at the start

    for _ in range(2):
        world.call("POST", f"/_sim/devices/{lock.device_id}/enroll-step", {})
    method = wait_for(lambda: UnlockMethod.objects.filter(pk=method.pk, progress=50).first())
    assert (method.steps_total, method.steps_left, method.status) == (4, 2, UnlockMethod.Status.ENROLLING)

    for _ in range(2):
        world.call("POST", f"/_sim/devices/{lock.device_id}/enroll-step", {})
    wait_for(lambda: UnlockMethod.objects.filter(pk=method.pk, steps_left=0, progress=95).exists())
    method = watch_until_settled(method)
    assert method.status == UnlockMethod.Status.ACTIVE, method.failure_reason
    assert (method.progress, method.unlock_sn) == (100, 1)


def test_doorbell_enqueues_a_sync_on_the_unlock_queue_at_once(listening, make_lock, world: World) -> None:
    lock = make_lock("wifi")
    started = time.monotonic()
    world.call("POST", f"/_sim/devices/{lock.device_id}/remote-request", {})
    jobs = wait_for(lambda: queued("unlock"), seconds=1.0)
    latency = time.monotonic() - started
    assert latency < 1.0
    assert jobs[0].args == [lock.pk]
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell", {})  # a second ring before the job ran
    time.sleep(0.3)
    assert len(queued("unlock")) == 1  # one waiting job per lock is enough
    run_workers()  # the one job reads both rings
    statuses = list(RemoteUnlockRequest.objects.filter(lock=lock).values_list("status", flat=True))
    assert statuses == [RemoteUnlockRequest.Status.PENDING] * 2
    assert not queued("sync")


def test_an_alarm_syncs_on_the_sync_queue(listening, make_lock, world: World) -> None:
    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/alarm", {"alarm": "pry"})
    wait_for(lambda: queued("sync"))
    assert not queued("unlock")
    run_workers()
    assert Alert.objects.filter(lock=lock, kind="tamper", resolved_at=None).exists()


def test_offline_and_back_online(listening, make_lock, world: World) -> None:
    lock = make_lock("wifi")
    world.online(lock.device_id, False)
    wait_for(lambda: not fresh(lock).online)
    alert = Alert.objects.get(lock=lock, kind="offline")
    assert alert.resolved_at is None

    world.online(lock.device_id, True)
    wait_for(lambda: fresh(lock).online)
    assert lock.last_seen_at is not None
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    wait_for(lambda: queued("sync"))  # what the lock kept while offline is read now (just after the state)


def test_wrong_credentials_are_refused_with_a_clear_error(sim_server, account: CloudAccount) -> None:
    [subscription] = push.subscriptions([account.pk])
    consumer = PushConsumer(subscription.url, account.access_id, "NotTheSecret0123456789abcdefXYZ0", print)
    with pytest.raises(TuyaPushAuthError) as refused:
        consumer.connect_once()
    assert "(HTTP 401)" in str(refused.value)
    assert "wrong access id or secret" in str(refused.value)


def test_a_message_with_a_bad_sign_is_rejected(listening, account: CloudAccount, make_lock) -> None:
    lock = make_lock("wifi")
    consumer = next(iter(listening.running.values()))[0]
    forged = sim_push.inject(account.access_id, 20, {"bizCode": "offline", "devId": lock.device_id}, tamper="sign")
    wait_for(lambda: SimPushMessage.objects.filter(pk=forged.pk).exclude(acked_at=None).exists())
    assert consumer.stats.rejected == 1
    assert fresh(lock).online  # not believed


def test_an_unacked_message_comes_again_after_reconnect_and_counts_once(
    sim_server, account: CloudAccount, make_lock, world: World
) -> None:
    lock = make_lock("wifi")
    [subscription] = push.subscriptions([account.pk])
    calls: list[str] = []

    def crash_before_ack(message: Any) -> None:
        push.handle(message, account_ids=subscription.account_ids)  # the work is done and committed...
        calls.append(message.message_id)
        raise RuntimeError("killed before the ack")  # ...but the process dies before acking it

    first = PushConsumer(subscription.url, account.access_id, account.access_secret, crash_before_ack)
    stop = threading.Event()
    connection = first.connect_once()
    runner = threading.Thread(target=first.consume, args=(connection, stop))
    runner.start()
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell", {})
    wait_for(lambda: calls)
    stop.set()
    runner.join()

    handled: list[str] = []
    second = PushConsumer(
        subscription.url,
        account.access_id,
        account.access_secret,
        lambda m: handled.append(push.handle(m, account_ids=subscription.account_ids)),
    )
    stop = threading.Event()
    runner = threading.Thread(target=lambda: second.consume(second.connect_once(), stop))
    runner.start()
    try:
        wait_for(lambda: handled)
        assert handled == ["sync already waiting"]  # the first delivery's job is still queued: no second one
        message = wait_for(lambda: SimPushMessage.objects.exclude(acked_at=None).first())
        assert message.deliveries == 2
    finally:
        stop.set()
        runner.join()
    assert len(queued("unlock")) == 1
    run_workers()
    assert RemoteUnlockRequest.objects.filter(lock=lock).count() == 1


@pytest.mark.parametrize(
    ("endpoint", "rules", "subscribed"),
    [
        ("eu", {}, "wss://mqe.tuyaeu.com:8285/"),
        ("https://openapi.tuyaus.com", {}, "wss://mqe.tuyaus.com:8285/"),
        # Stored rows the client refuses (#11 B.6): no subscription either, whatever TUYA_PUSH_URL says.
        ("wss://push.example.net/", {}, None),
        ("ws://10.0.0.5:8080/", {"TUYA_ALLOW_URL_ENDPOINTS": True}, None),
        ("https://cloud.example.net", {}, None),
        ("https://cloud.example.net", {"TUYA_PUSH_URL": "wss://push.example.net/"}, None),
        ("http://10.0.0.5", {"TUYA_ALLOW_URL_ENDPOINTS": True, "TUYA_PUSH_URL": "wss://push.example.net/"}, None),
        ("embedded", {}, None),  # the simulator is off
        # Allowed URLs still take TUYA_PUSH_URL.
        ("https://cloud.example.net", {"TUYA_ALLOW_URL_ENDPOINTS": True, "TUYA_PUSH_URL": "wss://push.example.net/"},
         "wss://push.example.net/"),
    ],
)  # fmt: skip
def test_the_push_consumer_follows_the_endpoint_policy(
    org: Any, settings: Any, endpoint: str, rules: dict[str, Any], subscribed: str | None
) -> None:
    settings.TUYA_ALLOW_URL_ENDPOINTS = False
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    settings.EMBEDDED_SIMULATOR = False
    settings.TUYA_PUSH_URL = ""
    for name, value in rules.items():
        setattr(settings, name, value)
    account = CloudAccount.objects.create(
        organisation=org, name="Stored", endpoint=endpoint, access_id="id", access_secret="secret"
    )
    assert push.push_url_for(account) == subscribed
    assert [s.url for s in push.subscriptions([account.pk])] == ([subscribed] if subscribed else [])


def test_a_live_connection_marks_its_accounts_so_quiet_locks_are_polled_rarely(listening, account) -> None:
    marker = queues.push_alive_marker(account.pk)
    connection = django_rq.get_connection("sync")
    wait_for(lambda: connection.exists(marker))
    assert 0 < connection.ttl(marker) <= queues.PUSH_ALIVE_SECONDS  # lapses soon after the connection drops
