"""Renewing many subscriptions whose leases are about to end.

Creates ``--subscriptions`` active subscriptions (default 1,000) on a fake hub
whose leases end in a minute, then times
``django_push.subscriber.renewal.renew_due()`` (what ``push_renew`` runs) at
each ``--concurrency``, interleaved over ``--rounds`` rounds; the leases are
reset before every run.

The fake hub runs in its own process on 127.0.0.1: a threaded HTTP/1.1 server
(keep-alive) that answers every subscription request ``202 Accepted`` after
``--delay`` seconds (20 ms) and does not verify (WebSub verification is
asynchronous and costs the subscriber one callback request, measured by
``callback.py``). It counts the requests and the TCP connections it accepts.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import sys
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from djangoenv import configure
from tables import describe_machine, median, print_table, spread


class FakeHubServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, sock: socket.socket, counters: dict[str, Any], delay: float):
        self.counters = counters
        self.delay = delay
        super().__init__(sock.getsockname(), FakeHubHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock

    def get_request(self) -> tuple[socket.socket, Any]:
        request = super().get_request()
        with self.counters["lock"]:
            self.counters["connections"].value += 1
        return request


class FakeHubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHubServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        time.sleep(self.server.delay)
        counters = self.server.counters
        ok = form.get("hub.mode") == ["subscribe"] and "hub.callback" in form
        with counters["lock"]:
            counters["requests" if ok else "bad"].value += 1
        self.send_response(202 if ok else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(sock: socket.socket, counters: dict[str, Any], delay: float) -> None:
    server = FakeHubServer(sock, counters, delay)
    server.serve_forever(poll_interval=0.05)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument(
        "--concurrency",
        default="default,10,20,50",
        help="comma-separated concurrencies; 'default' runs renew_due() with "
        "PUSH_RENEW_CONCURRENCY's default",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.020)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure(
        apps=["django_push.subscriber"], root_urlconf="django_push.subscriber.urls"
    )
    from django.utils import timezone

    from django_push.conf import settings
    from django_push.subscriber.models import Subscription
    from django_push.subscriber.renewal import renew_due

    default = settings.PUSH_RENEW_CONCURRENCY
    # None lets renew_due() read the setting itself, as push_renew does.
    concurrencies: list[int | None] = [
        None if x == "default" else int(x) for x in args.concurrency.split(",")
    ]

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    hub_url = f"http://127.0.0.1:{sock.getsockname()[1]}/hub"
    counters = {
        "lock": multiprocessing.Lock(),
        "connections": multiprocessing.Value("q", 0, lock=False),
        "requests": multiprocessing.Value("q", 0, lock=False),
        "bad": multiprocessing.Value("q", 0, lock=False),
    }
    hub = multiprocessing.Process(
        target=serve, args=(sock, counters, args.delay), daemon=True
    )
    hub.start()

    Subscription.objects.bulk_create(
        [
            Subscription(
                hub=hub_url,
                topic=f"http://publisher.invalid/feed/{i}",
                verified=True,
                state=Subscription.State.ACTIVE,
                secret=f"bench-secret-{i:06d}",
                lease_seconds=3600,
            )
            for i in range(args.subscriptions)
        ],
        batch_size=500,
    )

    def reset() -> None:
        Subscription.objects.update(
            pending_mode="",
            requested_at=None,
            last_error="",
            lease_expiration=timezone.now() + timedelta(seconds=60),
        )

    results: dict[int | None, list[tuple[float, int, int]]] = {
        c: [] for c in concurrencies
    }
    try:
        reset()
        renew_due()  # warm-up
        for round_no in range(args.rounds):
            shift = round_no % len(concurrencies)
            for concurrency in concurrencies[shift:] + concurrencies[:shift]:
                reset()
                connections = counters["connections"].value
                requests = counters["requests"].value
                start = time.perf_counter()
                counts = renew_due(concurrency=concurrency)
                elapsed = time.perf_counter() - start
                # The fake hub counts a request after answering it.
                time.sleep(0.05)
                sent = counters["requests"].value - requests
                if counts["renewed"] != args.subscriptions or sent != counts["due"]:
                    print(f"# WARNING: {counts} but the hub counted {sent}")
                results[concurrency].append(
                    (
                        elapsed,
                        counters["connections"].value - connections,
                        counts["renewed"],
                    )
                )
                print(
                    f"# round {round_no + 1} concurrency {concurrency or default}: "
                    f"{elapsed:.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        hub.terminate()
        hub.join(5)

    print(
        f"# renewal benchmark: {args.subscriptions} subscriptions due, fake hub "
        f"answering 202 after {args.delay * 1000:.0f} ms, {args.rounds} rounds"
    )
    print(f"# {describe_machine()}")
    rows = []
    for concurrency in concurrencies:
        times = [r[0] for r in results[concurrency]]
        conns = [r[1] for r in results[concurrency]]
        renewed = [r[2] for r in results[concurrency]]
        threads = concurrency or default
        floor = args.subscriptions * args.delay / threads
        rows.append(
            [
                f"{threads} (default)" if concurrency is None else threads,
                f"{median(times):.2f}",
                spread(times, "{:.2f}"),
                f"{floor:.2f}",
                f"{args.subscriptions / median(times):,.0f}",
                f"{median(conns):.0f} ({spread(conns)})",
                min(renewed),
            ]
        )
    print_table(
        [
            "concurrency",
            "wall s median",
            "min-max",
            "floor s",
            "renewals/s",
            "connections opened",
            "renewed",
        ],
        rows,
    )
    print(
        f"# the fake hub answered {counters['requests'].value} requests "
        f"({counters['bad'].value} malformed) over "
        f"{counters['connections'].value} connections"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
