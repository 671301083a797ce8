"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi` (Procfile, deploy/systemd/).

Read from the environment like the app's settings. The app's requests are short (every lock call runs in an RQ
worker), so plain sync workers with a short timeout; more throughput is more processes (WEB_CONCURRENCY) or more
machines behind the load balancer (README, "Scaling out").
"""

from __future__ import annotations

import multiprocessing
import os

from config.logs import logging_config

bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address.strip()]
# gunicorn's own rule of thumb (2 × cores + 1), capped: each process holds a database connection.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # a request held longer is a bug: its worker is restarted
graceful_timeout = 30
keepalive = 5  # behind a proxy that keeps connections open
# Recycle each process now and then, staggered, so a slow leak never becomes an outage.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file on tmpfs where there is one: a worker on a slow disk is not mistaken for a stuck one.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
# gunicorn reads FORWARDED_ALLOW_IPS itself (default 127.0.0.1,::1) for X-Forwarded-Proto only: REMOTE_ADDR stays the
# proxy's address. The app reads the same variable (settings.FORWARDED_ALLOW_IPS) to take the client address from
# X-Forwarded-For (tenants.signals.client_ip), for the audit trail and sign-in lockouts.
# No access log: the app logs one line per request, with its request id (config.middleware.RequestId). gunicorn's
# own lines go out like the app's: JSON in production, plain in debug (LOG_FORMAT).
accesslog = None
errorlog = "-"
_debug = os.environ.get("DEBUG", "true").strip().lower() in {"1", "true", "yes", "on"}
_log_format = os.environ.get("LOG_FORMAT") or ("plain" if _debug else "json")
logconfig_dict = logging_config(_log_format, os.environ.get("LOG_LEVEL") or "INFO")
proc_name = "doors-web"
