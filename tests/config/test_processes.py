"""The production processes: gunicorn with config/gunicorn.conf.py serves the app; the Procfile and the systemd
units run workers that together read every queue, JSON only, with our worker class."""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.config.test_production import ROOT, manage, production_env

WORKER_FLAGS = ["--serializer", "rq.serializers.JSONSerializer", "--worker-class", "locks.workers.DjangoSimpleWorker"]


def process_commands() -> dict[str, list[str]]:
    """Every process the Procfile and the systemd units start, by where it is written."""
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line and not line.startswith("#"):
            name, command = line.split(":", 1)
            commands[f"Procfile {name}"] = shlex.split(command)
    for unit in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        text = unit.read_text().replace("\\\n", " ")
        (command,) = re.findall(r"^ExecStart=(.*)$", text, flags=re.MULTILINE)
        commands[unit.name] = shlex.split(command)
    return commands


def worker_commands() -> dict[str, list[str]]:
    return {name: args for name, args in process_commands().items() if "rqworker" in args}


def queues_of(args: list[str]) -> list[str]:
    rest = args[args.index("rqworker") + 1 :]
    return rest[: next(i for i, arg in enumerate(rest) if arg.startswith("--"))]


def test_procfile_and_systemd_workers_read_every_queue_json_only() -> None:
    commands = worker_commands()
    assert {"Procfile worker_interactive", "Procfile worker_background"} <= set(commands)
    for source in ("Procfile", "@.service"):
        queues = {q for name, args in commands.items() if source in name for q in queues_of(args)}
        assert queues == set(settings.RQ_QUEUES), source
    for name, args in commands.items():
        joined = " ".join(args)
        assert " ".join(WORKER_FLAGS) in joined, name
        assert "--with-scheduler" in args, name
        # priority order kept
        assert queues_of(args) in (["unlock", "codes"], ["maintenance", "sync", "media", "webhooks"]), name


def test_systemd_runs_every_procfile_process_and_the_target_starts_each() -> None:
    def program(args: list[str]) -> str:  # `manage.py tuya_push`, `gunicorn`, ...: what a process runs
        if "gunicorn" in args[0]:
            return "gunicorn"
        return " ".join(args[args.index("manage.py") : args.index("manage.py") + 2])

    commands = process_commands()
    assert {program(a) for n, a in commands.items() if n.startswith("Procfile")} == {
        program(a) for n, a in commands.items() if n.endswith(".service")
    }
    target = (ROOT / "deploy" / "systemd" / "doors.target").read_text()
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        assert unit.name.replace("@.service", "@1.service") in target, unit.name


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": "doors.example.com", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_gunicorn_serves_the_app_in_production_mode(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    env = production_env(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=redis_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
    )
    for step in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"]):
        done = manage(env, *step)
        assert done.returncode == 0, done.stderr
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = get(port, "/healthz")
                break
            except OSError:
                assert server.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        # No worker runs here: the probe says so, and everything else is fine.
        assert status == 503
        assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok", "workers": "failed"}
        status, headers, _ = get(port, "/accounts/login/")
        assert status == 301  # plain HTTP goes to HTTPS in production
        assert headers["Location"] == "https://doors.example.com/accounts/login/"
        # gunicorn itself trusts X-Forwarded-Proto from FORWARDED_ALLOW_IPS (default: this machine, where a local
        # proxy terminates TLS); README, "Running in production".
        status, headers, _ = get(port, "/accounts/login/", {"X-Forwarded-Proto": "https"})
        assert status == 200
        assert "__Host-csrftoken" in headers["Set-Cookie"]
        assert "Secure" in headers["Set-Cookie"]
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "Booting worker" in output or "Listening at" in output, output
    assert os.environ.get("SECRET_KEY", "unset-in-tests") not in output
