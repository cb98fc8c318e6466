"""Content distribution: one claimed batch of deliveries (WebSub 7).

The HTTP requests of a batch run concurrently in a bounded thread pool
sharing one pooled session, so connections to a callback are reused. The
threads only talk HTTP; every database write happens afterwards in the
calling thread, batched: successes are recorded with one statement,
whatever the batch size.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.db import connections, router, transaction
from django.db.models import F, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .. import http
from ..conf import settings
from ..exceptions import RequestError, ResponseTooLarge
from ..links import format_link_header
from ..signatures import sign
from . import signals
from .claims import retry_at
from .models import Content, Delivery, HubSubscription
from .ssrf import HostGuard, UnsafeURL
from .tasks import kick_verifications
from .verification import end_subscriptions, queue_denied

logger = logging.getLogger(__name__)

#: The callback's answer is ignored (WebSub 7); read no more than this.
RESPONSE_CAP = 64 * 1024

#: Content-Type sent when the topic had none (HUB-C03).
DEFAULT_CONTENT_TYPE = "application/octet-stream"

State = HubSubscription.State
Status = Delivery.Status


@dataclass
class Job:
    """One HTTP request to make: everything the thread needs, no models."""

    delivery_id: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Outcome:
    """What one attempt gave."""

    delivery_id: int
    status_code: int | None
    latency_ms: int
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def hub_url_for(subscription: HubSubscription, fallback: str = "") -> str:
    """The ``rel=hub`` URL for a delivery: the setting, else the one used."""
    return settings.PUSH_HUB_URL or subscription.hub_url or fallback


def build_job(delivery: Delivery, content: Content, body: bytes) -> Job:
    """The request for *delivery*: topic Content-Type, Link, signature."""
    subscription = delivery.subscription
    headers = {
        "Content-Type": content.content_type or DEFAULT_CONTENT_TYPE,
        "Link": format_link_header(
            [hub_url_for(subscription, delivery.publish.hub_url)], subscription.topic
        ),
    }
    if subscription.secret:
        # HUB-C05/C06: signed over the exact bytes sent, only with a secret.
        headers["X-Hub-Signature"] = sign(
            subscription.secret, body, settings.PUSH_HUB_SIGNATURE_ALGORITHM
        )
    return Job(delivery.pk, subscription.callback, body, headers)


def send(job: Job, session: requests.Session, guard: HostGuard) -> Outcome:
    """POST one delivery; never raises, never follows redirects."""
    start = time.perf_counter()
    code: int | None = None
    error = ""
    try:
        guard.check(job.url)
        response = http.request(
            "POST",
            job.url,
            data=job.body,
            headers=job.headers,
            allow_redirects=False,
            max_bytes=RESPONSE_CAP,
            session=session,
        )
        code = response.status_code
    except ResponseTooLarge as exc:
        code = exc.response.status_code if exc.response is not None else None
    except RequestError as exc:
        error = str(exc)
    except UnsafeURL as exc:
        error = f"callback {exc}"
    if code is not None and not 200 <= code < 300:
        error = f"HTTP {code}"
    latency = int((time.perf_counter() - start) * 1000)
    return Outcome(job.delivery_id, code, latency, error[:500])


def deliver_claimed(token: str, counts: dict[str, int]) -> None:
    """Send every delivery claimed with *token* and record the outcomes."""
    rows = list(
        Delivery.objects.filter(
            claim_token=token, status=Status.IN_PROGRESS
        ).select_related("subscription", "publish")
    )
    if not rows:
        return
    contents = Content.objects.in_bulk({row.content_id for row in rows})
    bodies = {pk: bytes(c.body) for pk, c in contents.items()}
    now = timezone.now()
    jobs: list[Job] = []
    dropped: list[Delivery] = []
    for row in rows:
        subscription = row.subscription
        if subscription.state != State.ACTIVE or subscription.has_expired(now):
            dropped.append(row)
            continue
        content = contents[row.content_id]
        jobs.append(build_job(row, content, bodies[row.content_id]))
    if dropped:
        Delivery.objects.filter(pk__in=[r.pk for r in dropped]).update(
            status=Status.CANCELLED, error="subscription not active"
        )
        counts["cancelled"] += len(dropped)
    if not jobs:
        return
    outcomes = run_jobs(jobs)
    record(token, rows, outcomes, counts)


def run_jobs(jobs: list[Job]) -> list[Outcome]:
    """Run *jobs* concurrently on one pooled session."""
    concurrency = max(1, min(settings.PUSH_HUB_DELIVERY_CONCURRENCY, len(jobs)))
    guard = HostGuard()
    session = http.new_session(pool_size=concurrency)
    try:
        if concurrency == 1:
            return [send(job, session, guard) for job in jobs]
        with ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="push-hub-delivery"
        ) as pool:
            return list(pool.map(lambda job: send(job, session, guard), jobs))
    finally:
        session.close()


def _mark_delivered(token: str, outcomes: list[Outcome], now: datetime) -> None:
    """Record successes in one UPDATE, whatever their number."""
    alias = router.db_for_write(Delivery)
    connection = connections[alias]
    qn = connection.ops.quote_name
    pk = qn("id")
    # Only integers computed here are written into the statement; the rest
    # are parameters. This keeps one statement for any number of rows, with
    # no limit on bound parameters to hit.
    codes = " ".join(
        f"WHEN {int(o.delivery_id)} THEN {int(o.status_code or 0)}" for o in outcomes
    )
    latencies = " ".join(
        f"WHEN {int(o.delivery_id)} THEN {int(o.latency_ms)}" for o in outcomes
    )
    ids = ", ".join(str(int(o.delivery_id)) for o in outcomes)
    sql = (
        f"UPDATE {qn(Delivery._meta.db_table)} SET "  # noqa: S608
        f"{qn('status')} = %s, {qn('attempts')} = {qn('attempts')} + 1, "
        f"{qn('delivered_at')} = %s, {qn('last_attempt_at')} = %s, "
        f"{qn('last_status_code')} = CASE {pk} {codes} END, "
        f"{qn('latency_ms')} = CASE {pk} {latencies} END, {qn('error')} = '' "
        f"WHERE {pk} IN ({ids}) AND {qn('claim_token')} = %s"
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [Status.DELIVERED, stamp, stamp, token])


def record(
    token: str, rows: list[Delivery], outcomes: list[Outcome], counts: dict[str, int]
) -> None:
    """Store the outcomes of a batch and update the subscriptions."""
    now = timezone.now()
    by_id = {row.pk: row for row in rows}
    successes = [o for o in outcomes if o.ok]
    failures = [o for o in outcomes if not o.ok]
    gone: list[HubSubscription] = []
    failed_rows: list[Delivery] = []
    failing_subscriptions: set[int] = set()
    for outcome in failures:
        row = by_id[outcome.delivery_id]
        row.attempts += 1
        row.last_attempt_at = now
        row.last_status_code = outcome.status_code
        row.latency_ms = outcome.latency_ms
        row.error = outcome.error
        if outcome.status_code == 410:
            # WebSub 7: 410 Gone ends the subscription at once.
            row.status = Status.FAILED
            gone.append(row.subscription)
        else:
            failing_subscriptions.add(row.subscription_id)
            when = retry_at(settings.PUSH_HUB_RETRY_SCHEDULE, row.attempts, now)
            if when is None:
                row.status = Status.FAILED
            else:
                row.status = Status.PENDING
                row.next_attempt_at = when
        failed_rows.append(row)
    with transaction.atomic():
        if successes:
            _mark_delivered(token, successes, now)
            HubSubscription.objects.filter(
                pk__in=Subquery(
                    Delivery.objects.filter(
                        claim_token=token, status=Status.DELIVERED
                    ).values("subscription_id")
                )
            ).update(last_success_at=now, failing_since=None, consecutive_failures=0)
        if failed_rows:
            Delivery.objects.filter(claim_token=token).bulk_update(
                failed_rows,
                [
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "last_attempt_at",
                    "last_status_code",
                    "latency_ms",
                    "error",
                ],
            )
        if failing_subscriptions:
            HubSubscription.objects.filter(pk__in=failing_subscriptions).update(
                consecutive_failures=F("consecutive_failures") + 1,
                last_failure_at=now,
                failing_since=Coalesce(F("failing_since"), Value(now)),
            )
    counts["delivered"] += len(successes)
    counts["delivery_retries"] += sum(r.status == Status.PENDING for r in failed_rows)
    counts["delivery_failed"] += sum(r.status == Status.FAILED for r in failed_rows)
    if gone:
        counts["gone"] += len(gone)
        end_subscriptions(_unique(gone), State.GONE, "gone")
    if failing_subscriptions:
        _suspend_failing(failing_subscriptions, now, counts)
    _send_signals(by_id, successes, failed_rows, failures)


def _unique(subscriptions: list[HubSubscription]) -> list[HubSubscription]:
    return list({s.pk: s for s in subscriptions}.values())


def _suspend_failing(pks: set[int], now: datetime, counts: dict[str, int]) -> None:
    """Suspend callbacks failing longer than ``PUSH_HUB_SUSPEND_AFTER``."""
    cutoff = now - timedelta(seconds=settings.PUSH_HUB_SUSPEND_AFTER)
    suspended = list(
        HubSubscription.objects.filter(
            pk__in=pks, state=State.ACTIVE, failing_since__lte=cutoff
        )
    )
    if not suspended:
        return
    counts["suspended"] += len(suspended)
    for subscription in suspended:
        logger.warning(
            "subscription_suspended id=%s callback=%s failing_since=%s",
            subscription.pk,
            subscription.callback,
            subscription.failing_since,
        )
    end_subscriptions(suspended, State.SUSPENDED, "suspended")
    kick_verifications(
        queue_denied(
            suspended, "The callback failed for too long; subscription suspended."
        )
    )


def _send_signals(
    by_id: dict[int, Delivery],
    successes: list[Outcome],
    failed_rows: list[Delivery],
    failures: list[Outcome],
) -> None:
    if successes and signals.delivered.has_listeners(Delivery):
        for outcome in successes:
            row = by_id[outcome.delivery_id]
            row.status = Status.DELIVERED
            signals.delivered.send(
                sender=Delivery,
                delivery=row,
                subscription=row.subscription,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
            )
    if failed_rows and signals.delivery_failed.has_listeners(Delivery):
        for row, outcome in zip(failed_rows, failures, strict=True):
            signals.delivery_failed.send(
                sender=Delivery,
                delivery=row,
                subscription=row.subscription,
                status_code=outcome.status_code,
                error=outcome.error,
                final=row.status == Status.FAILED,
            )
