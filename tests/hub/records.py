"""Builders of hub rows for the operations tests (admin, monitor, prune)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from django_push.hub.models import Content, Delivery, HubSubscription, Publish, Topic

_numbers = itertools.count(1)


def topic(url: str = "", body: bytes = b"<feed/>", last: bool = True) -> Topic:
    """A topic with one fetched body (its last one unless *last* is false)."""
    row = Topic.objects.create(url=url or f"http://pub.example/feed/{next(_numbers)}")
    content(row, body, make_last=last)
    return row


def content(
    topic_row: Topic,
    body: bytes = b"<feed/>",
    make_last: bool = False,
    fetched_at: datetime | None = None,
    content_type: str = "application/atom+xml",
) -> Content:
    row = Content.objects.create(
        topic=topic_row,
        body=body,
        content_type=content_type,
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        fetched_at=fetched_at or timezone.now(),
    )
    if make_last:
        topic_row.last_content = row
        topic_row.save(update_fields=["last_content"])
    return row


def subscription(
    topic_row: Topic | None = None, callback: str = "", **fields: Any
) -> HubSubscription:
    values: dict[str, Any] = {
        "state": HubSubscription.State.ACTIVE,
        "lease_expires_at": timezone.now() + timedelta(days=5),
        "hub_url": "http://hub.example/hub/",
    }
    values.update(fields)
    return HubSubscription.objects.create(
        topic=(topic_row or topic()).url,
        callback=callback or f"http://sub.example/cb/{next(_numbers)}",
        **values,
    )


def publish(
    topic_row: Topic, content_row: Content | None = None, **fields: Any
) -> Publish:
    values: dict[str, Any] = {"status": Publish.Status.DISTRIBUTED}
    values.update(fields)
    return Publish.objects.create(
        topic=topic_row,
        content=content_row or topic_row.last_content,
        hub_url="http://hub.example/hub/",
        **values,
    )


def delivery(
    subscription_row: HubSubscription,
    publish_row: Publish | None = None,
    **fields: Any,
) -> Delivery:
    if publish_row is None:
        publish_row = publish(Topic.objects.get(url=subscription_row.topic))
    assert publish_row.content is not None
    return Delivery.objects.create(
        publish=publish_row,
        content=publish_row.content,
        subscription=subscription_row,
        **fields,
    )
