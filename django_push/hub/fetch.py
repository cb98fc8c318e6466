"""Fetching a published topic once and planning its deliveries.

A publish ping makes the hub GET the topic (conditionally, with the ETag
and Last-Modified of the last fetch), store the body once as a
:class:`~.models.Content` and create one :class:`~.models.Delivery` per
active, unexpired subscription with a single ``INSERT ... SELECT``: the
number of queries does not depend on the number of subscribers.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from django.db import connections, router, transaction
from django.utils import timezone

from .. import http
from ..conf import settings
from ..exceptions import RequestError, ResponseTooLarge
from .claims import retry_at
from .models import Content, Delivery, HubSubscription, Publish, Topic
from .ssrf import UnsafeURL, check_url
from .tasks import kick_batches

logger = logging.getLogger(__name__)

#: Redirects followed when fetching a topic (HUB-P03).
MAX_REDIRECTS = 5

Status = Publish.Status


class FetchFailed(Exception):
    """The topic could not be fetched; ``final`` if retrying cannot help."""

    def __init__(self, message: str, final: bool, status_code: int | None = None):
        super().__init__(message)
        self.final = final
        self.status_code = status_code


def get_topic(topic: Topic) -> tuple[int, bytes, dict[str, str]]:
    """GET *topic* conditionally, following checked redirects."""
    headers: dict[str, str] = {}
    last = topic.last_content
    if last is not None and last.etag:
        headers["If-None-Match"] = last.etag
    if last is not None and last.last_modified:
        headers["If-Modified-Since"] = last.last_modified
    url = topic.url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            check_url(url)
            response = http.request(
                "GET",
                url,
                headers=headers,
                allow_redirects=False,
                max_bytes=settings.PUSH_HUB_MAX_CONTENT_SIZE,
            )
        except ResponseTooLarge as exc:
            raise FetchFailed(
                f"content larger than {settings.PUSH_HUB_MAX_CONTENT_SIZE} bytes",
                final=True,
            ) from exc
        except RequestError as exc:
            raise FetchFailed(str(exc), final=False) from exc
        except UnsafeURL as exc:
            raise FetchFailed(f"topic {exc}", final=True) from exc
        location = response.headers.get("Location")
        if response.status_code in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        return response.status_code, response.content, dict(response.headers)
    raise FetchFailed("too many redirects", final=True)


def plan_deliveries(
    publish: Publish, content: Content, now: datetime, claim_token: str = ""
) -> int:
    """Create one delivery per deliverable subscription in one statement.

    With *claim_token* the deliveries are created already claimed with it,
    for the caller to send at once.
    """
    alias = router.db_for_write(Delivery)
    connection = connections[alias]
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    sub = qn(HubSubscription._meta.db_table)
    columns = ", ".join(
        qn(c)
        for c in (
            "publish_id",
            "content_id",
            "subscription_id",
            "status",
            "attempts",
            "next_attempt_at",
            "claimed_at",
            "claim_token",
            "error",
            "created_at",
        )
    )
    # Only identifiers from our own models are interpolated; values are
    # parameters.
    sql = (
        f"INSERT INTO {qn(Delivery._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT %s, %s, {sub}.{qn('id')}, %s, 0, %s, %s, %s, '', %s FROM {sub} "
        f"WHERE {sub}.{qn('topic')} = %s AND {sub}.{qn('state')} = %s "
        f"AND {sub}.{qn('lease_expires_at')} > %s"
    )
    params: list[Any] = [
        publish.pk,
        content.pk,
        Delivery.Status.IN_PROGRESS if claim_token else Delivery.Status.PENDING,
        adapt(now),
        adapt(now) if claim_token else None,
        claim_token,
        adapt(now),
        publish.topic.url,
        HubSubscription.State.ACTIVE,
        adapt(now),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count: int = cursor.rowcount
    return max(count, 0)


def share(publish: Publish, planned: int, claim_token: str) -> None:
    """Let several workers send a publish larger than one batch.

    Its deliveries, planned claimed with *claim_token*, become due for any
    worker (one statement) and a ``deliver`` task per batch but one is
    queued for when the transaction commits; the caller sends the last
    batch itself (see :func:`.engine.process_publishes`). Nothing is
    claimed while it waits, so no claim can expire unsent.
    """
    size = settings.PUSH_HUB_DELIVERY_BATCH
    if not claim_token or planned <= size:
        return
    Delivery.objects.filter(claim_token=claim_token).update(
        status=Delivery.Status.PENDING, claimed_at=None, claim_token=""
    )
    kick_batches(publish.pk, -(-planned // size) - 1, size)


def _store(
    topic: Topic, body: bytes, headers: dict[str, str], now: datetime
) -> tuple[Content, bool]:
    """The content for *body*, and whether it differs from the last one."""
    digest = hashlib.sha256(body).hexdigest()
    content_type = headers.get("Content-Type", "")[:255]
    last = topic.last_content
    if last is not None and last.sha256 == digest and last.content_type == content_type:
        return last, False
    content = Content.objects.create(
        topic=topic,
        body=body,
        content_type=content_type,
        sha256=digest,
        size=len(body),
        etag=headers.get("ETag", "")[:255],
        last_modified=headers.get("Last-Modified", "")[:64],
        fetched_at=now,
    )
    return content, True


def process(publish: Publish, counts: dict[str, int], claim_token: str = "") -> int:
    """Fetch one claimed publish and plan its deliveries.

    Returns the number of deliveries planned, claimed with *claim_token* if
    one is given.
    """
    publish.attempts += 1
    topic = publish.topic
    try:
        code, body, headers = get_topic(topic)
        if code == 304 and topic.last_content is not None:
            content, changed = topic.last_content, False
        elif 200 <= code < 300 and body:
            content, changed = None, True
        elif code >= 500:
            raise FetchFailed(f"HTTP {code}", final=False, status_code=code)
        else:
            raise FetchFailed(
                f"HTTP {code}" if body or code >= 300 else "empty body",
                final=True,
                status_code=code,
            )
    except FetchFailed as exc:
        now = timezone.now()
        publish.last_status_code = exc.status_code
        publish.error = str(exc)[:500]
        when = (
            None
            if exc.final
            else retry_at(settings.PUSH_HUB_RETRY_SCHEDULE, publish.attempts, now)
        )
        if when is None:
            publish.status = Status.FAILED
            publish.completed_at = now
            counts["fetch_failed"] += 1
        else:
            publish.status = Status.PENDING
            publish.next_attempt_at = when
            counts["fetch_retries"] += 1
        logger.info(
            "fetch_failed publish=%s topic=%s status=%s error=%s",
            publish.pk,
            topic.url,
            publish.status,
            publish.error,
        )
        publish.save()
        return 0
    now = timezone.now()
    publish.last_status_code = code
    with transaction.atomic():
        if content is None:
            content, changed = _store(topic, body, headers, now)
        topic.last_content = content
        topic.last_fetched_at = now
        topic.save(update_fields=["last_content", "last_fetched_at"])
        publish.content = content
        publish.completed_at = now
        publish.error = ""
        planned = 0
        if changed or settings.PUSH_HUB_ALWAYS_DELIVER:
            # Older deliveries still waiting carry older content: the new
            # one replaces them (WebSub 7: the full content is sent).
            Delivery.objects.filter(
                publish__topic=topic, status=Delivery.Status.PENDING
            ).update(
                status=Delivery.Status.CANCELLED, error="superseded by a newer publish"
            )
            planned = plan_deliveries(publish, content, now, claim_token)
            share(publish, planned, claim_token)
            publish.status = Status.DISTRIBUTED
            counts["fetched"] += 1
        else:
            publish.status = Status.UNCHANGED
            counts["unchanged"] += 1
        publish.deliveries_planned = planned
        publish.save()
    logger.info(
        "fetched publish=%s topic=%s status=%s deliveries=%s",
        publish.pk,
        topic.url,
        publish.status,
        planned,
    )
    return planned
