"""Benchmark: doorbell → remote-unlock request on the app, through the message service, against a running app.

Run while `python3 dev.py run [PORT]` runs (same VAR_DIR, so this reads the app's database):

    VAR_DIR=var .venv/bin/python bench/push_latency.py [--port 8000] [--rings 10]

Each round rings a Wi-Fi lock's doorbell through the simulator's world API and waits for the app's
RemoteUnlockRequest row: the path is simulator poll → push frame → `tuya_push` → events sync job on the `unlock`
queue → worker → events sync against the cloud → request. Prints each latency and the median / worst.
Without push the same request waits for the periodic events sync (up to EVENTS_SYNC_INTERVAL_SECONDS, 60 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rings", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=30)
    options = parser.parse_args()

    import django

    django.setup()
    from locks.models import Lock, RemoteUnlockRequest

    lock = Lock.objects.filter(kind="wifi").order_by("pk").first()
    if lock is None:
        sys.exit("No Wi-Fi lock in this database: is `dev.py run` running with the same VAR_DIR?")
    url = f"http://127.0.0.1:{options.port}/tuya-sim/_sim/devices/{lock.device_id}/doorbell"
    latencies = []
    for _ in range(options.rings):
        before = RemoteUnlockRequest.objects.filter(lock=lock).count()
        started = time.monotonic()
        request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            json.loads(response.read())
        while RemoteUnlockRequest.objects.filter(lock=lock).count() == before:
            if time.monotonic() - started > options.timeout:
                sys.exit(f"No request within {options.timeout} s: are `tuya_push` and the workers running?")
            time.sleep(0.01)
        latencies.append(time.monotonic() - started)
        print(f"doorbell → request: {latencies[-1] * 1000:.0f} ms", flush=True)
        time.sleep(0.5)
    median, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
    print(f"median {median:.0f} ms, worst {worst:.0f} ms, n={len(latencies)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
