"""Claiming due rows so that each is worked on by one worker at a time.

A claim marks rows ``in_progress`` with a claim time and a random token, in
one short transaction. On PostgreSQL (any database that supports it) the
rows are picked with ``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent
workers never wait on each other and never pick the same row. Elsewhere
(SQLite) the claim is one ``UPDATE ... WHERE id IN (SELECT ...)``
statement, which SQLite runs under its single write lock.

A claim older than ``PUSH_HUB_CLAIM_TIMEOUT`` belongs to a worker presumed
dead: its rows are due again (workers renew the claims of long batches).
Work is therefore done at least once; a worker that freezes longer than the
timeout and then finishes may repeat an attempt another worker also made.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import connections, models, router, transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from ..conf import settings

M = TypeVar("M", bound=models.Model)


def due_filter(now: datetime) -> Q:
    """Rows whose attempt is due, or whose claim has expired."""
    stale = now - timedelta(seconds=settings.PUSH_HUB_CLAIM_TIMEOUT)
    return Q(status="pending", next_attempt_at__lte=now) | Q(
        status="in_progress", claimed_at__lt=stale
    )


def new_token() -> str:
    """A random claim token."""
    return secrets.token_hex(16)


def claim(queryset: models.QuerySet[M], limit: int | None = None) -> tuple[str, int]:
    """Claim the due rows of *queryset* (at most *limit*); return token, count."""
    model = queryset.model
    now = timezone.now()
    token = new_token()
    due = queryset.filter(due_filter(now)).order_by("next_attempt_at", "pk")
    if limit is not None:
        due = due[:limit]
    changes = {"status": "in_progress", "claimed_at": now, "claim_token": token}
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic(using=alias):
            pks = list(
                due.select_for_update(skip_locked=True, of=("self",)).values_list(
                    "pk", flat=True
                )
            )
            if not pks:
                return token, 0
            count = model._default_manager.filter(pk__in=pks).update(**changes)
    else:
        count = model._default_manager.filter(pk__in=Subquery(due.values("pk"))).update(
            **changes
        )
    return token, count


def retry_at(schedule: Sequence[int], attempts: int, now: datetime) -> datetime | None:
    """When to try again after *attempts* failed attempts; ``None`` if done.

    The schedule gives the base delays (exponential by default); each is
    stretched by up to a quarter at random so that callbacks that failed
    together are not all retried in the same second.
    """
    if attempts < 1 or attempts > len(schedule):
        return None
    base = float(schedule[attempts - 1])
    jitter = random.uniform(0.0, 0.25) * base  # noqa: S311 (not cryptographic)
    return now + timedelta(seconds=base + jitter)
