"""Settings of the worker processes started by ``test_postgres_workers``.

They share the test database of the pytest process (its name comes in
``PUSH_TEST_DATABASE_NAME``), run tasks with django-tasks-db and claim with
a short timeout so that a killed worker's rows come back quickly. Each
worker gets its own ``PUSH_HUB_URL``, which the fake subscribers see as
``rel=hub`` and use to tell which worker delivered.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["PUSH_TEST_DATABASE_NAME"]

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

PUSH_HUB_URL = os.environ["PUSH_TEST_HUB_URL"]
PUSH_HUB_CLAIM_TIMEOUT = int(os.environ.get("PUSH_TEST_CLAIM_TIMEOUT", "3"))
PUSH_HUB_RETRY_SCHEDULE = (1, 1, 1, 1, 1, 1)
PUSH_HUB_DELIVERY_CONCURRENCY = 4

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django_push": {"handlers": ["stderr"], "level": "INFO"}},
}
