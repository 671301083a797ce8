#!/usr/bin/env python3
"""The two commands of the README: `python3 dev.py run` and `python3 dev.py test`.

Needs only Python 3.10+. Creates `.venv/` next to this file, installs the pinned requirements
(again only when a requirements file changed), then runs the app or the test suite inside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

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


def manage(*args: str) -> None:
    subprocess.run([PYTHON, ROOT / "manage.py", *args], check=True, cwd=ROOT)


def run(argv: list[str]) -> int:
    ensure_venv("requirements.txt")
    port = argv[0] if argv else os.environ.get("PORT", "8000")
    manage("migrate", "--no-input")
    manage("seed_demo")
    manage("tuya_simulator", "--seed-demo", "--seed-only")
    print(f"\nThe app is at http://127.0.0.1:{port}/ (Ctrl+C stops it).", flush=True)
    print(
        f"The Tuya cloud simulator is at http://127.0.0.1:{port}/tuya-sim/ (its world: /tuya-sim/_sim/).\n", flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a person stops it
        manage("runserver", f"127.0.0.1:{port}")
    return 0


def test(argv: list[str]) -> int:
    ensure_venv("requirements-dev.txt")
    # pytest exits 5 when it collected no test: that is a failure here too.
    return subprocess.run([PYTHON, "-m", "pytest", *argv], cwd=ROOT).returncode


COMMANDS = {"run": run, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: python3 dev.py run [PORT] | test [pytest args]")
    try:
        sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
