"""``manage.py push_renew``: renew the leases that end soon."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...renewal import renew_due


class Command(BaseCommand):
    help = (
        "Re-subscribe every subscription whose lease ends within "
        "PUSH_RENEW_MARGIN. Safe to run from cron every few minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="Requests in flight at once (default: PUSH_RENEW_CONCURRENCY).",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Renew at most this many."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = renew_due(limit=options["limit"], concurrency=options["concurrency"])
        self.stdout.write(
            f"due={counts['due']} renewed={counts['renewed']} failed={counts['failed']}"
        )
        if counts["failed"]:
            self.stderr.write(
                f"{counts['failed']} renewal(s) failed; see last_error, "
                "they are retried on the next run."
            )
