"""`manage.py tuya_simulator --port 8765 [--push-port 8766] [--seed-demo]`: serve the Tuya cloud simulator on its own.

`--push-port` adds its message service (locks.simulator.push); `--push-only --push-port P` serves just that, beside
the simulator mounted in the app (`dev.py run`), reading the same tables.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from locks.simulator import conf, devices
from locks.simulator.push import PushServer
from locks.simulator.server import build_server


class Command(BaseCommand):
    help = "Serve the Tuya cloud simulator at the root URL (http://HOST:PORT is then a Tuya endpoint)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--seed-demo", action="store_true", help="create one lock of each kind if none exist")
        parser.add_argument("--quiet", action="store_true", help="do not log each request")
        parser.add_argument("--seed-only", action="store_true", help="seed the demo locks (with --seed-demo) and exit")
        parser.add_argument("--push-port", type=int, help="also serve the message service (Pulsar WebSocket) here")
        parser.add_argument("--push-only", action="store_true", help="serve only the message service (--push-port)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seed_demo"]:
            created = devices.seed_demo()
            self.stdout.write(f"Seeded {len(created)} demo locks." if created else "Devices exist; no seeding.")
        if options["seed_only"]:
            return
        secret = conf.access_secret()
        masked = f"{secret[:2]}…{secret[-2:]} ({len(secret)} chars)" if len(secret) > 4 else "(unset)"
        push_port = options["push_port"]
        if options["push_only"]:
            if push_port is None:
                raise CommandError("--push-only needs --push-port")
            push = PushServer(options["host"], push_port)
            self.stdout.write(f"Tuya message service (simulated) on {push.url}  access id {conf.access_id()}")
            with contextlib.suppress(KeyboardInterrupt):
                push.serve_forever()
            return
        server = build_server(options["host"], options["port"], quiet=options["quiet"], push_port=push_port)
        host, port = server.server_address[:2]
        self.stdout.write(f"Tuya cloud simulator on http://{host!s}:{port}  (world controls: /_sim/)")
        server_push: PushServer | None = getattr(server, "push", None)
        if server_push is not None:
            self.stdout.write(f"Message service on {server_push.url}")
        self.stdout.write(f"access id {conf.access_id()}  secret {masked}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
