"""The admin shows pending pings and can make them due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_push.publisher.models import PendingPing

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending():
    return PendingPing.objects.create(
        hub="https://hub.example.com/",
        topic="https://example.com/feed/",
        next_attempt_at=timezone.now() + timedelta(hours=1),
        last_error="https://hub.example.com/ answered the publish ping with 503",
    )


def test_changelist_lists_pending_pings(admin_client, pending):
    response = admin_client.get("/admin/push_publisher/pendingping/")
    assert response.status_code == 200
    assert pending.topic in response.content.decode()
    assert str(pending) == f"{pending.topic} -> {pending.hub}"


def test_retry_now_makes_pings_due(admin_client, pending):
    response = admin_client.post(
        "/admin/push_publisher/pendingping/",
        {"action": "retry_now", "_selected_action": [pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.next_attempt_at <= timezone.now()
