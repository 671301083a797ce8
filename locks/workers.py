"""The RQ worker class for this app: no fork per job, and fresh database connections around each job.

RQ's default worker forks a work horse for every job; our jobs are short and many (a code takes two), so
the fork and Django's reconnect in each horse cost more than the job itself (bench/lifecycle_bench.py:
8.7 → 13.4 codes/s with 2 workers). Without the fork nothing closes stale connections for us, as a web
request's end would: do it before and after each job, so a restarted database costs one failed job at most.
A job that hangs is still stopped by RQ's timeout (SIGALRM in this process); a killed worker is like a
killed work horse, and the code lease plus the sweeper recover from both.
Log records written during a job carry `job:<id>` where a web request's carry its request id (config/logs.py).
"""

from __future__ import annotations

from django.db import close_old_connections
from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker

from config import logs


class DjangoSimpleWorker(SimpleWorker):
    def execute_job(self, job: Job, queue: Queue) -> None:
        token = logs.request_id.set(f"job:{job.id}")
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()
            logs.request_id.reset(token)
