"""Lease renewal (WebSub 5.3.1, SUB-L01): re-subscribe before leases end.

:func:`renew_due` is the public entry point; the ``push_renew`` command and
the :func:`~.tasks.renew_subscriptions` task are thin wrappers around it.
All database work happens in the calling thread: the pending intents of
every due subscription are committed in bulk before any request is sent
(SUB-S08), worker threads only talk HTTP over one shared connection pool,
and the results are recorded once they are all back. A failed renewal keeps
the subscription as it was, records ``last_error`` and is retried on the
next run; nothing is dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from queue import Empty, SimpleQueue
from typing import TypeVar, cast

from django.db import connections
from django.utils import timezone

from .. import http
from ..conf import settings
from ..exceptions import SubscriptionError
from .intents import HubAnswer, build_form, forget_intent, post_form, record_success
from .models import Subscription, build_callback_url, may_send_secret

logger = logging.getLogger(__name__)

#: Rows per ``pk__in`` query, below every backend's parameter limit.
CHUNK = 500

Job = TypeVar("Job")
Result = TypeVar("Result")


def run_concurrently(
    jobs: Sequence[Job], work: Callable[[Job], Result], concurrency: int
) -> list[Result]:
    """``[work(job) for job in jobs]`` on at most *concurrency* threads."""
    if concurrency <= 1 or len(jobs) <= 1:
        return [work(job) for job in jobs]
    results: list[Result | None] = [None] * len(jobs)
    pending: SimpleQueue[int] = SimpleQueue()
    for index in range(len(jobs)):
        pending.put(index)

    def worker() -> None:
        try:
            while True:
                try:
                    index = pending.get_nowait()
                except Empty:
                    return
                results[index] = work(jobs[index])
        finally:
            # Anything the work touched (a PUSH_CREDENTIALS function reading
            # the database, say) must not leave a connection behind.
            connections.close_all()

    threads = [
        threading.Thread(target=worker, name=f"push-renew-{n}", daemon=True)
        for n in range(min(concurrency, len(jobs)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return cast(list[Result], results)


def _chunks(pks: list[int]) -> list[list[int]]:
    return [pks[i : i + CHUNK] for i in range(0, len(pks), CHUNK)]


def renew_due(
    *,
    limit: int | None = None,
    concurrency: int | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Renew every subscription due (see ``due_for_renewal``); return counts.

    Safe to run from cron every few minutes: a renewal the hub accepted is
    not repeated while its verification is pending.
    """
    concurrency = concurrency or settings.PUSH_RENEW_CONCURRENCY
    due = Subscription.objects.due_for_renewal(now)
    subscriptions = list(due[:limit] if limit else due)
    if not subscriptions:
        return {"due": 0, "renewed": 0, "failed": 0}

    # Everything that can fail locally (building callback URLs) happens
    # before any intent is written.
    jobs: list[tuple[Subscription, list[tuple[str, str]]]] = []
    unsendable: list[int] = []
    for subscription in subscriptions:
        if subscription.secret and not may_send_secret(subscription.hub):
            unsendable.append(subscription.pk)
            subscription.secret = ""
        form = build_form(
            mode=Subscription.Mode.SUBSCRIBE,
            callback=build_callback_url(subscription.pk),
            topic=subscription.topic,
            secret=subscription.secret,
            lease_seconds=settings.PUSH_LEASE_SECONDS or subscription.lease_seconds,
        )
        jobs.append((subscription, form))

    requested_at = timezone.now()
    previous = {s.pk: (s.pending_mode, s.requested_at) for s in subscriptions}
    claimed: set[int] = set()
    for chunk in _chunks([s.pk for s in subscriptions]):
        # An unsubscription requested since the SELECT wins over renewal.
        Subscription.objects.filter(pk__in=chunk).exclude(
            pending_mode=Subscription.Mode.UNSUBSCRIBE
        ).update(pending_mode=Subscription.Mode.SUBSCRIBE, requested_at=requested_at)
        claimed.update(
            Subscription.objects.filter(
                pk__in=chunk,
                pending_mode=Subscription.Mode.SUBSCRIBE,
                requested_at=requested_at,
            ).values_list("pk", flat=True)
        )
    jobs = [job for job in jobs if job[0].pk in claimed]
    subscriptions = [job[0] for job in jobs]
    unsendable = [pk for pk in unsendable if pk in claimed]
    for chunk in _chunks(unsendable):
        # A secret the hub never receives would make us refuse its deliveries.
        Subscription.objects.filter(pk__in=chunk).update(secret="")
    for subscription in subscriptions:
        subscription.pending_mode = Subscription.Mode.SUBSCRIBE
        subscription.requested_at = requested_at

    session = http.new_session(pool_size=concurrency)

    def send(job: tuple[Subscription, list[tuple[str, str]]]) -> HubAnswer | str:
        subscription, form = job
        try:
            return post_form(subscription.hub, form, session=session)
        except SubscriptionError as exc:
            return str(exc)
        except Exception as exc:  # a broken PUSH_CREDENTIALS, for instance
            logger.exception("renewal_crashed pk=%s", subscription.pk)
            return f"{exc.__class__.__name__}: {exc}"

    try:
        results = run_concurrently(jobs, send, concurrency)
    finally:
        session.close()

    succeeded: list[int] = []
    failed = 0
    for (subscription, _form), result in zip(jobs, results, strict=True):
        if isinstance(result, str):
            failed += 1
            forget_intent(
                subscription,
                Subscription.Mode.SUBSCRIBE,
                requested_at,
                previous[subscription.pk],
                result,
            )
            logger.warning(
                "renewal_failed pk=%s hub=%s", subscription.pk, subscription.hub
            )
        elif result.moved:
            record_success(subscription, result)
        else:
            succeeded.append(subscription.pk)
    for chunk in _chunks(succeeded):
        Subscription.objects.filter(pk__in=chunk).update(last_error="")
    counts = {
        "due": len(subscriptions),
        "renewed": len(jobs) - failed,
        "failed": failed,
    }
    logger.info(
        "renewal_done due=%s renewed=%s failed=%s",
        counts["due"],
        counts["renewed"],
        counts["failed"],
    )
    return counts
