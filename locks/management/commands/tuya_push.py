"""`manage.py tuya_push [--account ID ...]`: listen to Tuya's message service for the cloud accounts (locks/push.py)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from locks import push


class Command(BaseCommand):
    help = "Consume Tuya's message service (push) for the cloud accounts: enrollment progress, doorbells, online."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, action="append", help="only this cloud account (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
        try:
            if not settings.TUYA_PUSH_ENABLED:
                # Idle rather than exit: a process manager would restart it, and honcho would stop the others.
                self.stdout.write("TUYA_PUSH_ENABLED is off: not listening (locks are still synced periodically).")
                stop.wait()
                return
            self.stdout.write("Listening to Tuya's message service; cloud accounts are re-read every minute.")
            push.Listener(options["account"]).run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
