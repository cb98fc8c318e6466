"""Model helpers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from django_push.hub.models import HubSubscription

pytestmark = pytest.mark.django_db


def test_lease_helpers():
    now = timezone.now()
    subscription = HubSubscription(
        topic="http://t/", callback="http://c/", state="active"
    )
    assert subscription.has_expired(now)
    subscription.lease_expires_at = now + timedelta(seconds=5)
    assert not subscription.has_expired(now)
    assert subscription.is_deliverable()
    assert subscription.has_expired(now + timedelta(seconds=5))
    subscription.state = "suspended"
    assert not subscription.is_deliverable()
    assert str(subscription) == "http://c/ <- http://t/"


def test_one_row_per_topic_and_callback():
    HubSubscription.objects.create(topic="http://t/", callback="http://c/")
    with pytest.raises(IntegrityError):
        HubSubscription.objects.create(topic="http://t/", callback="http://c/")
