"""RQ jobs: load by id, check it is still wanted, call a service. Each is safe to run twice.

Enqueue failures are logged, not raised: the sweeper finds every unsettled code again, so a job lost
to a Redis outage or a killed worker is only late, never lost.
"""

from __future__ import annotations

import logging

import django_rq
from redis.exceptions import RedisError
from rq import Retry
from rq.job import JobStatus

from locks import services

logger = logging.getLogger(__name__)

CODES_QUEUE = "codes"


def converge_access_code(code_id: int) -> str:
    """Move one door code towards its desired state on the lock."""
    return services.converge_access_code(code_id)


def sweep_access_codes() -> int:
    """Periodic: enqueue every code that is not settled and due, and expire codes past their end."""
    services.expire_codes()
    due = list(services.due_codes())
    for code_id in due:
        enqueue_converge(code_id)
    return len(due)


PENDING = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED})


def enqueue_converge(code_id: int) -> None:
    job_id = f"converge-{code_id}"
    try:
        queue = django_rq.get_queue(CODES_QUEUE)
        existing = queue.fetch_job(job_id)
        if existing is not None and existing.get_status(refresh=False) in PENDING:
            return  # one waiting job per code is enough: it reads the latest state when it runs
        queue.enqueue(
            converge_access_code,
            code_id,
            job_id=job_id,
            retry=Retry(max=5, interval=[5, 15, 60, 300, 900]),
            failure_ttl=30 * 24 * 3600,
        )
    except RedisError:
        logger.warning("Could not enqueue code %s; the sweeper will pick it up", code_id)
