"""Content distribution through the subscriber callback, in-process.

Compares, in one run and interleaved round by round, the throughput of:

* ``callback``: a signed POST (1 KB Atom body, ``X-Hub-Signature``) to the
  callback view of an active subscription, which verifies the signature,
  sends ``updated`` (a receiver counts it) and answers 2xx;
* ``pk-view``: a bare Django view doing the same single primary-key lookup;
* ``no-query``: a bare Django view that does nothing.

All three go through :class:`django.core.handlers.wsgi.WSGIHandler` with
crafted WSGI environs and the middleware of a new ``startproject`` project.

Works against any implementation with the django-push 1.x API: a
``Subscription`` model with ``pk``, ``secret`` and ``verified``, and a URLconf
with a callback named ``subscriber_callback`` taking the pk::

    python bench/callback.py --impl django_push.subscriber
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import hmac
import io
import pstats
import sys
import time
import types
from collections.abc import Callable, Iterable
from datetime import timedelta
from importlib import import_module
from typing import Any

from djangoenv import configure
from tables import describe_machine, median, print_table, quartiles, spread

BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<feed xmlns="http://www.w3.org/2005/Atom"><title>bench</title>'
    b'<link rel="self" href="http://publisher.invalid/feed"/>'
    b'<link rel="hub" href="http://hub.invalid/"/>'
    b"<entry><title>entry</title><content>"
)
BODY = BODY + b"x" * (1024 - len(BODY) - len(b"</content></entry></feed>"))
BODY += b"</content></entry></feed>"
assert len(BODY) == 1024

TOPIC = "http://publisher.invalid/feed"
HUB = "http://hub.invalid/"
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
LINK = f'<{HUB}>; rel="hub", <{TOPIC}>; rel="self"'


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--impl",
        default="django_push.subscriber",
        help="app package with models.Subscription (default: %(default)s)",
    )
    parser.add_argument(
        "--urls",
        default=None,
        help="URLconf naming subscriber_callback (default: <impl>.urls)",
    )
    parser.add_argument(
        "--installed",
        action="store_true",
        help="import --impl from the environment, not from this checkout",
    )
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=400, help="requests per round")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--algorithm", default="sha256")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="CONN_MAX_AGE; 0 reconnects to SQLite on every request",
    )
    parser.add_argument(
        "--no-middleware", action="store_true", help="run with an empty MIDDLEWARE"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of the callback"
    )
    return parser.parse_args(argv)


def make_environ(path: str, signature: str | None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "HTTP_USER_AGENT": "bench-hub/1.0",
        "HTTP_LINK": LINK,
        "CONTENT_TYPE": "application/atom+xml",
        "CONTENT_LENGTH": str(len(BODY)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if signature is not None:
        environ["HTTP_X_HUB_SIGNATURE"] = signature
    return environ


class Target:
    """One view under test: a path and a prepared environ."""

    def __init__(self, name: str, path: str, signature: str | None) -> None:
        self.name = name
        self.path = path
        self.template = make_environ(path, signature)
        self.rates: list[float] = []
        self.cpu_rates: list[float] = []
        self.statuses: dict[int, int] = {}
        self.queries = 0

    def environ(self) -> dict[str, Any]:
        environ = dict(self.template)
        environ["wsgi.input"] = io.BytesIO(BODY)
        return environ


def call(handler: Callable[..., Iterable[bytes]], target: Target) -> int:
    status: list[str] = []

    def start_response(value: str, headers: list[tuple[str, str]]) -> None:
        status.append(value)

    response = handler(target.environ(), start_response)
    try:
        for _chunk in response:
            pass
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()
    return int(status[0].split(" ", 1)[0])


def run_batch(
    handler: Callable[..., Iterable[bytes]], target: Target, n: int
) -> tuple[float, float]:
    """Requests per second of wall time and per second of CPU time."""
    statuses = target.statuses
    cpu = time.process_time()
    start = time.perf_counter()
    for _ in range(n):
        code = call(handler, target)
        statuses[code] = statuses.get(code, 0) + 1
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return n / wall, n / max(cpu, 1e-9)


def build_urlconf(impl_urls: str, model: Any) -> str:
    from django.http import HttpRequest, HttpResponse
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    @csrf_exempt
    def pk_view(request: HttpRequest, pk: int) -> HttpResponse:
        model.objects.get(pk=pk)
        return HttpResponse(b"", status=200)

    @csrf_exempt
    def noquery_view(request: HttpRequest, pk: int) -> HttpResponse:
        return HttpResponse(b"", status=200)

    module = types.ModuleType("bench_callback_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("subscriber/", include(impl_urls)),
        path("bare/<int:pk>/", pk_view, name="bench_pk"),
        path("noquery/<int:pk>/", noquery_view, name="bench_noquery"),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    impl_urls = args.urls or f"{args.impl}.urls"
    configure(
        apps=[args.impl],
        root_urlconf="bench_callback_urls",
        middleware=[] if args.no_middleware else None,
        conn_max_age=args.conn_max_age,
        repo_on_path=not args.installed,
    )
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    model = import_module(f"{args.impl}.models").Subscription
    signals = import_module(f"{args.impl}.signals")
    build_urlconf(impl_urls, model)

    fields = {field.name for field in model._meta.get_fields()}
    # django-push 2 keeps the 1.x fields and adds a state; 1.x has none.
    extra = {"state": "active"} if "state" in fields else {}
    subscription = model.objects.create(
        hub=HUB,
        topic=TOPIC,
        verified=True,
        secret=SECRET,
        lease_expiration=timezone.now() + timedelta(days=10),
        **extra,
    )
    received: list[int] = [0]

    def on_updated(sender: Any, notification: bytes, **kwargs: Any) -> None:
        if notification == BODY:
            received[0] += 1

    signals.updated.connect(on_updated, weak=False)

    digest = hmac.new(SECRET.encode(), BODY, getattr(hashlib, args.algorithm))
    signature = f"{args.algorithm}={digest.hexdigest()}"
    pk = subscription.pk
    targets = [
        Target("callback", reverse("subscriber_callback", args=[pk]), signature),
        Target("pk-view", reverse("bench_pk", args=[pk]), None),
        Target("no-query", reverse("bench_noquery", args=[pk]), None),
    ]
    handler = WSGIHandler()

    for target in targets:
        run_batch(handler, target, args.warmup)
        with CaptureQueriesContext(connection) as ctx:
            call(handler, target)
        target.queries = len(ctx.captured_queries)
        target.statuses.clear()
    received[0] = 0

    ratios: dict[str, list[float]] = {
        "callback / pk-view (wall)": [],
        "callback / pk-view (CPU)": [],
        "callback / no-query (wall)": [],
        "callback / no-query (CPU)": [],
    }
    for round_no in range(args.rounds):
        shift = round_no % len(targets)
        order = targets[shift:] + targets[:shift]
        rates = {}
        cpu_rates = {}
        for target in order:
            wall, cpu = run_batch(handler, target, args.batch)
            rates[target.name], cpu_rates[target.name] = wall, cpu
            target.rates.append(wall)
            target.cpu_rates.append(cpu)
        for other in ("pk-view", "no-query"):
            ratios[f"callback / {other} (wall)"].append(
                rates["callback"] / rates[other]
            )
            ratios[f"callback / {other} (CPU)"].append(
                cpu_rates["callback"] / cpu_rates[other]
            )

    print(f"# callback benchmark: impl={args.impl} urls={impl_urls}")
    print(f"# {describe_machine()}")
    print(
        f"# {args.rounds} interleaved rounds of {args.batch} requests per view, "
        f"{len(BODY)}-byte body, {args.algorithm} signature, "
        f"CONN_MAX_AGE={args.conn_max_age}, "
        f"middleware={'none' if args.no_middleware else 'startproject'}"
    )
    rows = []
    for target in targets:
        med = median(target.rates)
        rows.append(
            [
                target.name,
                f"{med:,.0f}",
                quartiles(target.rates),
                spread(target.rates),
                f"{median(target.cpu_rates):,.0f}",
                f"{1e6 / median(target.cpu_rates):,.0f}",
                target.queries,
                ",".join(f"{k}x{v}" for k, v in sorted(target.statuses.items())),
            ]
        )
    print_table(
        [
            "view",
            "req/s median",
            "p25-p75",
            "min-max",
            "req/CPU-s",
            "CPU us/req",
            "queries/req",
            "status",
        ],
        rows,
    )
    print_table(
        ["throughput ratio", "median", "p25-p75", "min-max"],
        [
            [
                name,
                f"{median(values):.2f}",
                quartiles(values, "{:.2f}"),
                spread(values, "{:.2f}"),
            ]
            for name, values in ratios.items()
        ],
    )
    expected = args.rounds * args.batch
    ok = received[0] == expected and all(
        200 <= code < 300 for code in targets[0].statuses
    )
    print(f"# updated signals: {received[0]} of {expected} callback requests")
    if not ok:
        print("# WARNING: the callback did not accept every notification")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_batch(handler, targets[0], args.batch * 5)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
