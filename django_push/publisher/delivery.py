"""Sending publish pings in the background, and retrying the failed ones.

A failed ping becomes a :class:`~django_push.publisher.models.PendingPing`
row (when the ``django_push.publisher`` app is installed) due after the next
delay of ``PUSH_PUBLISH_RETRY_SCHEDULE``. :func:`retry_due` sends whatever is
due; it runs from a deferred task where the task backend supports
``run_after``, and from the ``push_publish_retry`` command everywhere.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from ..conf import settings
from ..exceptions import PushError
from .pings import is_local_hub, send_ping

logger = logging.getLogger(__name__)

#: How long a sweeper owns the rows it claimed before another may take them.
CLAIM_SECONDS = 300


def _retries_enabled() -> bool:
    return apps.is_installed("django_push.publisher")


def _publish_locally(topics: list[str]) -> None:
    # The in-project hub records the publish and fetches on commit: no HTTP
    # to ourselves (imported lazily: the hub app is optional).
    from ..hub.api import publish as hub_publish

    hub_publish(topics)


def send_to_hub(hub_url: str, topics: list[str]) -> tuple[list[str], str]:
    """Announce each of *topics* to *hub_url*; return the failed ones and why.

    Each topic gets its own ping, so hubs that read a single ``hub.topic``
    see them all. After the first failure the hub is not asked again in
    this run: a hub that hangs costs one timeout, not one per topic.
    """
    if is_local_hub(hub_url):
        try:
            _publish_locally(topics)
        except Exception as exc:
            logger.exception("publish_local_failed topics=%d", len(topics))
            return topics, f"local hub: {exc.__class__.__name__}"
        return [], ""
    for index, topic in enumerate(topics):
        try:
            send_ping(hub_url, [topic])
        except PushError as exc:
            return topics[index:], str(exc)
    return [], ""


def record_failures(
    hub_url: str,
    topics: Iterable[str],
    attempts: int,
    error: str,
    now: datetime | None = None,
) -> int:
    """Store *topics* for another attempt, or give up on them; return rows stored."""
    topics = list(topics)
    if not topics:
        return 0
    schedule = settings.PUSH_PUBLISH_RETRY_SCHEDULE
    if attempts > len(schedule):
        logger.error(
            "publish_abandoned hub=%s topics=%d attempts=%d error=%s",
            hub_url,
            len(topics),
            attempts,
            error,
        )
        return 0
    if not _retries_enabled():
        logger.error(
            "publish_failed hub=%s topics=%d error=%s retry=no "
            "reason=django_push.publisher_not_installed",
            hub_url,
            len(topics),
            error,
        )
        return 0
    from .models import PendingPing

    now = now or timezone.now()
    due = now + timedelta(seconds=schedule[attempts - 1])
    PendingPing.objects.bulk_create(
        PendingPing(
            hub=hub_url,
            topic=topic,
            attempts=attempts,
            next_attempt_at=due,
            last_error=error[:255],
        )
        for topic in topics
    )
    logger.warning(
        "publish_failed hub=%s topics=%d attempts=%d retry_at=%s error=%s",
        hub_url,
        len(topics),
        attempts,
        due.isoformat(),
        error,
    )
    schedule_retry(due)
    return len(topics)


def schedule_retry(due: datetime) -> bool:
    """Enqueue :func:`retry_due` to run at *due* if the backend can defer."""
    from . import tasks

    task = tasks.retry_pings
    if not task.get_backend().supports_defer:
        return False
    transaction.on_commit(lambda: _enqueue_deferred(due))
    return True


def _enqueue_deferred(due: datetime) -> None:
    from ..tasks import enqueue
    from . import tasks

    enqueue(tasks.retry_pings.using(run_after=due))


def deliver(hub_url: str, topics: list[str]) -> list[str]:
    """First attempt of a publish: ping, and keep what failed for later."""
    failed, error = send_to_hub(hub_url, topics)
    record_failures(hub_url, failed, 1, error)
    return failed


def retry_due(now: datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Send every ping that is due; return counts ``sent``, ``failed``, ``abandoned``.

    Safe to run from several processes: due rows are claimed first (with
    ``SKIP LOCKED`` where the database has it) so each is sent by one sweeper.
    """
    counts = {"sent": 0, "failed": 0, "abandoned": 0}
    if not _retries_enabled():
        return counts
    from .models import PendingPing

    now = now or timezone.now()
    with transaction.atomic():
        due = PendingPing.objects.filter(next_attempt_at__lte=now).order_by(
            "next_attempt_at", "pk"
        )
        ids = list(
            due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
        )
        PendingPing.objects.filter(pk__in=ids).update(
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
        )
    rows = list(PendingPing.objects.filter(pk__in=ids).order_by("pk"))
    # One ping per (hub, topic), however many failed publishes it stands for.
    attempts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        known = attempts[row.hub].get(row.topic, 0)
        attempts[row.hub][row.topic] = max(known, row.attempts)
    schedule_length = len(settings.PUSH_PUBLISH_RETRY_SCHEDULE)
    # Network first, outside any transaction; then one write of the outcome.
    outcomes = [
        (hub_url, by_topic, *send_to_hub(hub_url, list(by_topic)))
        for hub_url, by_topic in attempts.items()
    ]
    with transaction.atomic():
        for hub_url, by_topic, failed, error in outcomes:
            counts["sent"] += len(by_topic) - len(failed)
            # One insert (and one deferred retry task) per attempt number.
            by_attempt: dict[int, list[str]] = defaultdict(list)
            for topic in failed:
                by_attempt[by_topic[topic] + 1].append(topic)
            for next_attempt, topics in by_attempt.items():
                key = "abandoned" if next_attempt > schedule_length else "failed"
                counts[key] += len(topics)
                record_failures(hub_url, topics, next_attempt, error, now)
        PendingPing.objects.filter(pk__in=ids).delete()
    return counts
