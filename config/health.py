"""`GET /healthz`: can this deployment do its work? For load balancers and monitors; no sign-in needed.

Each component is "ok" or "failed", nothing more: no versions, hosts, error messages or counts, since anyone may
call it. The reason a check failed goes to the log (the exception's class only).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rq.worker import Worker

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2  # a hung Redis must not hang the probe (and the load balancer's view of this process)


def database_ok() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row: tuple[object, ...] | None = cursor.fetchone()
        return row == (1,)


def workers_ok(conn: redis.Redis) -> bool:
    """Every queue is read by at least one live worker. RQ keeps a worker's key only while its heartbeat is fresh
    (the worker TTL, 420 s by default, or a running job's timeout + 60 s), so a listed worker is a live one."""
    served: set[str] = set()
    for worker in Worker.all(connection=conn):
        served.update(worker.queue_names())
    return set(settings.RQ_QUEUES) <= served


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}

    def check(name: str, probe: Callable[[], object]) -> None:
        try:
            checks[name] = "ok" if probe() else "failed"
        except Exception as exc:  # any failure of a component is that component failing
            logger.warning("health check %s failed: %s", name, type(exc).__name__)
            checks[name] = "failed"
        else:
            if checks[name] == "failed":
                logger.warning("health check %s failed", name)

    check("database", database_ok)
    conn = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
    try:
        check("redis", conn.ping)
        if checks["redis"] == "ok":
            check("workers", lambda: workers_ok(conn))
        else:
            checks["workers"] = "failed"  # their heartbeats live in Redis
    finally:
        conn.close()
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "failed", "checks": checks}, status=200 if healthy else 503)
