"""Concurrent retry sweepers on PostgreSQL send each due ping once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from django_push.publisher.delivery import retry_due
from django_push.publisher.models import PendingPing

from .fake_hub import running_hub

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_sweepers_send_each_due_ping_once():
    topics = [f"https://example.com/entries/{n}/" for n in range(40)]
    with running_hub("ok") as hub, override_settings(PUSH_HUB=hub.url):
        now = timezone.now()
        PendingPing.objects.bulk_create(
            PendingPing(hub=hub.url, topic=topic, next_attempt_at=now)
            for topic in topics
        )
        totals: list[dict[str, int]] = []

        def sweep() -> None:
            try:
                totals.append(retry_due(limit=5))
                totals.append(retry_due())
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        sent = hub.topics()
    assert sorted(sent) == sorted(topics)
    assert sum(total["sent"] for total in totals) == len(topics)
    assert not PendingPing.objects.exists()
