"""Webhook deliveries per second for one worker, against a local receiver, next to the raw POST rate in the same run.

The receiver is a keep-alive HTTP/1.1 server in a separate process (so it does not share our GIL) that verifies every
request's Standard Webhooks signature with the `standardwebhooks` package and counts the good, the bad and the
webhook-ids seen twice. Three figures, in rounds that take turns:

- raw: a bare `requests.Session` loop POSTing the same bodies (no database, no signing): the floor of the transport;
- job: `webhooks.delivery.deliver(delivery_id)` called in a loop in this one process, as a worker calls it
  (claim with one UPDATE, load the row, sign, POST through the pool, record the attempt and the outcome in one
  transaction), the Redis marker included;
- worker (not with --quick): the same deliveries through RQ, a real `locks.workers.DjangoSimpleWorker` in burst
  mode on the `webhooks` queue in this process (JSON serializer), enqueued as `emit` does after commit.

Emitting is timed too (one message and one delivery per event, in its own transaction). Production settings (DEBUG
off, made-up keys), WEBHOOK_ALLOW_PRIVATE_URLS on for the local receiver, a temporary SQLite database (or a
throwaway PostgreSQL database next to DATABASE_URL when it is exported) and an embedded redis-server (or REDIS_URL).
Run from the repo root:  .venv/bin/python bench/webhook_bench.py [--deliveries 2000] [--rounds 3] [--quick]
Exits 1 if the receiver saw a bad signature, a delivery was not delivered, or one was sent twice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
BODY_BYTES = 600  # about the size of a stay.created payload

RECEIVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from standardwebhooks.webhooks import Webhook
secret = sys.argv[1]
hook = Webhook(secret)
stats = {"good": 0, "bad": 0, "plain": 0, "repeats": 0}
seen = set()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms wait for a delayed ACK
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if "webhook-id" not in headers:
            stats["plain"] += 1
        else:
            try:
                hook.verify(body, headers)
                stats["good"] += 1
            except Exception:
                stats["bad"] += 1
            if headers["webhook-id"] in seen:
                stats["repeats"] += 1
            seen.add(headers["webhook-id"])
        self._answer(b'{"ok":true}')
    def do_GET(self):
        self._answer(json.dumps(stats).encode())
    def _answer(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def production_env(workdir: Path) -> None:
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(workdir / "var"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "localhost",  # required in production mode; no request is served here
            "WEBHOOK_ALLOW_PRIVATE_URLS": "true",  # the receiver is on 127.0.0.1
            "LOG_LEVEL": "WARNING",
        }
    )


def database(workdir: Path) -> tuple[str, str | None]:
    """The bench's own database: a throwaway PostgreSQL database beside DATABASE_URL, or a temporary SQLite file."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("postgres"):
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
        return "SQLite (temporary file)", None
    import psycopg

    name = f"doors_webhook_bench_{os.getpid()}"
    base, _, _ = given.rpartition("/")
    with psycopg.connect(given, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{base}/{name}"
    return f"PostgreSQL ({name}, dropped after)", given


def drop(admin_url: str | None) -> None:
    if admin_url is None:
        return
    import psycopg

    name = os.environ["DATABASE_URL"].rpartition("/")[2]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000, help="per figure and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200 deliveries, 1 round, no RQ worker (CI)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the job loop")
    args = parser.parse_args()
    if args.quick:
        args.deliveries, args.rounds = 200, 1
    workdir = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    production_env(workdir)
    db_label, admin_url = database(workdir)
    procs: list[subprocess.Popen[str]] = []
    try:
        redis_url = os.environ.get("REDIS_URL", "")
        if not redis_url:
            (workdir / "redis").mkdir()
            procs.append(subprocess.Popen([PYTHON, "-m", "config.embedded_redis", str(workdir / "redis")], cwd=ROOT))
            redis_url = f"unix://{workdir / 'redis' / 'redis.sock'}"
            os.environ["REDIS_URL"] = redis_url
            wait_for_redis(redis_url)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
        return run(args, db_label, procs)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        drop(admin_url)
        shutil.rmtree(workdir, ignore_errors=True)


