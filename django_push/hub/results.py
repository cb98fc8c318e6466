"""Recording the outcomes of a batch of deliveries.

Every database write of a fan-out happens here, after the HTTP requests,
with a fixed number of statements whatever the size of the batch.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..conf import settings
from . import signals
from .claims import retry_at
from .models import Delivery, HubSubscription
from .ssrf import callback_host
from .tasks import kick_verifications
from .verification import end_subscriptions, queue_denied

logger = logging.getLogger(__name__)

State = HubSubscription.State
Status = Delivery.Status


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
    callback: str
    topic: str
    secret: str
    hub_url: str


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
    for signal, outcomes in (
        (signals.delivered, successes),
        (signals.delivery_failed, failures),
    ):
        if not outcomes or not signal.has_listeners(Delivery):
            continue
        loaded = Delivery.objects.select_related("subscription").in_bulk(
            [o.delivery_id for o in outcomes]
        )
        for outcome in outcomes:
            delivery = loaded[outcome.delivery_id]
            extra: dict[str, Any] = (
                {"latency_ms": outcome.latency_ms}
                if signal is signals.delivered
                else {
                    "error": outcome.error,
                    "final": delivery.status == Status.FAILED,
                }
            )
            signal.send(
                sender=Delivery,
                delivery=delivery,
                subscription=delivery.subscription,
                status_code=outcome.status_code,
                **extra,
            )
