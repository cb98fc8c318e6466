"""Content distribution: one claimed batch of deliveries (WebSub 7).

The HTTP requests of a batch run concurrently in a bounded thread pool
sharing one pooled session, so connections to a callback are reused. The
threads only talk HTTP; every database write happens afterwards in the
calling thread, batched: successes are recorded with one statement,
whatever the batch size.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import requests
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
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
from .ssrf import HostGuard, UnsafeURL, callback_host
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


#: What a delivery needs, read as plain tuples: building model instances
#: for thousands of rows would cost more than sending them.
CLAIMED_FIELDS = (
    "pk",
    "content_id",
    "attempts",
    "publish__hub_url",
    "subscription_id",
    "subscription__state",
    "subscription__lease_expires_at",
    "subscription__callback",
    "subscription__topic",
    "subscription__secret",
    "subscription__hub_url",
)


class Claimed(NamedTuple):
    """One claimed delivery with its subscription's fields."""

    pk: int
    content_id: int
    attempts: int
    publish_hub_url: str
    subscription_id: int
    state: str
    lease_expires_at: datetime | None
    callback: str
    topic: str
    secret: str
    hub_url: str


def build_job(
    row: Claimed, content_type: str, body: bytes, hub_url: str, algorithm: str
) -> Job:
    """The request for *row*: topic Content-Type, Link, signature.

    *hub_url* is ``PUSH_HUB_URL`` (or empty) and *algorithm*
    ``PUSH_HUB_SIGNATURE_ALGORITHM``, read once per batch by the caller.
    """
    headers = {
        "Content-Type": content_type or DEFAULT_CONTENT_TYPE,
        "Link": format_link_header(
            [hub_url or row.hub_url or row.publish_hub_url], row.topic
        ),
    }
    if row.secret:
        # HUB-C05/C06: signed over the exact bytes sent, only with a secret.
        headers["X-Hub-Signature"] = sign(row.secret, body, algorithm)
    return Job(row.pk, row.callback, body, headers)


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
    rows = [
        Claimed(*values)
        for values in Delivery.objects.filter(
            claim_token=token, status=Status.IN_PROGRESS
        ).values_list(*CLAIMED_FIELDS)
    ]
    if not rows:
        return
    contents = {
        pk: (content_type, bytes(body))
        for pk, content_type, body in Content.objects.filter(
            pk__in={row.content_id for row in rows}
        ).values_list("pk", "content_type", "body")
    }
    now = timezone.now()
    dropped = [
        row.pk
        for row in rows
        if row.state != State.ACTIVE
        or row.lease_expires_at is None
        or row.lease_expires_at <= now
    ]
    if dropped:
        Delivery.objects.filter(pk__in=dropped).update(
            status=Status.CANCELLED, error="subscription not active"
        )
        counts["cancelled"] += len(dropped)
        skip = set(dropped)
        rows = [row for row in rows if row.pk not in skip]
    if not rows:
        return
    hub_url = settings.PUSH_HUB_URL or ""
    algorithm = settings.PUSH_HUB_SIGNATURE_ALGORITHM
    # A generator: the pool starts sending while later jobs are being built.
    jobs = (
        build_job(row, *contents[row.content_id], hub_url, algorithm) for row in rows
    )
    outcomes = run_jobs(jobs, len(rows))
    record(token, rows, outcomes, counts)


def run_jobs(jobs: Iterable[Job], count: int) -> list[Outcome]:
    """Run the *count* *jobs* concurrently on one pooled session."""
    concurrency = max(1, min(settings.PUSH_HUB_DELIVERY_CONCURRENCY, count))
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


def supports_update_from(connection: BaseDatabaseWrapper) -> bool:
    """Whether the database runs ``UPDATE ... FROM`` (SQLite from 3.33)."""
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 33)
    return connection.vendor == "postgresql"


