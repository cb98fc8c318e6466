"""``push_hub_monitor``: a Nagios-style check of the hub's deliveries."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from ...monitoring import EXIT_CODES, check_health
from ..arguments import not_negative, positive


class Command(BaseCommand):
    help = (
        "Print a one-line summary of failed and overdue deliveries and exit "
        "0 (OK), 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN), like a Nagios plugin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--window",
            type=positive,
            default=3600,
            help="Count deliveries that failed in the last N seconds (default 3600).",
        )
        parser.add_argument(
            "--threshold",
            type=not_negative,
            default=0,
            help="CRITICAL when failed plus overdue deliveries exceed N (default 0).",
        )
        parser.add_argument(
            "--warning",
            type=not_negative,
            default=None,
            help="WARNING when failed plus overdue deliveries exceed N.",
        )
        parser.add_argument(
            "--grace",
            type=not_negative,
            default=300,
            help="A delivery due for longer than N seconds is overdue (default 300).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            health = check_health(
                window=options["window"],
                threshold=options["threshold"],
                warning=options["warning"],
                grace=options["grace"],
            )
        except DatabaseError as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            self.stdout.write(f"PUSH HUB UNKNOWN - database error: {reason}")
            sys.exit(EXIT_CODES["UNKNOWN"])
        self.stdout.write(health.summary())
        if health.exit_code:
            sys.exit(health.exit_code)
