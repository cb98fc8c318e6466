"""Command line of the demo: serve, subscribe, publish, show what arrives."""

from __future__ import annotations

import argparse
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

HOST = "127.0.0.1"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m example",
        description=(
            "Run a Django project holding a publisher, the django-push hub and "
            "a subscriber of its own feed, on the embedded default (SQLite, "
            "tasks run inline, no worker)."
        ),
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)"
    )
    parser.add_argument(
        "--entries", type=int, default=3, help="entries to publish at start-up"
    )
    stop = parser.add_mutually_exclusive_group()
    stop.add_argument(
        "--once",
        action="store_true",
        help="stop as soon as the start-up entries have been pushed back",
    )
    stop.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the hub's verification and each push",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also show the library's log lines"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        server = ThreadedWSGIServer((HOST, args.port), WSGIRequestHandler, ipv6=False)
    except OSError as exc:
        print(f"[demo] cannot listen on {HOST}:{args.port}: {exc}")
        print("[demo] --port 0 picks a free port")
        return 2
    serving = threading.Thread(
        target=server.serve_forever, name="demo-server", daemon=True
    )
    data_dir = Path(tempfile.mkdtemp(prefix="django-push-demo-"))
    # Ctrl-C and SIGTERM both stop cleanly, even when the process was
    # started with SIGINT ignored (as a shell does for background jobs).
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(server, serving, data_dir, args)
    except KeyboardInterrupt:
        print("[demo] interrupted, stopping")
        return 0
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
        # shutdown() waits for serve_forever(), so only once it was started.
        if serving.is_alive():
            server.shutdown()
        server.server_close()
        _close_connections()
        shutil.rmtree(data_dir, ignore_errors=True)
        print("[demo] stopped")


def _run(
    server: ThreadedWSGIServer,
    serving: threading.Thread,
    data_dir: Path,
    args: argparse.Namespace,
) -> int:
    from example import settings as demo_settings

    base_url = f"http://{HOST}:{server.server_address[1]}"
    demo_settings.configure(base_url, data_dir, verbose=args.verbose)

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command

    from example import scenario
    from example.progress import say

    call_command("migrate", verbosity=0, interactive=False)
    server.set_app(WSGIHandler())
    serving.start()
    say("demo", f"serving on {base_url}/ (database in {data_dir})")
    say("demo", f"open {base_url}/ in a browser; Ctrl-C stops")

    ok = scenario.start(args.entries, timeout=args.timeout)
    if args.once:
        say("demo", "done" if ok else "FAILED: not every entry was pushed back")
        return 0 if ok else 1
    if args.duration is None:
        threading.Event().wait()
    else:
        time.sleep(args.duration)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _close_connections() -> None:
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
