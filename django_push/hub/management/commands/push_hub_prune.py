"""``push_hub_prune``: delete the hub's old records."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...pruning import prune
from ..arguments import not_negative, positive


class Command(BaseCommand):
    help = (
        "Delete finished deliveries, publishes and verifications, ended "
        "subscriptions and unreferenced bodies older than --days days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=not_negative,
            required=True,
            help="Keep records younger than N days.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be deleted; delete nothing.",
        )
        parser.add_argument(
            "--batch-size",
            type=positive,
            default=1000,
            help="Rows deleted per statement (default 1000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        counts = prune(
            days=options["days"], dry_run=dry_run, batch_size=options["batch_size"]
        )
        verb = "Would delete" if dry_run else "Deleted"
        details = " ".join(f"{key}={value}" for key, value in counts.items())
        self.stdout.write(f"{verb} {details}")
