from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import responses as responses_lib
from django.urls import reverse
from django.utils import timezone

from django_push.subscriber.models import Subscription

HUB = "https://hub.example.com/"
TOPIC = "https://blog.example.com/feed/"


def make_subscription(**fields: Any) -> Subscription:
    values: dict[str, Any] = {
        "hub": HUB,
        "topic": TOPIC,
        "secret": "",
        "state": Subscription.State.UNVERIFIED,
    }
    values.update(fields)
    return Subscription.objects.create(**values)


def active(**fields: Any) -> Subscription:
    values: dict[str, Any] = {
        "state": Subscription.State.ACTIVE,
        "verified": True,
        "lease_expiration": timezone.now() + timedelta(days=5),
        "lease_seconds": 5 * 86400,
    }
    values.update(fields)
    return make_subscription(**values)


def callback_path(subscription: Subscription | int) -> str:
    pk = subscription if isinstance(subscription, int) else subscription.pk
    return reverse("subscriber_callback", args=[pk])


def snapshot(subscription: Subscription) -> dict[str, Any]:
    """Every stored field, to show that nothing changed."""
    row = Subscription.objects.filter(pk=subscription.pk).values().first()
    assert row is not None
    return row


@pytest.fixture
def mocked() -> Any:
    with responses_lib.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps
