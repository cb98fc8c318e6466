"""Deleting the hub's old records, in bounded batches.

:func:`prune` removes, once they are older than a cutoff, finished
deliveries, publishes and verification records, subscriptions that ended
(unsubscribed, denied, expired or gone; suspended ones can be resumed and
are kept) and fetched bodies nothing refers to any more. Work that is
still due is never touched. Rows are deleted a batch of primary keys at a
time so that no statement locks a large part of a table.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import (
    Content,
    Delivery,
    HubSubscription,
    Publish,
    Topic,
    VerificationRequest,
)

logger = logging.getLogger(__name__)

#: Subscription states that are over for good.
ENDED_STATES = (
    HubSubscription.State.UNSUBSCRIBED,
    HubSubscription.State.DENIED,
    HubSubscription.State.EXPIRED,
    HubSubscription.State.GONE,
)

#: Keys of the dictionary :func:`prune` returns, in deletion order.
PRUNED_KEYS = ("deliveries", "subscriptions", "publishes", "contents", "verifications")


def _ended_subscriptions(cutoff: datetime) -> Q:
    return Q(state__in=ENDED_STATES, updated_at__lt=cutoff)


def _old_deliveries(cutoff: datetime) -> Q:
    finished = (
        Delivery.Status.DELIVERED,
        Delivery.Status.FAILED,
        Delivery.Status.CANCELLED,
    )
    ended = HubSubscription.objects.filter(_ended_subscriptions(cutoff))
    return Q(status__in=finished, created_at__lt=cutoff) | Q(
        subscription__in=ended.values("pk")
    )


def _old_publishes(cutoff: datetime) -> Q:
    finished = (
        Publish.Status.DISTRIBUTED,
        Publish.Status.UNCHANGED,
        Publish.Status.FAILED,
    )
    kept = Delivery.objects.filter(publish=OuterRef("pk")).exclude(
        _old_deliveries(cutoff)
    )
    return Q(status__in=finished, created_at__lt=cutoff) & ~Q(Exists(kept))


def _unreferenced_contents(cutoff: datetime) -> Q:
    deliveries = Delivery.objects.filter(content=OuterRef("pk")).exclude(
        _old_deliveries(cutoff)
    )
    publishes = Publish.objects.filter(content=OuterRef("pk")).exclude(
        _old_publishes(cutoff)
    )
    # The last body of a topic is what conditional GETs and change
    # detection compare against: always kept.
    topics = Topic.objects.filter(last_content=OuterRef("pk"))
    return (
        Q(fetched_at__lt=cutoff)
        & ~Q(Exists(deliveries))
        & ~Q(Exists(publishes))
        & ~Q(Exists(topics))
    )


def _old_verifications(cutoff: datetime) -> Q:
    finished = (
        VerificationRequest.Status.COMPLETED,
        VerificationRequest.Status.REFUSED,
        VerificationRequest.Status.FAILED,
    )
    return Q(status__in=finished, created_at__lt=cutoff)


def plan(cutoff: datetime) -> list[tuple[str, models.QuerySet[Any]]]:
    """What :func:`prune` deletes for *cutoff*, in order, by result key."""
    return [
        ("deliveries", Delivery.objects.filter(_old_deliveries(cutoff))),
        (
            "subscriptions",
            HubSubscription.objects.filter(_ended_subscriptions(cutoff)),
        ),
        ("publishes", Publish.objects.filter(_old_publishes(cutoff))),
        ("contents", Content.objects.filter(_unreferenced_contents(cutoff))),
        (
            "verifications",
            VerificationRequest.objects.filter(_old_verifications(cutoff)),
        ),
    ]


def _delete_in_batches(queryset: models.QuerySet[Any], size: int) -> int:
    model = queryset.model
    deleted = 0
    while True:
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:size])
        if not pks:
            return deleted
        with transaction.atomic(using=queryset.db):
            _, per_model = model._default_manager.filter(pk__in=pks).delete()
        deleted += per_model.get(model._meta.label, 0)


def prune(
    days: int,
    dry_run: bool = False,
    batch_size: int = 1000,
    now: datetime | None = None,
) -> dict[str, int]:
    """Delete records older than *days* days; return counts by kind.

    With *dry_run*, nothing is deleted and the counts say what would be.
    Deliveries, publishes and verifications are deleted only once finished,
    subscriptions only once ended, and bodies only when no remaining
    delivery or publish refers to them and they are no topic's last body.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    counts = dict.fromkeys(PRUNED_KEYS, 0)
    for key, queryset in plan(cutoff):
        if dry_run:
            counts[key] = queryset.count()
        else:
            counts[key] = _delete_in_batches(queryset, batch_size)
    logger.info(
        "pruned dry_run=%s days=%s %s",
        dry_run,
        days,
        " ".join(f"{key}={value}" for key, value in counts.items()),
    )
    return counts
