"""GET /healthz: 200 when the database, Redis and a worker for every queue answer; 503 naming what failed."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import django_rq
import pytest
from django.db import OperationalError
from rq.worker import Worker

pytestmark = pytest.mark.django_db

QUEUES = ["unlock", "codes", "maintenance", "sync", "media", "webhooks"]


@pytest.fixture
def live_worker(redis_url: str) -> Iterator[Worker]:
    """A worker on every queue that has announced itself (birth + heartbeat), as `manage.py rqworker` does."""
    worker = Worker([django_rq.get_queue(name) for name in QUEUES], connection=django_rq.get_connection("codes"))
    worker.register_birth()
    worker.heartbeat()
    yield worker
    worker.register_death()


def fake_workers(monkeypatch: pytest.MonkeyPatch, *queue_lists: list[str]) -> None:
    workers = [SimpleNamespace(queue_names=lambda names=names: names) for names in queue_lists]
    monkeypatch.setattr(Worker, "all", classmethod(lambda cls, **kwargs: workers))


def test_healthz_is_ok_when_database_redis_and_a_worker_answer(client: Any, live_worker: Worker) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "workers": "ok"}}
    assert "no-cache" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie: nothing to sign in to


def test_healthz_fails_when_no_worker_reads_some_queue(
    client: Any, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_workers(monkeypatch, ["unlock", "codes"])
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "failed", "checks": {"database": "ok", "redis": "ok", "workers": "failed"}}
    fake_workers(monkeypatch, ["unlock", "codes"], ["maintenance", "sync", "media", "webhooks"])
    assert client.get("/healthz").status_code == 200
    fake_workers(monkeypatch)
    assert client.get("/healthz").json()["checks"]["workers"] == "failed"


def test_healthz_names_redis_when_it_is_down(client: Any, settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.REDIS_URL = "redis://:hunter2-redis-password@127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "failed", "workers": "failed"}
    assert "hunter2" not in response.content.decode()
    assert "hunter2" not in caplog.text
    assert "health check redis failed: ConnectionError" in caplog.text


def test_healthz_names_the_database_when_it_fails_without_saying_why(
    client: Any, live_worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> bool:
        raise OperationalError('connection to server at "db.internal" (10.0.0.5), port 5432 failed')

    monkeypatch.setattr("config.health.database_ok", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "failed", "checks": {"database": "failed", "redis": "ok", "workers": "ok"}}
    assert b"db.internal" not in response.content


def test_healthz_answers_plain_http_probes_when_https_is_enforced(
    client: Any, settings: Any, live_worker: Worker
) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_healthz_is_read_only(client: Any, live_worker: Worker) -> None:
    assert client.post("/healthz").status_code in (403, 405)  # CSRF refuses it first, else GET only
