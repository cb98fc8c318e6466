"""One publish fanned out to N loopback subscribers, three hubs side by side.

For each N, rounds are interleaved (the order rotates every round) between:

* ``django-push``: ``django_push.hub.api.publish([topic])`` then
  ``engine.run_due()`` (fetch the topic once, store it once, plan and sign
  one delivery per subscription, deliver concurrently);
* ``bare-urllib3`` and ``bare-requests``: a pooled client (urllib3 directly,
  as django-push's deliveries use it, or a ``requests.Session``) and a thread
  pool of the same concurrency that fetch the topic once and POST the signed
  body to every subscriber: the ceiling for a Python hub;
* ``django-push-Wp`` (with ``--django-push-workers W``): django-push in W
  processes sharing one SQLite file in WAL mode (``hubworker.py``): one
  publishes with ``ImmediateBackend`` and sends batches itself, W - 1 run
  ``push_hub_work --loop`` and claim the other batches
  (``PUSH_HUB_DELIVERY_BATCH``); timed from the publish until the receiver
  has counted every delivery;
* ``flask-websub``: flask-websub 0.4.1's hub with Celery workers (prefork,
  same concurrency) and a private ``redis-server``; timed from the publish
  until the receiver has counted every delivery.

Every subscriber has its own secret and gets a sha256 ``X-Hub-Signature``
over a 1 KB body; the receiver (``receiver.py``, its own process) checks
every signature. Subscriptions are written straight to each hub's storage.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from djangoenv import configure
from hubworker import SQLITE_OPTIONS
from receiver import HUB_URL, Receiver, measure_capacity, secret_for
from tables import describe_machine, median, print_table, spread

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n", default="10,100,1000,10000", help="subscriber counts (comma-separated)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--systems",
        default="django-push,bare-urllib3,bare-requests,flask-websub",
        help="which hubs to run (comma-separated)",
    )
    parser.add_argument(
        "--flask-python",
        default="/work/venv-flask/bin/python",
        help="interpreter of the venv with requirements-flask-websub.txt",
    )
    parser.add_argument(
        "--flask-max-n",
        type=int,
        default=10000,
        help="largest N to run flask-websub at",
    )
    parser.add_argument("--redis-server", default=shutil.which("redis-server"))
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one django-push publish"
    )
    parser.add_argument(
        "--django-push-workers",
        default="",
        help="also run django-push in W processes, for each W given "
        "(comma-separated, e.g. 2,3): one publishing, W - 1 push_hub_work --loop",
    )
    parser.add_argument(
        "--django-push-batch",
        type=int,
        default=250,
        help="PUSH_HUB_DELIVERY_BATCH of every django-push process",
    )
    parser.add_argument(
        "--django-push-interval",
        type=float,
        default=0.01,
        help="push_hub_work --loop --interval of the extra processes",
    )
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class QueryCounter:
    """Counts queries on every database connection, in every thread."""

    def __init__(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        self.count = 0
        self.enabled = False
        for conn in connections.all():
            conn.execute_wrappers.append(self)
        connection_created.connect(self.on_created, weak=False)

    def on_created(self, sender: Any, connection: Any, **kwargs: Any) -> None:
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: Any,
    ) -> Any:
        if self.enabled:
            self.count += 1
        return execute(sql, params, many, context)


class DjangoPush:
    name = "django-push"
    tag = "ours"
    alias = "default"

    def __init__(self, receiver: Receiver, concurrency: int) -> None:
        self.receiver = receiver
        self.topics: dict[int, str] = {}
        self.queries: dict[int, int] = {}
        self.counter = QueryCounter()

    def prepare(self, n: int) -> None:
        from django.utils import timezone

        from django_push.hub.models import HubSubscription

        topic = self.receiver.topic(f"{self.tag}-{n}")
        now = timezone.now()
        HubSubscription.objects.using(self.alias).bulk_create(
            [
                make_hub_subscription(
                    HubSubscription,
                    topic=topic,
                    callback=self.receiver.callback(f"{self.tag}{n}", i),
                    secret=secret_for(i),
                    now=now,
                )
                for i in range(n)
            ],
            batch_size=500,
        )
        self.topics[n] = topic

    def publish(self, n: int) -> None:
        from django_push.hub import api, engine

        api.publish([self.topics[n]])
        engine.run_due()

    def run(self, n: int) -> float:
        before = self.receiver.counters.ok.value
        start = time.perf_counter()
        self.publish(n)
        if not self.receiver.wait_for(before + n, 60):
            raise RuntimeError(f"django-push delivered fewer than {n}")
        return time.perf_counter() - start

    def count_queries(self, n: int) -> int:
        before = self.receiver.counters.ok.value
        self.counter.count = 0
        self.counter.enabled = True
        try:
            self.publish(n)
        finally:
            self.counter.enabled = False
        self.receiver.wait_for(before + n, 60)
        return self.counter.count


class DjangoPushProcesses(DjangoPush):
    """django-push in W processes sharing the SQLite file (``hubworker.py``).

    One publishes with ``ImmediateBackend`` and sends batches itself; W - 1
    run ``push_hub_work --loop`` and claim the other batches. Timed from the
    publish until the receiver has counted every delivery. They get a
    database file of their own (a copy of the migrated one), so that their
    ``push_hub_work`` loops never take work from another system measured.
    """

    def __init__(
        self,
        receiver: Receiver,
        concurrency: int,
        processes: int,
        args: Any,
        db_path: Path,
    ) -> None:
        from django.db import connections

        self.receiver = receiver
        self.topics = {}
        self.queries = {}
        self.name = f"django-push-{processes}p"
        self.tag = f"ours{processes}p"
        own = db_path.with_name(f"{self.name}.sqlite3")
        with connections["default"].cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(own)])
        self.alias = self.name
        connections.databases[self.alias] = {
            **connections.databases["default"],
            "NAME": str(own),
        }
        db_path = own
        self.timeout = args.timeout
        common = [
            "--db",
            str(db_path),
            "--concurrency",
            str(concurrency),
            "--batch",
            str(args.django_push_batch),
        ]
        self.processes: list[subprocess.Popen[Any]] = []
        self.control = self.start(
            [sys.executable, "hubworker.py", "control", *common],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for _ in range(processes - 1):
            self.start(
                [
                    sys.executable,
                    "hubworker.py",
                    "loop",
                    *common,
                    "--interval",
                    str(args.django_push_interval),
                ],
                stdout=subprocess.DEVNULL,
            )
        assert self.control.stdout is not None
        if self.control.stdout.readline().strip() != "ready":
            raise RuntimeError("the django-push control process did not start")

    def start(self, command: list[str], **kwargs: Any) -> Any:
        process = subprocess.Popen(command, cwd=HERE, text=True, **kwargs)
        self.processes.append(process)
        return process

    def signal_loops(self, signum: int) -> None:
        for process in self.processes[1:]:
            process.send_signal(signum)

    def prepare(self, n: int) -> None:
        self.signal_loops(signal.SIGCONT)
        super().prepare(n)

    def run(self, n: int) -> float:
        from django_push.hub.models import Delivery

        assert self.control.stdin is not None
        assert self.control.stdout is not None
        # The push_hub_work loops only run during this system's publishes,
        # so that their polling takes no CPU from the others measured.
        self.signal_loops(signal.SIGCONT)
        before = self.receiver.counters.ok.value
        start = time.perf_counter()
        self.control.stdin.write(f"publish {self.topics[n]}\n")
        self.control.stdin.flush()
        answer = self.control.stdout.readline()
        if answer.strip() != "ok":
            raise RuntimeError(f"django-push control answered {answer!r}")
        if not self.receiver.wait_for(before + n, self.timeout):
            raise RuntimeError(f"{self.name} delivered fewer than {n}")
        elapsed = time.perf_counter() - start
        # Outcomes are recorded after the requests: wait for them, then
        # pause the loops between two of their passes' polls.
        unfinished = Delivery.objects.using(self.alias).filter(
            status__in=("pending", "in_progress")
        )
        while unfinished.exists():
            time.sleep(0.01)
        self.signal_loops(signal.SIGSTOP)
        return elapsed

    def close(self) -> None:
        self.signal_loops(signal.SIGCONT)
        for process in self.processes:
            if process.stdin:
                process.stdin.close()
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def make_hub_subscription(
    model: Any, *, topic: str, callback: str, secret: str, now: Any
) -> Any:
    """An active, verified subscription row with a lease of 30 days."""
    return model(
        topic=topic,
        callback=callback,
        secret=secret,
        state="active",
        lease_seconds=30 * 24 * 3600,
        lease_expires_at=now + timedelta(days=30),
        verified_at=now,
    )


class Bare:
    """A bare pooled client: fetch once, then sign and POST from a thread pool."""

    name = "bare-requests"

    def __init__(self, receiver: Receiver, concurrency: int) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self.receiver = receiver
        self.session = requests.Session()
        # A bare client does no per-request environment (proxy, .netrc) lookups.
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=concurrency, pool_maxsize=concurrency)
        self.session.mount("http://", adapter)
        self.pool = ThreadPoolExecutor(concurrency)
        self.targets: dict[int, list[tuple[str, bytes]]] = {}
        self.topics: dict[int, str] = {}

    def prepare(self, n: int) -> None:
        tag = f"{self.name}{n}"
        self.topics[n] = self.receiver.topic(tag)
        self.targets[n] = [
            (self.receiver.callback(tag, i), secret_for(i).encode()) for i in range(n)
        ]

    def fetch(self, url: str) -> tuple[bytes, str]:
        response = self.session.get(url, timeout=10)
        return response.content, response.headers["Content-Type"]

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        sent = self.session.post(
            url, data=body, headers=headers, timeout=10, allow_redirects=False
        )
        return sent.status_code

    def run(self, n: int) -> float:
        start = time.perf_counter()
        body, content_type = self.fetch(self.topics[n])
        headers = {
            "Content-Type": content_type,
            "Link": f'<{HUB_URL}>; rel="hub", <{self.topics[n]}>; rel="self"',
        }

        def deliver(target: tuple[str, bytes]) -> int:
            url, key = target
            digest = hmac.new(key, body, hashlib.sha256).hexdigest()
            return self.post(
                url, body, {**headers, "X-Hub-Signature": f"sha256={digest}"}
            )

        codes = list(self.pool.map(deliver, self.targets[n]))
        elapsed = time.perf_counter() - start
        if any(not 200 <= code < 300 for code in codes):
            raise RuntimeError(f"{self.name} got a non-2xx answer")
        return elapsed


class BareUrllib3(Bare):
    """The same with urllib3 directly: the leanest pooled Python client."""

    name = "bare-urllib3"

    def __init__(self, receiver: Receiver, concurrency: int) -> None:
        import urllib3

        super().__init__(receiver, concurrency)
        self.http = urllib3.PoolManager(
            num_pools=4, maxsize=concurrency, block=True, retries=False
        )

    def fetch(self, url: str) -> tuple[bytes, str]:
        response = self.http.request("GET", url, timeout=10.0)
        return response.data, response.headers["Content-Type"]

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        response = self.http.request(
            "POST", url, body=body, headers=headers, timeout=10.0, redirect=False
        )
        return int(response.status)


class FlaskWebSub:
    name = "flask-websub"

    def __init__(self, receiver: Receiver, concurrency: int, args: Any) -> None:
        self.receiver = receiver
        self.timeout = args.timeout
        self.topics: dict[int, str] = {}
        self.directory = Path(tempfile.mkdtemp(prefix="flask-websub-bench-"))
        redis_port = free_port()
        env = {
            **os.environ,
            "BENCH_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "BENCH_FW_DB": str(self.directory / "hub.sqlite3"),
        }
        self.processes: list[subprocess.Popen[Any]] = []
        self.redis = self.start(
            [
                args.redis_server,
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", redis_port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        self.control = self.start(
            [args.flask_python, "flask_websub_hub.py", "control"],
            env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.worker = self.start(
            [
                args.flask_python,
                "-m",
                "celery",
                "-A",
                "flask_websub_hub",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "ERROR",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env,
            stdout=subprocess.DEVNULL,
        )

    def start(self, command: list[str], env: dict[str, str], **kwargs: Any) -> Any:
        process = subprocess.Popen(command, cwd=HERE, env=env, text=True, **kwargs)
        self.processes.append(process)
        return process

    def command(self, line: str) -> None:
        assert self.control.stdin is not None
        assert self.control.stdout is not None
        self.control.stdin.write(line + "\n")
        self.control.stdin.flush()
        answer = self.control.stdout.readline()
        if answer.strip() != "ok":
            raise RuntimeError(f"flask-websub control answered {answer!r}")

    def prepare(self, n: int) -> None:
        topic = self.receiver.topic(f"fw-{n}")
        prefix = f"{self.receiver.base_url}/cb/fw{n}"
        self.command(f"subscribe {topic} {prefix} {n}")
        self.topics[n] = topic

    def run(self, n: int) -> float:
        before = self.receiver.counters.ok.value
        start = time.perf_counter()
        self.command(f"publish {self.topics[n]}")
        if not self.receiver.wait_for(before + n, self.timeout):
            raise RuntimeError(f"flask-websub delivered fewer than {n}")
        return time.perf_counter() - start

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.stdin:
                process.stdin.close()
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(self.directory, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(x) for x in args.n.split(",")]
    wanted = args.systems.split(",")
    db_path = configure(
        apps=["django_push.hub"],
        root_urlconf="django_push.hub.urls",
        extra={
            "PUSH_HUB_URL": HUB_URL,
            "PUSH_HUB_DELIVERY_CONCURRENCY": args.concurrency,
            "PUSH_HUB_DELIVERY_BATCH": args.django_push_batch,
        },
        conn_max_age=None,
        sqlite_options=SQLITE_OPTIONS,
    )
    process_counts = [int(w) for w in args.django_push_workers.split(",") if w]
    with Receiver() as receiver:
        capacity = [
            measure_capacity(receiver, 20000, args.concurrency) for _ in range(3)
        ]
        systems: list[Any] = []
        flask = None
        closing: list[Any] = []
        try:
            if "django-push" in wanted:
                systems.append(DjangoPush(receiver, args.concurrency))
            for count in process_counts:
                several = DjangoPushProcesses(
                    receiver, args.concurrency, count, args, db_path
                )
                closing.append(several)
                systems.append(several)
            if "bare-urllib3" in wanted:
                systems.append(BareUrllib3(receiver, args.concurrency))
            if "bare-requests" in wanted:
                systems.append(Bare(receiver, args.concurrency))
            if "flask-websub" in wanted:
                flask = FlaskWebSub(receiver, args.concurrency, args)
                systems.append(flask)
            results = run_all(args, sizes, systems)
        finally:
            if flask is not None:
                flask.close()
            for several in closing:
                several.close()
        report(args, sizes, systems, results, capacity, receiver)
    return 0


def run_all(
    args: argparse.Namespace, sizes: list[int], systems: list[Any]
) -> dict[tuple[int, str], list[float]]:
    results: dict[tuple[int, str], list[float]] = {}
    for n in sizes:
        active = [
            s for s in systems if s.name != "flask-websub" or n <= args.flask_max_n
        ]
        for system in active:
            system.prepare(n)
            system.run(n)  # warm-up: connections, caches, worker start
            if type(system) is DjangoPush:
                system.queries[n] = system.count_queries(n)
        for round_no in range(args.rounds):
            shift = round_no % len(active)
            for system in active[shift:] + active[:shift]:
                elapsed = system.run(n)
                results.setdefault((n, system.name), []).append(n / elapsed)
            print(
                f"# N={n} round {round_no + 1}: "
                + ", ".join(
                    f"{s.name}={results[(n, s.name)][-1]:,.0f}/s" for s in active
                ),
                file=sys.stderr,
                flush=True,
            )
        if args.profile and systems and isinstance(systems[0], DjangoPush):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            systems[0].run(n)
            profiler.disable()
            print(f"# profile of one django-push publish, N={n}")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return results


def report(
    args: argparse.Namespace,
    sizes: list[int],
    systems: list[Any],
    results: dict[tuple[int, str], list[float]],
    capacity: list[float],
    receiver: Receiver,
) -> None:
    print("# fan-out benchmark: one publish to N subscribers, sha256, 1 KB body")
    print(f"# {describe_machine()}")
    print(
        f"# concurrency {args.concurrency}, {args.rounds} interleaved rounds per N "
        "(after one warm-up each); deliveries/s = N / wall time of the publish"
    )
    print(
        f"# receiver alone (raw keep-alive client, {args.concurrency} connections): "
        f"{median(capacity):,.0f} req/s (runs {spread(capacity)})"
    )
    rows = []
    names = [s.name for s in systems]
    ours = next((s for s in systems if type(s) is DjangoPush), None)
    for n in sizes:
        for name in names:
            rates = results.get((n, name))
            if not rates:
                rows.append([n, name, "not run", "", "", "", "", ""])
                continue
            row: list[object] = [n, name, f"{median(rates):,.0f}", spread(rates)]
            row.append(f"{1000 * n / median(rates):,.1f}")
            if name.startswith("django-push"):
                for other in ("bare-urllib3", "bare-requests", "flask-websub"):
                    theirs = results.get((n, other))
                    if theirs:
                        ratios = [a / b for a, b in zip(rates, theirs, strict=True)]
                        row.append(f"{median(ratios):.2f} ({spread(ratios, '{:.2f}')})")
                    else:
                        row.append("-")
            else:
                row += ["", "", ""]
            rows.append(row)
    print_table(
        [
            "N",
            "hub",
            "deliveries/s median",
            "min-max",
            "ms/publish",
            "vs urllib3",
            "vs requests",
            "vs flask-websub",
        ],
        rows,
    )
    if ours is not None:
        print_table(
            ["N", "django-push queries per publish"],
            [[n, ours.queries.get(n, "-")] for n in sizes],
        )
    counters = receiver.counters
    print(
        f"# receiver: {counters.ok.value} deliveries with a good signature, "
        f"{counters.bad.value} bad, {counters.fetches.value} topic fetches"
    )


if __name__ == "__main__":
    sys.exit(main())
