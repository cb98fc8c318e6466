from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_push.subscriber.models import Subscription
from django_push.subscriber.tasks import (
    renew_subscriptions,
    subscribe_subscription,
    unsubscribe_subscription,
)

from .conftest import HUB, active

pytestmark = pytest.mark.django_db


def test_subscribe_task_sends_the_request(mocked):
    sub = active()
    mocked.post(HUB, status=202)
    result = subscribe_subscription.call(sub.pk)
    assert result == {"pk": sub.pk, "ok": True}
    sub.refresh_from_db()
    assert sub.pending_mode == Subscription.Mode.SUBSCRIBE


def test_task_failure_is_reported_not_raised(mocked):
    sub = active()
    mocked.post(HUB, status=500)
    result = unsubscribe_subscription.call(sub.pk)
    assert result["ok"] is False
    sub.refresh_from_db()
    assert sub.last_error


def test_task_for_deleted_subscription():
    assert subscribe_subscription.call(12345)["ok"] is False


def test_renew_task(mocked):
    active(lease_expiration=timezone.now() + timedelta(minutes=1))
    mocked.post(HUB, status=202)
    assert renew_subscriptions.call() == {"due": 1, "renewed": 1, "failed": 0}
