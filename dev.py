#!/usr/bin/env python3
"""The two commands of the README: `python3 dev.py run` and `python3 dev.py test`.

Needs only Python 3.10+. Creates `.venv/` next to this file, installs the pinned requirements
(again only when a requirements file changed), then runs the app or the test suite inside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import venv
from collections.abc import Iterator
from pathlib import Path

from config import embedded_redis as embedded_redis_module  # stdlib only: safe before the venv exists

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _requirements_digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def ensure_venv(requirements: str) -> None:
    if sys.version_info < (3, 10):  # noqa: UP036 - this file must still say so on an older Python
        sys.exit("Python 3.10 or newer is needed (this is {}.{}).".format(*sys.version_info[:2]))
    if not PYTHON.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
    stamp = VENV / f".installed-{requirements}"
    wanted = _requirements_digest(files)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print(f"Installing {requirements} ...", flush=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-r", ROOT / requirements], check=True)
    stamp.write_text(wanted)


def compile_catalogues() -> None:
    """locale/*/django.po → .mo with polib (config/catalogues.py), so GNU gettext need not be installed."""
    subprocess.run([PYTHON, "-m", "config.catalogues"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def manage(*args: str) -> None:
    subprocess.run([PYTHON, ROOT / "manage.py", *args], check=True, cwd=ROOT)


def _redis_answers(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(1)
            conn.connect(str(sock))
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def embedded_redis(var_dir: Path) -> Iterator[None]:
    """Start the embedded redis-server unless REDIS_URL names a real one (or one already runs here)."""
    sock = embedded_redis_module.socket_path(var_dir)
    if os.environ.get("REDIS_URL") or _redis_answers(sock):
        yield
        return
    server = subprocess.Popen([PYTHON, "-m", "config.embedded_redis", str(var_dir)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 15
        while not _redis_answers(sock):
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"The embedded Redis did not start; see {var_dir / 'redis.log'}.")
            time.sleep(0.05)
        yield
    finally:
        server.terminate()
        server.wait(10)


def _var_dir() -> Path:
    return Path(os.environ.get("VAR_DIR") or ROOT / "var").resolve()


def run(argv: list[str]) -> int:
    ensure_venv("requirements.txt")
    port = argv[0] if argv else os.environ.get("PORT", "8000")
    var_dir = _var_dir()
    var_dir.mkdir(parents=True, exist_ok=True)
    # The demo's cloud is the simulator mounted in the app, whatever DEBUG says (it is on by default in debug only).
    os.environ["EMBEDDED_SIMULATOR"] = "true"
    # Cloud accounts with endpoint "embedded" reach the simulator this run serves, on this port, from every
    # process (web, workers, the seeder).
    os.environ["EMBEDDED_SIMULATOR_URL"] = f"http://127.0.0.1:{port}/tuya-sim"
    # Its message service (push) is a process of its own on PORT + 285 (8285, Tuya's port, by default).
    push_port = os.environ.get("SIM_PUSH_PORT") or str(int(port) + 285)
    os.environ["EMBEDDED_SIMULATOR_PUSH_URL"] = f"ws://127.0.0.1:{push_port}/"
    compile_catalogues()
    with embedded_redis(var_dir):
        manage("migrate", "--no-input")
        # People and places; the locks and codes need the cloud, so they come once it answers, and the logins once
        # the app is ready (not among the migrations' and seeding's lines).
        manage("seed_demo", "--no-logins")
        with background(
            [
                # Two workers on every queue, in priority order; the scheduler runs retries and periodic jobs.
                [*WORKER, "--with-scheduler"],
                WORKER,
                ["run_periodic"],
                # The simulator's message service; the app's consumer of it starts once the demo is seeded (_serve).
                ["tuya_simulator", "--push-only", "--push-port", push_port],
            ]
        ):
            _serve(port)
    return 0


WORKER = [
    "rqworker",
    "unlock",
    "codes",
    "maintenance",
    "sync",
    "media",
    "webhooks",
    "--serializer",
    "rq.serializers.JSONSerializer",
    "--worker-class",
    "locks.workers.DjangoSimpleWorker",
]


@contextlib.contextmanager
def background(commands: list[list[str]]) -> Iterator[None]:
    children = [subprocess.Popen([PYTHON, ROOT / "manage.py", *command], cwd=ROOT) for command in commands]
    try:
        yield
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            status: int = response.status
            return status == 200
    except OSError:
        return False


def _serve(port: str) -> None:
    """Serve the app; once it answers, seed the demo's locks and codes through its embedded cloud."""
    server = subprocess.Popen([PYTHON, ROOT / "manage.py", "runserver", f"127.0.0.1:{port}"], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"http://127.0.0.1:{port}/tuya-sim/_sim/devices"):
            if server.poll() is not None:
                sys.exit(f"The app did not start (runserver exited with {server.returncode}).")
            if time.monotonic() > deadline:
                sys.exit(f"The app did not answer on port {port} within 60 s.")
            time.sleep(0.2)
        print("\nSeeding the demo locks and codes through the embedded Tuya cloud ...", flush=True)
        try:
            manage("seed_demo", "--cloud")  # its last lines are the logins, right above the address
        except subprocess.CalledProcessError:
            print("Seeding the demo locks failed (see above); the app runs on.", flush=True)
            with contextlib.suppress(subprocess.CalledProcessError):
                manage("seed_demo")  # idempotent: the people are there already; it prints the logins
        # The push consumer (enrollment progress, doorbells) logs in to each demo organisation's cloud project,
        # which the seeding creates in the simulator: started before, it would be refused until its next try.
        with background([["tuya_push"]]):
            print(f"\nThe app is at http://127.0.0.1:{port}/ (Ctrl+C stops it); admin: /admin/, queues: /django-rq/.")
            print(f"The Tuya cloud simulator is at http://127.0.0.1:{port}/tuya-sim/ (its world: /tuya-sim/_sim/).\n")
            sys.stdout.flush()
            server.wait()
    except KeyboardInterrupt:  # Ctrl+C is how a person stops it
        pass
    finally:
        _stop(server)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop runserver and its autoreloader's child (which a signal to the parent alone would leave running)."""
    if process.poll() is not None:
        return
    try:  # Linux lists a process's children here; elsewhere Ctrl+C or a signal to the group reaches them
        children = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    except OSError:
        children = []
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def test(argv: list[str]) -> int:
    ensure_venv("requirements-dev.txt")
    compile_catalogues()
    # The tests get a VAR_DIR of their own, so a running `dev.py run` is left alone.
    with tempfile.TemporaryDirectory(prefix="doors-test-") as var_dir:
        os.environ["VAR_DIR"] = var_dir
        with embedded_redis(Path(var_dir)):
            # pytest exits 5 when it collected no test: that is a failure here too.
            return subprocess.run([PYTHON, "-m", "pytest", *argv], cwd=ROOT).returncode


COMMANDS = {"run": run, "test": test}


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # unwinds the `finally`s, which stop the server, the workers and Redis


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: python3 dev.py run [PORT] | test [pytest args]")
    try:
        sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
