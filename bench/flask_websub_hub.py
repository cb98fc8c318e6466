"""flask-websub's hub, driven for the fan-out comparison (not part of django-push).

Runs only under the separate virtualenv of ``requirements-flask-websub.txt``.
``bench/fanout.py`` starts it twice with that interpreter:

* as the Celery app of ``celery -A flask_websub_hub worker`` (the hub's
  delivery workers, Redis as broker);
* as ``python flask_websub_hub.py control``: reads commands on stdin,
  ``subscribe <topic> <callback-prefix> <n>`` stores *n* subscriptions
  (callback ``<prefix>/<i>``, secret of subscriber *i*) straight into the hub's
  SQLite storage, ``publish <topic>`` calls the hub's
  ``send_change_notification`` task exactly as its publish endpoint does
  (the worker then fetches the topic and queues one signed POST per
  subscriber); each command answers ``ok``.

Environment: ``BENCH_REDIS_URL`` and ``BENCH_FW_DB`` (the SQLite file).
"""

from __future__ import annotations

import os
import sqlite3
import sys

from celery import Celery
from flask_websub.hub import Hub, SQLite3HubStorage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from receiver import secret_for

app = Celery("flask_websub_bench", broker=os.environ["BENCH_REDIS_URL"])
app.conf.task_ignore_result = True
app.conf.worker_hijack_root_logger = False
hub = Hub(
    SQLite3HubStorage(os.environ["BENCH_FW_DB"]),
    app,
    SIGNATURE_ALGORITHM="sha256",
    REQUEST_TIMEOUT=10,
)


def subscribe(topic: str, prefix: str, count: int) -> None:
    rows = [
        (topic, f"{prefix}/{i}", 30 * 24 * 3600, secret_for(i)) for i in range(count)
    ]
    connection = sqlite3.connect(os.environ["BENCH_FW_DB"])
    with connection:
        connection.executemany(SQLite3HubStorage.SETITEM_SQL, rows)
    connection.close()


def control() -> None:
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "subscribe":
            subscribe(words[1], words[2], int(words[3]))
        elif words[0] == "publish":
            hub.send_change_notification.delay(words[1])
        sys.stdout.write("ok\n")
        sys.stdout.flush()


if __name__ == "__main__" and sys.argv[1:] == ["control"]:
    control()