def wait_for_redis(url: str) -> None:
    import redis

    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return
        except (OSError, redis.RedisError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def run(args: argparse.Namespace, db_label: str, procs: list[subprocess.Popen[str]]) -> int:
    import django

    django.setup()
    import django_rq
    import requests
    from django.db import transaction
    from django.utils import timezone
    from rq.serializers import JSONSerializer

    from locks.workers import DjangoSimpleWorker
    from tenants.models import Organisation
    from webhooks import delivery, emit, payloads, services
    from webhooks.models import WebhookDelivery

    queue = django_rq.get_queue("webhooks")
    if queue.connection.keys("rq:*"):
        print("REDIS_URL holds RQ keys already: give the bench an empty database.", file=sys.stderr)
        return 1
    org = Organisation.objects.create(name="Bench", slug="bench")
    # One receiver per secret: a first endpoint's secret is known only once it exists, so the receiver starts after.
    endpoint, secret = services.create_endpoint(org, url="http://127.0.0.1:9/", event_types=["lock.alert"])
    receiver = subprocess.Popen([PYTHON, "-c", RECEIVER, secret], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    procs.append(receiver)  # type: ignore[arg-type]
    port = int(receiver.stdout.readline()) if receiver.stdout else 0
    url = f"http://127.0.0.1:{port}/hooks"
    services.update_endpoint(endpoint, url=url)
    message = "x" * (BODY_BYTES - 200)

    def emit_many(n: int) -> tuple[list[int], float]:
        started = time.perf_counter()
        for i in range(n):
            data = payloads.AlertData(id=i, lock_id=1, kind="tamper", message=message, at=timezone.now())
            with transaction.atomic():
                emit.emit(org.pk, "lock.alert", data)
        elapsed = time.perf_counter() - started
        ids = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).values_list("pk", flat=True))
        return ids, elapsed

    session = requests.Session()
    raw_body = json.dumps({"type": "lock.alert", "data": {"message": message}}).encode()
    rates: dict[str, list[float]] = {"raw": [], "job": [], "worker": [], "emit": []}
    n = args.deliveries
    for round_no in range(args.rounds):
        queue.connection.flushdb()  # the emits' after-commit jobs: the job loop calls the job itself
        ids, emit_seconds = emit_many(n)
        queue.connection.flushdb()
        rates["emit"].append(n / emit_seconds)

        started = time.perf_counter()
        for _ in range(n):
            session.post(url, data=raw_body, headers={"content-type": "application/json"}, timeout=10)
        rates["raw"].append(n / (time.perf_counter() - started))

        started = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            outcomes = profiler.runcall(lambda ids=ids: [delivery.deliver(pk) for pk in ids])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        else:
            outcomes = [delivery.deliver(pk) for pk in ids]
        rates["job"].append(n / (time.perf_counter() - started))
        if set(outcomes) != {"delivered"}:
            print(f"round {round_no}: job outcomes {sorted(set(outcomes))}", file=sys.stderr)

        if not args.quick:
            ids, _ = emit_many(n)  # enqueued after commit, as in production
            worker = DjangoSimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer)
            started = time.perf_counter()
            worker.work(burst=True, logging_level="WARNING")
            rates["worker"].append(n / (time.perf_counter() - started))

    stats = session.get(url, timeout=10).json()
    delivered = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count()
    expected = n * args.rounds * (1 if args.quick else 2)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {db_label}, "
        f"{n} deliveries x {args.rounds} round(s), bodies ~{BODY_BYTES} B, receiver in its own process"
    )
    for name, label in (
        ("raw", "raw POST (requests.Session loop, no DB)"),
        ("job", "job loop (deliver() in one process)"),
        ("worker", "RQ DjangoSimpleWorker, burst"),
        ("emit", "emit (message + delivery, own txn)"),
    ):
        if rates[name]:
            values = rates[name]
            print(f"  {label:44} median {statistics.median(values):8.0f}/s   best {max(values):8.0f}/s")
    if rates["raw"] and rates["job"]:
        print(f"  job / raw: {statistics.median(rates['job']) / statistics.median(rates['raw']):.0%}")
    print(f"  receiver: {stats}; delivered {delivered} of {expected}")
    ok = stats["bad"] == 0 and stats["repeats"] == 0 and stats["good"] == expected and delivered == expected
    print("ok" if ok else "FAILED: a bad signature, a repeat or a lost delivery")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