def _mark_delivered(
    token: str, outcomes: list[Outcome], by_id: dict[int, Claimed], now: datetime
) -> None:
    """Record successes in one UPDATE, whatever their number.

    Each row gets its own status code and latency from a ``VALUES`` list
    joined on the primary key (``UPDATE ... FROM``, PostgreSQL and SQLite
    3.33+). Only integers computed here are written into the statement; the
    rest are parameters, so there is no limit on bound parameters to hit.
    Other databases get a ``bulk_update``.
    """
    alias = router.db_for_write(Delivery)
    connection = connections[alias]
    if not supports_update_from(connection):
        Delivery.objects.filter(claim_token=token).bulk_update(
            [
                Delivery(
                    pk=o.delivery_id,
                    status=Status.DELIVERED,
                    attempts=by_id[o.delivery_id].attempts + 1,
                    delivered_at=now,
                    last_attempt_at=now,
                    last_status_code=o.status_code,
                    latency_ms=o.latency_ms,
                    error="",
                )
                for o in outcomes
            ],
            [
                "status",
                "attempts",
                "delivered_at",
                "last_attempt_at",
                "last_status_code",
                "latency_ms",
                "error",
            ],
        )
        return
    qn = connection.ops.quote_name
    table = qn(Delivery._meta.db_table)
    values = ", ".join(
        f"({int(o.delivery_id)}, {int(o.status_code or 0)}, {int(o.latency_ms)})"
        for o in outcomes
    )
    sql = (
        f"UPDATE {table} SET "  # noqa: S608
        f"{qn('status')} = %s, {qn('attempts')} = {qn('attempts')} + 1, "
        f"{qn('delivered_at')} = %s, {qn('last_attempt_at')} = %s, "
        f"{qn('last_status_code')} = v.column2, {qn('latency_ms')} = v.column3, "
        f"{qn('error')} = '' FROM (VALUES {values}) AS v "
        f"WHERE {table}.{qn('id')} = v.column1 AND {table}.{qn('claim_token')} = %s"
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [Status.DELIVERED, stamp, stamp, token])


def _failed_row(row: Claimed, outcome: Outcome, now: datetime) -> Delivery:
    """The unsaved new state of a failed delivery (for ``bulk_update``)."""
    attempts = row.attempts + 1
    failed = Delivery(
        pk=row.pk,
        subscription_id=row.subscription_id,
        attempts=attempts,
        last_attempt_at=now,
        last_status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error,
        status=Status.FAILED,
        next_attempt_at=now,
    )
    # WebSub 7: 410 Gone ends the subscription at once, without retry.
    if outcome.status_code != 410:
        when = retry_at(settings.PUSH_HUB_RETRY_SCHEDULE, attempts, now)
        if when is not None:
            failed.status = Status.PENDING
            failed.next_attempt_at = when
    return failed


def record(
    token: str, rows: list[Claimed], outcomes: list[Outcome], counts: dict[str, int]
) -> None:
    """Store the outcomes of a batch and update the subscriptions."""
    now = timezone.now()
    by_id = {row.pk: row for row in rows}
    successes = [o for o in outcomes if o.ok]
    failures = [o for o in outcomes if not o.ok]
    failed_rows = [_failed_row(by_id[o.delivery_id], o, now) for o in failures]
    gone = {
        row.subscription_id
        for row, o in zip(failed_rows, failures, strict=True)
        if o.status_code == 410
    }
    failing = {row.subscription_id for row in failed_rows} - gone
    with transaction.atomic():
        if successes:
            _mark_delivered(token, successes, by_id, now)
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
        if failing:
            HubSubscription.objects.filter(pk__in=failing).update(
                consecutive_failures=F("consecutive_failures") + 1,
                last_failure_at=now,
                failing_since=Coalesce(F("failing_since"), Value(now)),
            )
    counts["delivered"] += len(successes)
    counts["delivery_retries"] += sum(r.status == Status.PENDING for r in failed_rows)
    counts["delivery_failed"] += sum(r.status == Status.FAILED for r in failed_rows)
    if gone:
        counts["gone"] += len(gone)
        end_subscriptions(
            list(HubSubscription.objects.filter(pk__in=gone)), State.GONE, "gone"
        )
    if failing:
        _suspend_failing(failing, now, counts)
    _send_signals(successes, failures)


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
            "subscription_suspended id=%s callback_host=%s failing_since=%s",
            subscription.pk,
            callback_host(subscription.callback),
            subscription.failing_since,
        )
    end_subscriptions(suspended, State.SUSPENDED, "suspended")
    kick_verifications(
        queue_denied(
            suspended, "The callback failed for too long; subscription suspended."
        )
    )


def _send_signals(successes: list[Outcome], failures: list[Outcome]) -> None:
    """Send ``delivered`` / ``delivery_failed``, loading rows only if heard."""
    if successes and signals.delivered.has_listeners(Delivery):
        loaded = Delivery.objects.select_related("subscription").in_bulk(
            [o.delivery_id for o in successes]
        )
        for outcome in successes:
            delivery = loaded[outcome.delivery_id]
            signals.delivered.send(
                sender=Delivery,
                delivery=delivery,
                subscription=delivery.subscription,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
            )
    if failures and signals.delivery_failed.has_listeners(Delivery):
        loaded = Delivery.objects.select_related("subscription").in_bulk(
            [o.delivery_id for o in failures]
        )
        for outcome in failures:
            delivery = loaded[outcome.delivery_id]
            signals.delivery_failed.send(
                sender=Delivery,
                delivery=delivery,
                subscription=delivery.subscription,
                status_code=outcome.status_code,
                error=outcome.error,
                final=delivery.status == Status.FAILED,
            )
