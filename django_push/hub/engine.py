"""The hub's delivery engine: public entry points.

:func:`run_due` does everything that is due, in order: it ends expired
leases, sends verifications, fetches published topics and sends deliveries,
then returns what it did. ``push_hub_work`` is a thin wrapper around it and
the tasks in :mod:`.tasks` call the narrower ``process_*`` functions.

Every function here is safe to run in several processes at once: rows are
claimed (see :mod:`.claims`) before they are worked on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TypeVar

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..conf import settings
from . import delivery, fetch, verification
from .claims import claim, new_token
from .models import Delivery, HubSubscription, Publish, Topic, VerificationRequest
from .tasks import kick_deliveries, kick_verifications

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=models.Model)

#: Verifications claimed together: each may take up to ``PUSH_TIMEOUT``.
VERIFICATION_BATCH_SIZE = 10

#: Keys of the dictionaries returned by this module, always all present.
COUNT_KEYS = (
    "expired",
    "verified",
    "refused",
    "verification_retries",
    "verification_failed",
    "denied_sent",
    "fetched",
    "unchanged",
    "fetch_retries",
    "fetch_failed",
    "delivered",
    "delivery_retries",
    "delivery_failed",
    "cancelled",
    "gone",
    "suspended",
)


def _counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


def _remaining(limit: int | None, done: int) -> int | None:
    return None if limit is None else limit - done


def expire_leases() -> int:
    """End active subscriptions whose lease is over (WebSub 5.3.1)."""
    expired = list(
        HubSubscription.objects.filter(
            state=HubSubscription.State.ACTIVE, lease_expires_at__lte=timezone.now()
        )
    )
    verification.end_subscriptions(expired, HubSubscription.State.EXPIRED, "expired")
    if expired:
        logger.info("leases_expired count=%s", len(expired))
    return len(expired)


def claimed_batches(
    queryset: QuerySet[M], limit: int | None, size: int
) -> Iterator[str]:
    """Claim due rows of *queryset* *size* at a time; yield each claim token.

    Small claims keep each one short-lived, well within
    ``PUSH_HUB_CLAIM_TIMEOUT``, when rows take long to process.
    """
    done = 0
    while limit is None or done < limit:
        remaining = _remaining(limit, done)
        token, claimed = claim(
            queryset, size if remaining is None else min(size, remaining)
        )
        if not claimed:
            return
        done += claimed
        yield token
        if claimed < size:
            # Fewer were due than asked for: nothing is left to claim now.
            return


def process_verifications(
    pk: int | None = None, limit: int | None = None
) -> dict[str, int]:
    """Send due verifications (only *pk* if given)."""
    counts = _counts()
    queryset = VerificationRequest.objects.all()
    if pk is not None:
        queryset = queryset.filter(pk=pk)
    for token in claimed_batches(queryset, limit, VERIFICATION_BATCH_SIZE):
        for row in VerificationRequest.objects.filter(claim_token=token).order_by("pk"):
            verification.process(row, counts)
    return counts


def process_publishes(
    pk: int | None = None, limit: int | None = None
) -> dict[str, int]:
    """Fetch due publishes (only *pk* if given) and send their deliveries.

    The deliveries of a publish are created already claimed by this worker
    and sent at once; if it dies, the claims expire and any worker takes them.
    A publish larger than ``PUSH_HUB_DELIVERY_BATCH`` is shared: its
    deliveries are left due, a ``deliver`` task is queued per batch but one
    and this worker claims and sends one batch like any other worker.
    """
    counts = _counts()
    queryset = Publish.objects.all()
    if pk is not None:
        queryset = queryset.filter(pk=pk)
    for token in claimed_batches(queryset, limit, 1):
        row = Publish.objects.select_related("topic", "topic__last_content").get(
            claim_token=token
        )
        delivery_token = new_token()
        planned = fetch.process(row, counts, delivery_token)
        size = settings.PUSH_HUB_DELIVERY_BATCH
        if planned > size:
            for key, value in process_deliveries(row.pk, size).items():
                counts[key] += value
        elif planned:
            delivery.deliver_claimed(delivery_token, counts)
    return counts


def process_deliveries(
    publish_id: int | None = None, limit: int | None = None
) -> dict[str, int]:
    """Send due deliveries (only those of *publish_id* if given).

    They are claimed and sent ``PUSH_HUB_DELIVERY_BATCH`` at a time.
    """
    counts = _counts()
    queryset = Delivery.objects.all()
    if publish_id is not None:
        queryset = queryset.filter(publish_id=publish_id)
    size = settings.PUSH_HUB_DELIVERY_BATCH
    for token in claimed_batches(queryset, limit, size):
        delivery.deliver_claimed(token, counts)
    return counts


def run_due(limit: int | None = None) -> dict[str, int]:
    """Process everything due now and return counts of what happened.

    *limit* bounds the rows of each kind handled in this call. The keys of
    the result are listed in :data:`COUNT_KEYS`.
    """
    counts = _counts()
    counts["expired"] = expire_leases()
    for step in (
        process_verifications(limit=limit),
        process_publishes(limit=limit),
        process_deliveries(limit=limit),
    ):
        for key, value in step.items():
            counts[key] += value
    logger.info(
        "run_due %s", " ".join(f"{key}={value}" for key, value in counts.items())
    )
    return counts


def replay(deliveries: Iterable[Delivery] | Iterable[int]) -> int:
    """Queue failed or cancelled deliveries again, from attempt one.

    Takes delivery instances or primary keys; returns how many were queued.
    Deliveries to subscriptions that are no longer active are cancelled
    again when their turn comes.
    """
    pks = [d.pk if isinstance(d, Delivery) else int(d) for d in deliveries]
    queryset = Delivery.objects.filter(
        pk__in=pks, status__in=(Delivery.Status.FAILED, Delivery.Status.CANCELLED)
    )
    with transaction.atomic():
        publish_ids = set(queryset.values_list("publish_id", flat=True))
        count = queryset.update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            error="",
        )
        kick_deliveries(sorted(publish_ids))
    logger.info("deliveries_replayed count=%s", count)
    return count


def deny(
    subscription: HubSubscription,
    reason: str,
    state: str = HubSubscription.State.DENIED,
) -> None:
    """End *subscription* and tell its callback with ``hub.mode=denied``.

    WebSub 5.2 lets a hub deny a subscription at any time. *state* may be
    ``suspended`` instead of ``denied``; :func:`resume` reverses either.
    """
    with transaction.atomic():
        verification.end_subscriptions([subscription], state, str(state))
        kick_verifications(verification.queue_denied([subscription], reason))


def resume(subscription: HubSubscription) -> None:
    """Make a suspended or denied subscription active again, failures reset."""
    HubSubscription.objects.filter(pk=subscription.pk).update(
        state=HubSubscription.State.ACTIVE,
        failing_since=None,
        consecutive_failures=0,
        updated_at=timezone.now(),
    )
    subscription.refresh_from_db()


def send_test_delivery(subscription: HubSubscription) -> Delivery:
    """Send the topic's current content to *subscription* once more.

    Useful to check a callback from the admin. The delivery is an ordinary
    one (retried, recorded, signed) of the last content fetched for the
    topic; a subscription that is not active gets it cancelled. Raises
    :class:`ValueError` if nothing was fetched for the topic yet.
    """
    topic = (
        Topic.objects.select_related("last_content")
        .filter(url=subscription.topic)
        .first()
    )
    if topic is None or topic.last_content is None:
        raise ValueError(f"Nothing was fetched for {subscription.topic} yet.")
    with transaction.atomic():
        publish = Publish.objects.create(
            topic=topic,
            content=topic.last_content,
            hub_url=subscription.hub_url,
            status=Publish.Status.DISTRIBUTED,
            deliveries_planned=1,
            completed_at=timezone.now(),
        )
        test = Delivery.objects.create(
            publish=publish, content=topic.last_content, subscription=subscription
        )
        kick_deliveries([publish.pk])
    return test
