"""Starting a lock-wide round: enqueuing every lock's share of the work, the old way and the new, in one run.

Before issue #15 the events sync, health and reconcile rounds enqueued one fixed-id job per lock (`enqueue_once`: a
status read and an enqueue, two Redis round trips a lock) from inside one job: ~3 ms a lock, minutes at 100k locks,
every minute. Now a round enqueues one job per LOCK_ROUND_CHUNK locks in one Redis pipeline (locks/rounds.py).
The bench times both against the same Redis: the old way on a sample of locks (its time grows linearly with the
count: the sample's per-lock figure times the count is printed as the estimate), the new way on every lock.
No database is used: a round's jobs carry lock ids only.

Production settings (DEBUG off, made-up keys), an embedded redis-server on a unix socket in a temporary folder (or
REDIS_URL, which must hold no RQ keys).

Run from the repo root:  .venv/bin/python bench/rounds_bench.py [--locks 100000] [--sample 5000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locks", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000, help="locks enqueued the old way, one job each")
    parser.add_argument("--chunk", type=int, default=50, help="LOCK_ROUND_CHUNK")
    parser.add_argument("--quick", action="store_true", help="CI: 2,000 locks, a sample of 500")
    args = parser.parse_args()
    if args.quick:
        args.locks, args.sample = 2_000, 500
    workdir = Path(tempfile.mkdtemp(prefix="rounds-bench-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(workdir / "var"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": f"sqlite:///{workdir / 'unused.sqlite3'}",
            "LOCK_ROUND_CHUNK": str(args.chunk),
            "LOG_LEVEL": "WARNING",
        }
    )
    redis_server = None
    try:
        if not os.environ.get("REDIS_URL"):
            redis_dir = workdir / "redis"
            redis_server = subprocess.Popen([PYTHON, "-m", "config.embedded_redis", str(redis_dir)], cwd=ROOT)
            os.environ["REDIS_URL"] = f"unix://{redis_dir / 'redis.sock'}"
        return run(args)
    finally:
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    import django_rq
    import redis

    from locks import queues, rounds

    connection = django_rq.get_connection(queues.SYNC_QUEUE)
    deadline = time.monotonic() + 20
    while True:
        try:
            connection.ping()
            break
        except (OSError, redis.RedisError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    if connection.keys("rq:*"):
        print("REDIS_URL holds RQ keys already: give the bench an empty database.", file=sys.stderr)
        return 1
    queue = django_rq.get_queue(queues.SYNC_QUEUE)

    started = time.perf_counter()
    for lock_id in range(1, args.sample + 1):
        queues.enqueue_once(queues.SYNC_QUEUE, f"sync-events-{lock_id}", "locks.jobs.sync_lock_events", lock_id)
    old_per_lock = (time.perf_counter() - started) / args.sample
    old_jobs = queue.count
    queue.empty()

    started = time.perf_counter()
    enqueued = rounds.start(rounds.EVENTS_SYNC, queues.SYNC_QUEUE, "locks.jobs.sync_locks_events",
                            list(range(1, args.locks + 1)))  # fmt: skip
    new_seconds = time.perf_counter() - started
    new_jobs = queue.count
    covered = sum(len(job.args[1]) for job in queue.get_jobs())
    queue.empty()
    connection.delete(rounds.guard_key(rounds.EVENTS_SYNC))

    print(f"rounds_bench: {platform.python_implementation()} {platform.python_version()}, Redis at "
          f"{os.environ['REDIS_URL'].split('://')[0]}, chunk {args.chunk}")  # fmt: skip
    print(f"  one job per lock (before): {old_per_lock * 1000:.3f} ms a lock over {args.sample:,} locks "
          f"({old_jobs:,} jobs); for {args.locks:,} locks ≈ {old_per_lock * args.locks:.1f} s")  # fmt: skip
    speedup = old_per_lock * args.locks / new_seconds
    print(f"  one job per chunk (now):   {new_seconds:.2f} s for {args.locks:,} locks ({new_jobs:,} jobs), "
          f"{new_seconds / args.locks * 1000:.4f} ms a lock; {speedup:.0f}× faster")  # fmt: skip
    if enqueued != args.locks or covered != args.locks or old_jobs != args.sample:
        print("  FAILED: a lock was left out or enqueued twice", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
