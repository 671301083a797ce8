"""The RQ worker class for this app: no fork per job, and fresh database connections around each job.

RQ's default worker forks a work horse for every job; our jobs are short and many (a code takes two), so
the fork and Django's reconnect in each horse cost more than the job itself (bench/lifecycle_bench.py:
8.7 → 13.4 codes/s with 2 workers). Without the fork nothing closes stale connections for us, as a web
request's end would: do it before and after each job, so a restarted database costs one failed job at most.
A job that hangs is still stopped by RQ's timeout (SIGALRM in this process); a killed worker is like a
killed work horse, and the code lease plus the sweeper recover from both.
Log records written during a job carry `job:<id>` where a web request's carry its request id (config/logs.py).

Routine jobs (the periodic ones and the per-lock jobs they fan out) run every few seconds and mostly find nothing to
do: RQ's four INFO lines per job are DEBUG for them, and one INFO line says what a run did when it did something.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import close_old_connections
from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker

from config import logs
from locks import periodic
from locks.cloud import budget

logger = logging.getLogger(__name__)


def routine_jobs() -> frozenset[str]:
    fanned_out = {"locks.jobs.sync_locks_events", "locks.jobs.reconcile_locks", "locks.alert_scans.check_locks_health"}
    return frozenset({task.job for task in periodic.PERIODIC} | fanned_out)


class RoutineQuiet:
    """The worker's logger, with info() at DEBUG for a routine job's records: while one runs (`quiet`), and for the
    line RQ writes when it takes one from the queue (it names the job's function, before execute_job)."""

    def __init__(self, wrapped: logging.Logger, routine: frozenset[str]) -> None:
        self.wrapped, self.routine, self.quiet = wrapped, routine, False

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        names_routine = any(isinstance(arg, str) and f"{name}(" in arg for arg in args for name in self.routine)
        (self.wrapped.debug if self.quiet or names_routine else self.wrapped.info)(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class DjangoSimpleWorker(SimpleWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.routine_log = RoutineQuiet(self.log, routine_jobs())
        self.log = self.routine_log  # type: ignore[assignment]  # RQ only calls the Logger methods it wraps

    def execute_job(self, job: Job, queue: Queue) -> None:
        token = logs.request_id.set(f"job:{job.id}")
        priority = budget.current.set(budget.BY_QUEUE.get(queue.name, budget.Priority.DOOR))
        routine = job.func_name in self.routine_log.routine
        self.routine_log.quiet = routine
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()
            self.routine_log.quiet = False
            if routine:
                self._say_what_it_did(job)
            budget.current.reset(priority)
            logs.request_id.reset(token)

    def _say_what_it_did(self, job: Any) -> None:
        try:
            done = job.return_value()
        except Exception:  # noqa: BLE001 - a log line is not worth a failed job
            done = None
        if isinstance(done, int) and done > 0:
            logger.info("%s: %s", job.description, done)
        else:
            logger.debug("%s: nothing to do", job.description)
