"""Periodic jobs, run by `manage.py rqcron locks.cron` (one scheduler process per deployment)."""

from rq import cron

from locks import jobs

# The outbox sweeper: every unsettled code gets a job, so nothing waits on a lost enqueue for long.
cron.register(jobs.sweep_access_codes, queue_name="codes", interval=30)
