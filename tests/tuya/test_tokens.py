"""Token lifecycle: one grant and one refresh per deployment, however many threads and processes ask."""

import multiprocessing
import threading
import time

import pytest
import redis

from locks.tuya import MemoryTokenStore, RedisTokenStore, TuyaClient
from tests.tuya.cloud_server import FakeTuyaCloud

CLIENT_ID = "tokenclientid0000001"
SECRET = "abcdefabcdefabcdefabcdefabcdef12"


@pytest.fixture
def cloud():
    with FakeTuyaCloud(CLIENT_ID, SECRET) as server:
        server.reply("GET", "/v1.0/ping", {"pong": True})
        yield server


def _hammer(clients, calls_each=3):
    barrier = threading.Barrier(len(clients))
    failures = []

    def work(client):
        barrier.wait()
        try:
            for _ in range(calls_each):
                client.get("/v1.0/ping")
        except Exception as exc:  # surfaced below with the test's assertion
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_threads_sharing_a_client_make_one_token_request(cloud):
    client = TuyaClient(cloud.url, CLIENT_ID, SECRET)
    _hammer([client] * 16)
    assert cloud.grants == 1


def test_clients_sharing_a_store_make_one_token_request(cloud):
    store = MemoryTokenStore()
    _hammer([TuyaClient(cloud.url, CLIENT_ID, SECRET, token_store=store) for _ in range(8)])
    assert cloud.grants == 1


def test_expired_token_is_refreshed_once_for_all_threads(cloud):
    store = MemoryTokenStore()
    clients = [TuyaClient(cloud.url, CLIENT_ID, SECRET, token_store=store) for _ in range(8)]
    clients[0].get("/v1.0/ping")
    cloud.expire_all_tokens()  # every client now holds a token the cloud refuses with 1010
    _hammer(clients)
    assert (cloud.grants, cloud.refreshes) == (1, 1)


def test_token_near_expiry_is_refreshed_before_the_cloud_refuses_it():
    with FakeTuyaCloud(CLIENT_ID, SECRET, token_ttl=121) as cloud:  # stale for us 1 s after the grant
        cloud.reply("GET", "/v1.0/ping", {"pong": True})
        client = TuyaClient(cloud.url, CLIENT_ID, SECRET)
        client.get("/v1.0/ping")
        time.sleep(1.1)
        client.get("/v1.0/ping")
        assert (cloud.grants, cloud.refreshes) == (1, 1)


def test_lost_refresh_token_falls_back_to_a_new_grant(cloud):
    client = TuyaClient(cloud.url, CLIENT_ID, SECRET)
    client.get("/v1.0/ping")
    cloud.refresh_tokens.clear()  # the cloud forgot it (or another deployment used it)
    cloud.expire_all_tokens()
    client.get("/v1.0/ping")
    assert cloud.grants == 2


def _process_worker(url, redis_url, barrier, results):
    store = RedisTokenStore(redis.Redis.from_url(redis_url))
    client = TuyaClient(url, CLIENT_ID, SECRET, token_store=store)
    barrier.wait()
    try:
        for _ in range(3):
            client.get("/v1.0/ping")
        results.put("ok")
    except Exception as exc:
        results.put(repr(exc))


def _run_processes(cloud, redis_url, count=4):
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(count), ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(cloud.url, redis_url, barrier, results)) for _ in range(count)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    assert [results.get(timeout=5) for _ in procs] == ["ok"] * count


@pytest.fixture
def redis_store_url(redis_url):
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter("tuya:token:*"):
        connection.delete(key)
    return redis_url


@pytest.mark.slow
def test_processes_sharing_redis_make_one_token_request(cloud, redis_store_url):
    _run_processes(cloud, redis_store_url)
    assert cloud.grants == 1


@pytest.mark.slow
def test_processes_refresh_an_expired_token_once(cloud, redis_store_url):
    _run_processes(cloud, redis_store_url)
    cloud.expire_all_tokens()
    _run_processes(cloud, redis_store_url)
    assert (cloud.grants, cloud.refreshes) == (1, 1)


def test_token_is_encrypted_in_the_shared_store(cloud, redis_store_url):
    connection = redis.Redis.from_url(redis_store_url)
    client = TuyaClient(cloud.url, CLIENT_ID, SECRET, token_store=RedisTokenStore(connection))
    client.get("/v1.0/ping")
    token = client.tokens.current()
    stored = b"".join(connection.get(key) for key in connection.scan_iter("tuya:token:*") if not key.endswith(b":lock"))
    assert stored
    assert token.access_token.encode() not in stored
    assert token.refresh_token.encode() not in stored


def test_a_redis_that_decodes_responses_serves_the_stored_token(cloud, redis_store_url):
    # redis.Redis may hand back str (decode_responses=True); the stored blob is base64 text either way.
    connection = redis.Redis.from_url(redis_store_url, decode_responses=True)
    first = TuyaClient(cloud.url, CLIENT_ID, SECRET, token_store=RedisTokenStore(connection))
    first.get("/v1.0/ping")
    second = TuyaClient(cloud.url, CLIENT_ID, SECRET, token_store=RedisTokenStore(connection))
    second.get("/v1.0/ping")
    assert cloud.grants == 1
