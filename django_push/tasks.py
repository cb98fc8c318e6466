"""The one place that imports Django's Tasks framework.

Django 6.0+ ships :mod:`django.tasks`; on Django 5.2 the ``django-tasks``
backport provides the same API as :mod:`django_tasks`. Everything in
django-push that runs in the background is a task defined with :func:`task`
and enqueued with :func:`enqueue_on_commit`: tasks take primary keys only and
are idempotent, because the database rows are the source of truth and the
sweeper commands redo whatever a lost task did not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

try:  # Django >= 6.0
    from django.tasks import default_task_backend, task
    from django.tasks.base import Task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import default_task_backend, task  # type: ignore[no-redef,unused-ignore]
    from django_tasks.base import Task  # type: ignore[no-redef,assignment,unused-ignore]

__all__ = ["Task", "default_task_backend", "enqueue", "enqueue_on_commit", "task"]

logger = logging.getLogger(__name__)


def enqueue(task_obj: Task[Any, Any], *args: Any) -> None:
    """Enqueue *task_obj* now, logging (not raising) if the backend fails.

    A task that cannot be enqueued is not lost: the rows it would have
    processed stay due and the sweeper command picks them up.
    """
    try:
        task_obj.enqueue(*args)
    except Exception:
        logger.exception("task_enqueue_failed task=%s args=%s", task_obj.name, args)


def enqueue_on_commit(
    task_obj: Task[Any, Any], *args: Any, using: str | None = None
) -> None:
    """Enqueue *task_obj* once the current transaction commits (now if none)."""
    callback: Callable[[], None] = lambda: enqueue(task_obj, *args)  # noqa: E731
    transaction.on_commit(callback, using=using)
