"""The public API of django-push 1.x, used exactly as its documentation shows."""

from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.dispatch import receiver
from django.test import override_settings
from django.utils import timezone

from . import compat_urls

pytestmark = pytest.mark.django_db

feed_url = "https://example.com/feed/"
hub = "https://superfeedr.example/hubbub"


def verify(client: Any, callback_url: str, mode: str, lease: str = "") -> Any:
    params = {"hub.mode": mode, "hub.topic": feed_url, "hub.challenge": "c-" + mode}
    if lease:
        params["hub.lease_seconds"] = lease
    return client.get(urlsplit(callback_url).path, params)


@override_settings(ROOT_URLCONF="tests.subscriber.compat_urls")
def test_old_documented_api(
    client, admin_client, mocked, django_capture_on_commit_callbacks
):
    from django_push.subscriber.models import Subscription, SubscriptionError
    from django_push.subscriber.signals import updated

    # "Initial subscription"
    mocked.post(hub, status=202)
    subscription = Subscription.objects.subscribe(
        feed_url, hub=hub, lease_seconds=12345
    )
    sent = parse_qs(str(mocked.calls[0].request.body))
    assert sent["hub.lease_seconds"] == ["12345"]
    assert sent["hub.callback"] == [subscription.callback_url]
    assert urlsplit(subscription.callback_url).path == f"/subscriber/{subscription.pk}/"
    response = verify(client, subscription.callback_url, "subscribe", "12345")
    assert response.content == b"c-subscribe"
    subscription.refresh_from_db()
    assert subscription.verified is True

    # "Listening to Hubs' notifications"
    received: list[Any] = []

    @receiver(updated)
    def listener(notification: bytes, **kwargs: Any) -> None:
        links = kwargs["links"]
        url = None
        if links is not None:
            for link in links:
                if link["rel"] == "self":
                    url = link["url"]
        received.append((notification, kwargs["request"].method, url))

    try:
        body = b"<feed/>"
        digest = hmac.new(subscription.secret.encode(), body, hashlib.sha1)
        response = client.post(
            urlsplit(subscription.callback_url).path,
            body,
            content_type="application/atom+xml",
            headers={
                "X-Hub-Signature": "sha1=" + digest.hexdigest(),
                "Link": f'<{feed_url}>; rel="self"',
            },
        )
    finally:
        updated.disconnect(listener)
    assert response.status_code // 100 == 2
    assert received == [(body, "POST", feed_url)]
    # "Listening with a view instead of the updated signal"
    assert compat_urls.handled[-1][:2] == (subscription.pk, body)
    assert compat_urls.handled[-1][2] == [{"url": feed_url, "rel": "self"}]

    # "Renewing the leases"
    Subscription.objects.filter(pk=subscription.pk).update(
        lease_expiration=timezone.now() + datetime.timedelta(hours=1)
    )
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    mocked.post(hub, status=202)
    for subscription in Subscription.objects.filter(
        verified=True, lease_expiration__lte=tomorrow
    ):
        subscription.subscribe()
    assert parse_qs(str(mocked.calls[-1].request.body))["hub.mode"] == ["subscribe"]

    # Admin actions
    changelist = "/admin/subscriber/subscription/"
    mocked.post(hub, status=202)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            changelist, {"action": "renew", "_selected_action": [subscription.pk]}
        )
    assert response.status_code == 302
    assert parse_qs(str(mocked.calls[-1].request.body))["hub.mode"] == ["subscribe"]

    # "Unsubscribing"
    mocked.post(hub, status=202)
    subscription = Subscription.objects.get(topic=feed_url, hub=hub)
    subscription.unsubscribe()
    assert parse_qs(str(mocked.calls[-1].request.body))["hub.mode"] == ["unsubscribe"]
    assert verify(client, subscription.callback_url, "unsubscribe").status_code == 200
    subscription.refresh_from_db()
    assert subscription.verified is False

    mocked.post(hub, status=500, body="nope")
    with pytest.raises(SubscriptionError) as info:
        subscription.subscribe()
    assert info.value.response.status_code == 500
    assert info.value.subscription.pk == subscription.pk
