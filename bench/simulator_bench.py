"""Benchmark: requests per second the Tuya cloud simulator sustains on ONE core, for a mixed lock workload.

Run from the repo root:  .venv/bin/python bench/simulator_bench.py [--seconds 20] [--warmup 3] [--threads 4]

The standalone simulator (`manage.py tuya_simulator --port P --quiet`) runs in its own process pinned to
CPU 0 (taskset), on its own SQLite file in a temporary VAR_DIR (migrated first), with the frequency
control off (SIM_RATE_LIMIT=0) and instant delivery (SIM_DELIVERY_SECONDS=0), DEBUG off unless --debug.
Zigbee locks are seeded through the world API. This process pins itself to CPU 1 and drives the server
with our TuyaClient from a few threads, each looping over its own locks:

    GET device details · GET temp-password list (valid=true) · POST ticket + POST create ·
    GET the new password · PUT freeze + PUT unfreeze (a standing password) · DELETE the new password

After the warm-up, every HTTP call for the measured time is counted. Prints requests/s overall and per
operation with p50/p95 latency, error counts by class, and the server's CPU use (user+sys / wall: near
100 % means the one core is the limit). This is the ceiling later benchmarks compare against.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from locks.tuya import TuyaClient, TuyaError  # noqa: E402 - after the path set-up
from locks.tuya.api import LockApi  # noqa: E402

# The simulator's embedded demo project (locks/simulator/conf.py), used when TUYA_ACCESS_ID is unset.
ACCESS_ID = "simdemoaccessid00001"
ACCESS_SECRET = "SimDemoSecret0123456789abcdefXYZ"
OPS = ["details", "list", "ticket", "create", "get", "freeze", "unfreeze", "delete"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(var_dir: str, debug: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUYA_", "SIM_", "DATABASE_URL", "REDIS_URL"))}
    env.update(VAR_DIR=var_dir, SIM_RATE_LIMIT="0", SIM_DELIVERY_SECONDS="0", PYTHONDONTWRITEBYTECODE="1")
    if not debug:
        from cryptography.fernet import Fernet

        env.update(
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(48),
            FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false",  # the standalone simulator serves plain HTTP: https could never answer
        )
    return env


def world(url: str, path: str, body: bytes | None = None) -> bytes:
    request = urllib.request.Request(url + path, data=body, method="POST" if body is not None else "GET")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own local server
        return bytes(response.read())


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"simulator exited with {proc.returncode}")
        try:
            world(url, "/_sim/devices")
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("simulator did not start")


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process (Linux /proc), 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.recording = False

    def timed(self, op: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        except TuyaError as exc:
            if self.recording:
                with self.lock:
                    self.errors[f"{op}: {type(exc).__name__} {exc.code}"] += 1
            return None
        finally:
            if self.recording:
                elapsed = time.perf_counter() - started
                with self.lock:
                    self.latency[op].append(elapsed)


def worker(api: LockApi, devices: list[tuple[str, int]], stats: Stats, stop: threading.Event) -> None:
    now = int(time.time())
    i = 0
    while not stop.is_set():
        device, standing = devices[i % len(devices)]
        i += 1
        stats.timed("details", api.device.get_device, device)
        stats.timed("list", api.passwords.list_temp_passwords, device, valid=True)
        ticket = stats.timed("ticket", api.passwords.get_ticket, device)
        if ticket is None:
            continue
        created = stats.timed(
            "create",
            api.passwords.create_temp_password,
            device,
            lock_kind="zigbee",
            pin=f"{random.randrange(10**6):06d}",
            name="bench",
            effective_time=now - 60,
            invalid_time=now + 86400,
            type=0,
            ticket=ticket,
        )
        if created is not None:
            stats.timed("get", api.passwords.get_temp_password, device, created.id)
        stats.timed("freeze", api.passwords.freeze_temp_password, device, standing)
        stats.timed("unfreeze", api.passwords.unfreeze_temp_password, device, standing)
        if created is not None:
            stats.timed("delete", api.passwords.delete_temp_password, device, created.id)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up before measuring (default 3)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--devices", type=int, default=8, help="locks per thread (default 8)")
    parser.add_argument("--debug", action="store_true", help="run the server with DEBUG on (as in development)")
    args = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    taskset = shutil.which("taskset")
    server_cpu, client_cpus = (cpus[0], set(cpus[1:])) if len(cpus) > 1 else (None, None)
    var_dir = tempfile.mkdtemp(prefix="simbench-")
    env = server_env(var_dir, args.debug)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    python = sys.executable
    proc = None
    try:
        subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        command = [python, "manage.py", "tuya_simulator", "--port", str(port), "--quiet"]
        if taskset and server_cpu is not None:
            command = [taskset, "-c", str(server_cpu), *command]
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        wait_up(url, proc)
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)

        client = TuyaClient(url, ACCESS_ID, ACCESS_SECRET, timeout=(5.0, 30.0), backoff_seconds=0.05)
        api = LockApi(client)
        now = int(time.time())
        per_thread: list[list[tuple[str, int]]] = []
        for t in range(args.threads):
            devices = []
            for d in range(args.devices):
                body = f'{{"kind": "zigbee", "name": "bench {t}.{d}"}}'.encode()
                device = json.loads(world(url, "/_sim/devices", body))["id"]
                standing = api.passwords.create_temp_password(
                    device,
                    lock_kind="zigbee",
                    pin="999999",
                    name="standing",
                    effective_time=now - 60,
                    invalid_time=now + 86400,
                    type=0,
                ).id
                devices.append((device, standing))
            per_thread.append(devices)
        for devices in per_thread:  # let each standing password reach its lock
            for device, standing in devices:
                api.passwords.get_temp_password(device, standing)

        stats, stop = Stats(), threading.Event()
        threads = [
            threading.Thread(target=worker, args=(api, devices, stats, stop), daemon=True) for devices in per_thread
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)
        cpu_before, wall_before = cpu_seconds(proc.pid), time.perf_counter()
        stats.recording = True
        time.sleep(args.seconds)
        stats.recording = False
        wall = time.perf_counter() - wall_before
        cpu = cpu_seconds(proc.pid) - cpu_before
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(var_dir, ignore_errors=True)

    total = sum(len(v) for v in stats.latency.values())
    errors = sum(stats.errors.values())
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus; server pinned to cpu {server_cpu}", end="")
    print(
        f" ({'taskset' if taskset and server_cpu is not None else 'not pinned'}), client on {sorted(client_cpus or [])}"
    )
    print(f"threads {args.threads} x {args.devices} zigbee locks, warm-up {args.warmup:g} s, measured {wall:.1f} s")
    print(f"server DEBUG {'on' if args.debug else 'off'}, SQLite, rate limit off, delivery 0 s")
    print(f"server CPU {cpu / wall * 100:.0f} % of one core")
    print(f"\n{'operation':<10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'count':>7}")
    for op in OPS:
        values = stats.latency.get(op, [])
        print(
            f"{op:<10} {len(values) / wall:8.1f} {percentile(values, 0.5) * 1000:8.1f} "
            f"{percentile(values, 0.95) * 1000:8.1f} {len(values):7d}"
        )
    everything = [v for values in stats.latency.values() for v in values]
    print(
        f"{'ALL':<10} {total / wall:8.1f} {percentile(everything, 0.5) * 1000:8.1f} "
        f"{percentile(everything, 0.95) * 1000:8.1f} {total:7d}"
    )
    print(f"\nerrors: {errors}" + "".join(f"\n  {name}: {count}" for name, count in stats.errors.most_common()))
    return 1 if errors or not total else 0


if __name__ == "__main__":
    raise SystemExit(main())
