"""Fetching topics once per publish and planning deliveries in bulk."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
import responses
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_push.hub import api, engine
from django_push.hub.models import Content, Delivery, HubSubscription, Publish

pytestmark = pytest.mark.django_db

TOPIC = "http://pub.example/feed"


SUBSCRIBERS = re.compile(r"http://sub\.example/.*")


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, SUBSCRIBERS, status=204)
        yield rsps


def fetches(mocked) -> list:
    return [c for c in mocked.calls if c.request.method == "GET"]


def make_subscribers(n: int, topic: str = TOPIC, **kwargs) -> list[HubSubscription]:
    values = {
        "state": HubSubscription.State.ACTIVE,
        "lease_expires_at": timezone.now() + timedelta(days=1),
    }
    values.update(kwargs)
    return HubSubscription.objects.bulk_create(
        HubSubscription(topic=topic, callback=f"http://sub.example/{i}", **values)
        for i in range(n)
    )


def publish_and_fetch() -> dict[str, int]:
    api.publish([TOPIC])
    return engine.process_publishes()


def test_body_is_stored_once_and_one_delivery_planned_per_subscriber(mocked):
    mocked.add(
        responses.GET,
        TOPIC,
        body=b"<feed>1</feed>",
        headers={"Content-Type": "application/atom+xml; charset=UTF-8"},
    )
    make_subscribers(3)
    counts = publish_and_fetch()
    assert counts["fetched"] == 1
    content = Content.objects.get()
    assert bytes(content.body) == b"<feed>1</feed>"
    assert content.content_type == "application/atom+xml; charset=UTF-8"
    assert content.size == len(b"<feed>1</feed>")
    assert Delivery.objects.filter(content=content, status="delivered").count() == 3
    assert Publish.objects.get().deliveries_planned == 3
    assert len(fetches(mocked)) == 1


def test_planning_costs_the_same_queries_for_any_number_of_subscribers(mocked):
    mocked.add(responses.GET, TOPIC, body=b"a")
    mocked.add(responses.GET, TOPIC, body=b"b")
    query_counts = []
    for n in (2, 150):
        HubSubscription.objects.all().delete()
        make_subscribers(n)
        api.publish([TOPIC])
        with CaptureQueriesContext(connection) as queries:
            engine.process_publishes()
        query_counts.append(len(queries))
        assert Delivery.objects.filter(status="delivered").count() == n
        Delivery.objects.all().delete()
    assert query_counts[0] == query_counts[1]


def test_only_active_unexpired_subscriptions_get_deliveries(mocked):
    mocked.add(responses.GET, TOPIC, body=b"x")
    [active] = make_subscribers(1)
    HubSubscription.objects.create(
        topic=TOPIC,
        callback="http://sub.example/expired",
        state="active",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    for state in ("suspended", "unsubscribed", "pending", "denied", "gone"):
        HubSubscription.objects.create(
            topic=TOPIC,
            callback=f"http://sub.example/{state}",
            state=state,
            lease_expires_at=timezone.now() + timedelta(days=1),
        )
    make_subscribers(1, topic="http://pub.example/other")
    publish_and_fetch()
    assert list(Delivery.objects.values_list("subscription_id", flat=True)) == [
        active.pk
    ]


def test_unchanged_content_is_not_sent_again(mocked):
    mocked.add(responses.GET, TOPIC, body=b"same", headers={"ETag": '"v1"'})
    mocked.add(responses.GET, TOPIC, status=304)
    mocked.add(responses.GET, TOPIC, body=b"same")
    make_subscribers(1)
    assert publish_and_fetch()["fetched"] == 1
    assert publish_and_fetch()["unchanged"] == 1
    assert fetches(mocked)[1].request.headers["If-None-Match"] == '"v1"'
    assert publish_and_fetch()["unchanged"] == 1
    assert Delivery.objects.count() == 1
    assert Content.objects.count() == 1


@override_settings(PUSH_HUB_ALWAYS_DELIVER=True)
def test_always_deliver_resends_unchanged_content(mocked):
    mocked.add(
        responses.GET,
        TOPIC,
        body=b"same",
        headers={"Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    mocked.add(responses.GET, TOPIC, status=304)
    make_subscribers(1)
    publish_and_fetch()
    publish_and_fetch()
    assert fetches(mocked)[1].request.headers["If-Modified-Since"] == (
        "Wed, 21 Oct 2015 07:28:00 GMT"
    )
    assert Content.objects.count() == 1
    assert Delivery.objects.filter(status="delivered").count() == 2


@override_settings(PUSH_HUB_MAX_CONTENT_SIZE=10)
def test_oversized_content_fails_the_publish(mocked):
    mocked.add(responses.GET, TOPIC, body=b"x" * 11)
    make_subscribers(1)
    assert publish_and_fetch()["fetch_failed"] == 1
    assert Publish.objects.get().status == "failed"
    assert not Delivery.objects.exists()


@override_settings(PUSH_HUB_RETRY_SCHEDULE=(30,))
@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503},
        {"body": requests.ConnectionError("down")},
    ],
)
def test_transient_fetch_failures_are_retried(mocked, failure):
    mocked.add(responses.GET, TOPIC, **failure)
    mocked.add(responses.GET, TOPIC, body=b"back")
    make_subscribers(1)
    assert publish_and_fetch()["fetch_retries"] == 1
    publish = Publish.objects.get()
    assert publish.status == "pending"
    assert publish.next_attempt_at > timezone.now() + timedelta(seconds=29)
    Publish.objects.update(next_attempt_at=timezone.now())
    assert engine.process_publishes()["fetched"] == 1
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(("status", "body"), [(404, b"nope"), (200, b"")])
def test_errors_and_empty_bodies_are_never_distributed(mocked, status, body):
    mocked.add(responses.GET, TOPIC, status=status, body=body)
    make_subscribers(1)
    assert publish_and_fetch()["fetch_failed"] == 1
    assert not Delivery.objects.exists()


def test_redirects_are_followed_and_checked(mocked):
    mocked.add(responses.GET, TOPIC, status=301, headers={"Location": "/moved"})
    mocked.add(responses.GET, "http://pub.example/moved", body=b"here")
    make_subscribers(1)
    assert publish_and_fetch()["fetched"] == 1


@override_settings(PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False)
def test_redirect_to_a_private_address_is_refused(mocked, monkeypatch):
    monkeypatch.setattr(
        "django_push.hub.ssrf.socket.getaddrinfo",
        lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 0))],
    )
    mocked.add(
        responses.GET, TOPIC, status=302, headers={"Location": "http://127.0.0.1/"}
    )
    make_subscribers(1)
    assert publish_and_fetch()["fetch_failed"] == 1
    assert "private" in Publish.objects.get().error


def test_redirect_loops_end(mocked):
    mocked.add(responses.GET, TOPIC, status=302, headers={"Location": TOPIC})
    make_subscribers(1)
    assert publish_and_fetch()["fetch_failed"] == 1
    assert len(fetches(mocked)) == 6


def test_newer_publish_supersedes_waiting_deliveries(mocked):
    mocked.replace(responses.POST, SUBSCRIBERS, status=503)
    mocked.add(responses.GET, TOPIC, body=b"v1")
    mocked.add(responses.GET, TOPIC, body=b"v2")
    make_subscribers(1)
    publish_and_fetch()
    publish_and_fetch()
    rows = list(Delivery.objects.order_by("pk").values_list("status", "error"))
    assert rows == [
        ("cancelled", "superseded by a newer publish"),
        ("pending", "HTTP 503"),
    ]


def test_publish_rejects_relative_urls():
    with pytest.raises(ValueError, match="absolute"):
        api.publish(["/feed"])
    assert not Publish.objects.exists()


def test_publish_of_nothing_does_nothing():
    api.publish([])
    assert not Publish.objects.exists()


def test_publish_kicks_fetch_and_delivery_on_commit(
    mocked, django_capture_on_commit_callbacks
):
    mocked.add(responses.GET, TOPIC, body=b"inline")
    make_subscribers(1)
    with django_capture_on_commit_callbacks(execute=True):
        api.publish([TOPIC])
    assert Delivery.objects.get().status == "delivered"
