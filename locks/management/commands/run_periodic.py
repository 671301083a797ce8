"""`manage.py run_periodic [--once]`: enqueue the periodic jobs (sweeper, reconciliation) on time."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from locks import periodic


class Command(BaseCommand):
    help = "Enqueue the periodic jobs on their intervals (one such process per deployment is enough)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="enqueue what is due now, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(", ".join(periodic.enqueue_due()) or "nothing due")
            return
        self.stdout.write("Enqueuing periodic jobs: " + ", ".join(p.name for p in periodic.PERIODIC))
        periodic.run_forever()
