"""The hub's Python API for code running in the same project."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from .models import Publish, Topic
from .protocol import decode_unreserved
from .ssrf import UnsafeURL, check_syntax
from .tasks import kick_publishes

logger = logging.getLogger(__name__)


def publish(topic_urls: Iterable[str], hub_url: str = "") -> None:
    """Record a publish of *topic_urls*; fetch and fan-out start on commit.

    This is what a publish ping does, without the HTTP request: the
    publisher calls it when the hub runs in the same project. *hub_url* is
    the ``rel=hub`` URL used when neither ``PUSH_HUB_URL`` nor the
    subscription knows one. Raises :class:`ValueError` for a URL that is not
    an absolute http(s) URL.
    """
    urls: dict[str, None] = {}
    for url in topic_urls:
        key = decode_unreserved(url.strip())
        try:
            check_syntax(key)
        except UnsafeURL as exc:
            raise ValueError(f"Topic URL {url!r} {exc}.") from exc
        urls.setdefault(key, None)
    if not urls:
        return
    with transaction.atomic():
        Topic.objects.bulk_create(
            [Topic(url=url) for url in urls], ignore_conflicts=True
        )
        topics = Topic.objects.filter(url__in=list(urls))
        rows = Publish.objects.bulk_create(
            [Publish(topic=topic, hub_url=hub_url) for topic in topics]
        )
        kick_publishes(row.pk for row in rows)
    logger.info("published topics=%s", " ".join(urls))
