"""End to end over real sockets: Django's live server and a fake hub."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.test import LiveServerTestCase, override_settings

from django_push.subscriber import signals
from django_push.subscriber.models import Subscription

from .fakehub import LEASE, FakeHub


class LiveSubscriberTests(LiveServerTestCase):
    def setUp(self) -> None:
        self.hub = FakeHub().start()
        self.addCleanup(self.hub.stop)
        domain = urlsplit(self.live_server_url).netloc
        overrides = override_settings(PUSH_DOMAIN=domain, PUSH_TIMEOUT=10)
        overrides.enable()
        self.addCleanup(overrides.disable)
        self.notifications: list[dict[str, Any]] = []
        signals.updated.connect(self.collect, weak=False)
        self.addCleanup(signals.updated.disconnect, self.collect)

    def collect(self, sender: Subscription, **kwargs: Any) -> None:
        self.notifications.append({"pk": sender.pk, **kwargs})

    def subscribe(self, topic: str = "http://127.0.0.1/topic") -> Subscription:
        return Subscription.objects.subscribe(topic, hub=self.hub.url)

    def test_hub_verifying_inside_the_subscribe_post(self) -> None:
        sub = self.subscribe()
        # The verification ran while our POST was in flight, and found the
        # pending intent.
        [check] = self.hub.verifications
        assert check.status == 200
        assert check.body == check.challenge.encode()
        sub.refresh_from_db()
        assert sub.state == Subscription.State.ACTIVE
        assert sub.lease_seconds == LEASE

    def test_hub_verifying_after_answering(self) -> None:
        self.hub.mode = "async"
        sub = self.subscribe()
        assert self.hub.verified.wait(timeout=10)
        for worker in self.hub.workers:
            worker.join(timeout=10)
        [check] = self.hub.verifications
        assert (check.status, check.body) == (200, check.challenge.encode())
        sub.refresh_from_db()
        assert sub.state == Subscription.State.ACTIVE

    def test_signed_deliveries_with_every_algorithm(self) -> None:
        sub = self.subscribe()
        assert sub.secret
        for algorithm in ("sha1", "sha256", "sha384", "sha512"):
            body = f"update signed with {algorithm}".encode()
            response = self.hub.deliver(
                sub.callback_url,
                body,
                secret=sub.secret,
                algorithm=algorithm,
                topic=sub.topic,
            )
            assert response.status_code // 100 == 2
        bodies = [n["notification"] for n in self.notifications]
        assert bodies == [
            f"update signed with {a}".encode()
            for a in ("sha1", "sha256", "sha384", "sha512")
        ]
        assert self.notifications[0]["links"][0]["url"] == sub.topic

        forged = self.hub.deliver(
            sub.callback_url, b"forged", signature="sha256=" + "0" * 64
        )
        unsigned = self.hub.deliver(sub.callback_url, b"unsigned")
        assert forged.status_code // 100 == 2
        assert unsigned.status_code == 403
        assert len(self.notifications) == 4

    def test_discovery_subscribe_and_unsubscribe(self) -> None:
        sub = Subscription.objects.subscribe(self.hub.topic_url)
        assert sub.topic == f"{self.hub.topic_url}?canonical"
        assert sub.hub == self.hub.url
        assert self.hub.requests[0]["hub.topic"] == sub.topic
        sub.refresh_from_db()
        assert sub.state == Subscription.State.ACTIVE

        sub.unsubscribe()
        assert [(v.mode, v.status) for v in self.hub.verifications] == [
            ("subscribe", 200),
            ("unsubscribe", 200),
        ]
        sub.refresh_from_db()
        assert sub.state == Subscription.State.UNSUBSCRIBED
        gone = self.hub.deliver(sub.callback_url, b"late", secret=sub.secret)
        assert gone.status_code == 410
        assert self.notifications == []
