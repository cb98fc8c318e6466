"""A django-push hub process for ``fanout.py --django-push-workers W``.

Started by ``fanout.py`` against its SQLite file (WAL, ``IMMEDIATE``
transactions, as ``docs/deployment.rst`` recommends). Two roles:

``control``
    The process that publishes, as a web process of the embedded layout
    would: it reads ``publish <topic>`` lines on stdin, calls
    ``django_push.hub.api.publish([topic])`` with ``ImmediateBackend`` (so
    it fetches the topic, plans the deliveries and sends batches itself)
    and answers ``ok``.
``loop``
    ``push_hub_work --loop --interval I``: claims whatever is due, including
    the batches of a publish being sent by the control process.
"""

from __future__ import annotations

import argparse
import sys

from djangoenv import configure
from receiver import HUB_URL

#: The database options the hub processes share (see docs/deployment.rst).
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL;",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=("control", "loop"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--interval", type=float, default=0.01)
    args = parser.parse_args()
    configure(
        apps=["django_push.hub"],
        root_urlconf="django_push.hub.urls",
        extra={
            "PUSH_HUB_URL": HUB_URL,
            "PUSH_HUB_DELIVERY_CONCURRENCY": args.concurrency,
            "PUSH_HUB_DELIVERY_BATCH": args.batch,
        },
        conn_max_age=None,
        existing_db=args.db,
        sqlite_options=SQLITE_OPTIONS,
    )
    if args.role == "loop":
        from django.core.management import call_command

        call_command("push_hub_work", loop=True, interval=args.interval)
        return 0
    from django_push.hub import api

    print("ready", flush=True)
    for line in sys.stdin:
        command, _, topic = line.strip().partition(" ")
        if command != "publish":
            print(f"unknown command {command!r}", flush=True)
            continue
        api.publish([topic])
        print("ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
