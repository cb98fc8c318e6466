"""Send the publish pings whose retry is due."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...delivery import retry_due


class Command(BaseCommand):
    help = "Send the failed publish pings whose next attempt is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=None, help="Send at most this many pings."
        )

    def handle(self, *args: Any, limit: int | None = None, **options: Any) -> None:
        counts = retry_due(limit=limit)
        self.stdout.write(
            "sent={sent} failed={failed} abandoned={abandoned}".format(**counts)
        )
