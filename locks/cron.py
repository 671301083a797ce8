"""Periodic jobs, run by `manage.py rqcron locks.cron` (one scheduler process per deployment)."""

from rq import cron

from locks import jobs

# The outbox sweeper: every unsettled code gets a job, so nothing waits on a lost enqueue for long.
cron.register(jobs.sweep_access_codes, queue_name="codes", interval=30)
# Drift repair: codes changed outside this app are found within one interval (RELIABILITY.md R7: ≤15 min).
cron.register(jobs.reconcile_all_locks, queue_name="sync", interval=600)
