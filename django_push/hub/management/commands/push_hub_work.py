"""``push_hub_work``: process everything the hub has due, once or in a loop."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from ... import engine

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Send due verifications, fetch published topics and send due "
        "deliveries (retries and reclaimed work included), then exit; "
        "--loop keeps doing so every --interval seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Run until SIGTERM or SIGINT, sleeping --interval between passes.",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds between passes with --loop (default 5).",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="Most rows of each kind handled per pass (default: all due).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit: int | None = options["limit"]
        if not options["loop"]:
            self.report(engine.run_due(limit=limit))
            return
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {
            sig: signal.signal(sig, request_stop)
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            while not stop.is_set():
                self.loop_pass(limit)
                stop.wait(max(0.0, options["interval"]))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Stopped.")

    def loop_pass(self, limit: int | None) -> None:
        """One pass of ``--loop``: a failure is logged and the loop goes on."""
        close_old_connections()
        try:
            counts = engine.run_due(limit=limit)
        except Exception:
            # A daemon outlives a database restart; the rows are still due.
            logger.exception("push_hub_work_pass_failed")
            return
        if any(counts.values()):
            self.report(counts)

    def report(self, counts: dict[str, int]) -> None:
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
