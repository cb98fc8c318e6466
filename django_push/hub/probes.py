"""Test deliveries: resend a topic's latest body to chosen subscriptions.

An operator uses them to check that a callback works again, for instance
after resuming it. A test delivery is an ordinary :class:`.Delivery` (of a
publish recorded for it alone), so it is signed, retried and logged like
any other, and it is sent in the background by the delivery task.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .models import Delivery, HubSubscription, Publish, Topic
from .tasks import kick_deliveries

logger = logging.getLogger(__name__)


def send_test_deliveries(
    subscriptions: Iterable[HubSubscription],
) -> tuple[list[Delivery], list[HubSubscription]]:
    """Queue the latest body of its topic to each deliverable subscription.

    Returns the deliveries queued and the subscriptions skipped: those not
    active or whose lease is over, and those whose topic has no body yet.
    """
    chosen = list(subscriptions)
    skipped = [s for s in chosen if not s.is_deliverable()]
    deliverable = [s for s in chosen if s.is_deliverable()]
    topics = {
        topic.url: topic
        for topic in Topic.objects.filter(
            url__in={s.topic for s in deliverable}, last_content__isnull=False
        ).select_related("last_content")
    }
    queued: list[Delivery] = []
    now = timezone.now()
    with transaction.atomic():
        for subscription in deliverable:
            topic = topics.get(subscription.topic)
            if topic is None or topic.last_content is None:
                skipped.append(subscription)
                continue
            publish = Publish.objects.create(
                topic=topic,
                content=topic.last_content,
                hub_url=subscription.hub_url,
                status=Publish.Status.DISTRIBUTED,
                deliveries_planned=1,
                completed_at=now,
            )
            queued.append(
                Delivery.objects.create(
                    publish=publish,
                    content=topic.last_content,
                    subscription=subscription,
                )
            )
        kick_deliveries(d.publish_id for d in queued)
    logger.info("test_deliveries_queued count=%s skipped=%s", len(queued), len(skipped))
    return queued, skipped
