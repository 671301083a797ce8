"""Events ingested per second on a 100,000-event sync of one lock, through the real sync code.

Where the records come from: a local fake pages server (tests/locks/fake_tuya.py, a ThreadingHTTPServer in this
process) holding 100,000 prepared v1.1 open-log records spread over the last 29 days, answered in the spec's
shape (newest first, `total`, pages of 100). Not the simulator: it lists every row of a lock in Python for each
page, so 1,000 pages of 100,000 rows would measure the simulator, not the sync. The sync itself is the real one
(`locks.events.sync_lock`): the cloud port's Tuya adapter on our TuyaClient over HTTP, its records read as the
port's events, link (three queries a page), one bulk insert per page
with ignore_conflicts, the cursor moved per page, `alerts.on_new_events` per page. The call budget is off
(TUYA_CALLS_PER_SECOND=0): a sync called outside a worker spends at door priority anyway, never waiting on it.

Also printed: the same pages fetched and read as events without storing (the HTTP + client + adapter floor), and
a second sync (which must store 0).

Run from the repo root:  .venv/bin/python bench/events_bench.py [--events 100000]
Uses a temporary SQLite database (or DATABASE_URL if you export one); nothing else is touched.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CODES = [
    ("unlock_fingerprint", 40),
    ("unlock_card", 20),
    ("unlock_temporary", 30),
    ("unlock_key", 5),
    ("unlock_app", 5),
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="events-bench-"))
    try:
        return run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the database, VAR_DIR, photos: nothing left behind


def run(args: argparse.Namespace, workdir: Path) -> int:
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(workdir / "var"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "localhost",  # required in production mode; no request is served here
            "LOG_LEVEL": "WARNING",
            "TUYA_CALLS_PER_SECOND": "0",
        }
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'db.sqlite3'}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)

    import django

    django.setup()
    from django.db import connection

    from locks import events
    from locks.cloud.tuya.adapter import TuyaCloud
    from locks.models import CloudAccount, Lock, LockEvent
    from locks.tuya import MemoryTokenStore, TuyaClient
    from locks.tuya.api import LockApi
    from tenants.models import Organisation
    from tests.locks.fake_tuya import FakeCloud, serve

    rng = random.Random(6)
    now_ms = int(time.time() * 1000)
    span = 29 * 24 * 3600 * 1000
    stamps = sorted(rng.sample(range(now_ms - span, now_ms - 60_000), args.events))
    weights = [w for _, w in CODES]
    logs = []
    for stamp in stamps:
        code = rng.choices([c for c, _ in CODES], weights)[0]
        value = str(rng.randint(1, 20)) if code != "unlock_temporary" else str(rng.randint(10**6, 10**7))
        user = str(rng.randint(1, 50)) if code in ("unlock_fingerprint", "unlock_card") else "0"
        logs.append(
            {
                "status": {"code": code, "value": value},
                "update_time": stamp,
                "unlock_name": "",
                "user_id": user,
                "nick_name": f"user {user}" if user != "0" else "",
                "media_infos": [],
            }
        )
    cloud = FakeCloud()
    cloud.add_open_logs(logs)

    with serve(cloud) as url:
        org = Organisation.objects.create(name="Bench", slug="bench")
        account = CloudAccount.objects.create(
            organisation=org, name="fake", endpoint=url, access_id="bench-id", access_secret="bench-secret"
        )
        lock = Lock.objects.create(organisation=org, cloud_account=account, device_id="benchdev", name="d", kind="wifi")
        tuya = TuyaCloud(LockApi(TuyaClient(url, "bench-id", "bench-secret", token_store=MemoryTokenStore())))

        # The floor: every page fetched by our client and read as events by the adapter, nothing stored.
        started = time.perf_counter()
        pages = (args.events + 99) // 100
        since = datetime.fromtimestamp((now_ms - 30 * 24 * 3600 * 1000) / 1000, tz=timezone.utc)
        until = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc)
        for page_no in range(1, pages + 1):
            tuya.unlock_page(lock, since=since, until=until, page_no=page_no, page_size=100)
        fetch_seconds = time.perf_counter() - started

        cloud.calls.clear()
        started = time.perf_counter()
        result = events.sync_lock(lock, cloud=tuya)
        sync_seconds = time.perf_counter() - started
        stored = LockEvent.objects.filter(lock=lock).count()

        started = time.perf_counter()
        again = events.sync_lock(lock, cloud=tuya)
        again_seconds = time.perf_counter() - started

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, database {connection.vendor}")
    print(f"records: {args.events} v1.1 open-logs over 29 days from a local fake pages server, pages of 100")
    print(
        f"full sync: {result.new} new events in {sync_seconds:.1f} s = {result.new / sync_seconds:.0f} events/s "
        f"({result.calls} calls, {result.calls / sync_seconds:.0f} pages/s); errors {result.errors or 'none'}"
    )
    print(
        f"fetch + read as events only (no storing): {args.events / fetch_seconds:.0f} events/s ({fetch_seconds:.1f} s)"
    )
    print(f"second sync: {again.new} new, {again.calls} calls, {again_seconds:.2f} s")
    ok = result.new == stored == args.events and again.new == 0 and not result.errors
    print("check: every record stored exactly once" if ok else f"CHECK FAILED: stored {stored}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
