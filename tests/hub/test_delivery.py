"""Content distribution: headers, signatures, retries, 410, suspension."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
import requests
import responses
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_push import http
from django_push.hub import delivery, engine, signals
from django_push.hub.models import (
    Content,
    Delivery,
    HubSubscription,
    Publish,
    Topic,
    VerificationRequest,
)
from django_push.hub.ssrf import HostGuard

from .fakes import FakeSubscriber

pytestmark = pytest.mark.django_db

TOPIC = "http://pub.example/feed"
BODY = b'{"hello": "w\xc3\xb6rld"}'


@pytest.fixture
def mocked(deliveries_via_requests):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def plan(
    n: int = 1,
    secret: str = "",
    content_type: str = "application/json",
    **sub_fields,
) -> list[HubSubscription]:
    topic = Topic.objects.create(url=TOPIC)
    content = Content.objects.create(
        topic=topic,
        body=BODY,
        content_type=content_type,
        sha256=hashlib.sha256(BODY).hexdigest(),
        size=len(BODY),
    )
    publish = Publish.objects.create(
        topic=topic, content=content, status="distributed", hub_url="http://h/hub/"
    )
    values = {
        "state": "active",
        "lease_expires_at": timezone.now() + timedelta(days=1),
        "secret": secret,
        "hub_url": "http://hub.example/hub/",
    }
    values.update(sub_fields)
    subscriptions = HubSubscription.objects.bulk_create(
        HubSubscription(topic=TOPIC, callback=f"http://sub.example/{i}?k=v", **values)
        for i in range(n)
    )
    Delivery.objects.bulk_create(
        Delivery(publish=publish, content=content, subscription=s)
        for s in subscriptions
    )
    return subscriptions


def test_delivery_headers_and_signature(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v", status=202)
    plan(secret="key")
    assert engine.process_deliveries()["delivered"] == 1
    request = mocked.calls[0].request
    assert request.body == BODY
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Link"] == (
        f'<{TOPIC}>; rel="self", <http://hub.example/hub/>; rel="hub"'
    )
    expected = hmac.new(b"key", BODY, "sha256").hexdigest()
    assert request.headers["X-Hub-Signature"] == f"sha256={expected}"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered",
        1,
        202,
    )
    assert delivery.latency_ms is not None
    assert delivery.delivered_at is not None
    assert HubSubscription.objects.get().last_success_at is not None


@override_settings(PUSH_HUB_SIGNATURE_ALGORITHM="sha1", PUSH_HUB_URL="https://h/")
def test_signature_algorithm_and_hub_url_settings(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v")
    plan(secret="key")
    engine.process_deliveries()
    request = mocked.calls[0].request
    expected = hmac.new(b"key", BODY, "sha1").hexdigest()
    assert request.headers["X-Hub-Signature"] == f"sha1={expected}"
    assert '<https://h/>; rel="hub"' in request.headers["Link"]


def test_no_signature_without_secret_and_default_content_type(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v")
    plan(content_type="", hub_url="")
    engine.process_deliveries()
    request = mocked.calls[0].request
    assert "X-Hub-Signature" not in request.headers
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert '<http://h/hub/>; rel="hub"' in request.headers["Link"]


def test_delivery_sends_signals(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v", status=200)
    mocked.add(responses.POST, "http://sub.example/1?k=v", status=500)
    plan(2)
    delivered, failed = [], []
    signals.delivered.connect(lambda **kw: delivered.append(kw), weak=False)
    signals.delivery_failed.connect(lambda **kw: failed.append(kw), weak=False)
    try:
        engine.process_deliveries()
    finally:
        signals.delivered.receivers.clear()
        signals.delivery_failed.receivers.clear()
    assert [kw["status_code"] for kw in delivered] == [200]
    assert delivered[0]["delivery"].status == "delivered"
    assert delivered[0]["latency_ms"] >= 0
    assert "error" not in delivered[0]
    assert "latency_ms" not in failed[0]
    assert [(kw["status_code"], kw["final"]) for kw in failed] == [(500, False)]
    assert failed[0]["error"] == "HTTP 500"
    assert failed[0]["subscription"].callback == "http://sub.example/1?k=v"


@override_settings(PUSH_HUB_RETRY_SCHEDULE=(60, 120))
def test_failures_are_retried_with_backoff_then_kept_for_replay(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v", status=500)
    plan()
    now = timezone.now()
    assert engine.process_deliveries()["delivery_retries"] == 1
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert now + timedelta(seconds=60) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= now + timedelta(seconds=76)
    assert engine.process_deliveries()["delivery_retries"] == 0  # not yet due
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert engine.process_deliveries()["delivery_retries"] == 1
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert engine.process_deliveries()["delivery_failed"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (
        "failed",
        3,
        "HTTP 500",
    )
    subscription = HubSubscription.objects.get()
    # WebSub 7: failures never end a subscription before its lease.
    assert subscription.state == "active"
    assert subscription.consecutive_failures == 3
    assert subscription.failing_since is not None

    mocked.replace(responses.POST, "http://sub.example/0?k=v", status=204)
    assert engine.replay([delivery]) == 1
    assert engine.process_deliveries()["delivered"] == 1
    subscription.refresh_from_db()
    assert (subscription.consecutive_failures, subscription.failing_since) == (0, None)


def test_gone_ends_the_subscription_at_once(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v", status=410)
    [subscription] = plan()
    reasons = []
    signals.unsubscribed.connect(lambda **kw: reasons.append(kw["reason"]), weak=False)
    try:
        counts = engine.process_deliveries()
    finally:
        signals.unsubscribed.receivers.clear()
    assert counts["gone"] == 1
    subscription.refresh_from_db()
    assert subscription.state == "gone"
    assert reasons == ["gone"]
    assert Delivery.objects.get().status == "failed"


@pytest.mark.parametrize(
    "reply",
    [
        {"status": 301, "headers": {"Location": "http://elsewhere.example/"}},
        {"body": requests.ConnectionError("reset")},
        {"body": requests.Timeout("slow")},
        {"status": 400},
    ],
)
def test_misbehaving_callbacks_only_cost_their_attempt(mocked, reply):
    mocked.add(responses.POST, "http://sub.example/0?k=v", **reply)
    mocked.add(responses.POST, "http://sub.example/1?k=v", status=204)
    plan(2)
    counts = engine.process_deliveries()
    assert (counts["delivered"], counts["delivery_retries"]) == (1, 1)
    assert len(mocked.calls) == 2  # no redirect followed


def test_huge_success_body_is_ignored(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v", body=b"x" * 200_000)
    plan()
    assert engine.process_deliveries()["delivered"] == 1


@override_settings(PUSH_HUB_SUSPEND_AFTER=3600)
def test_callback_failing_too_long_is_suspended_and_told(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v", status=500)
    mocked.add(responses.GET, "http://sub.example/0", status=200)
    [subscription] = plan(
        failing_since=timezone.now() - timedelta(hours=2), consecutive_failures=5
    )
    counts = engine.process_deliveries()
    assert counts["suspended"] == 1
    subscription.refresh_from_db()
    assert subscription.state == "suspended"
    notice = VerificationRequest.objects.get()
    assert (notice.mode, notice.callback) == ("denied", subscription.callback)
    assert engine.process_verifications()["denied_sent"] == 1
    assert "hub.mode=denied" in mocked.calls[-1].request.url
    assert Delivery.objects.get().status == "cancelled"

    engine.resume(subscription)
    assert subscription.state == "active"
    assert subscription.failing_since is None


def test_inactive_or_expired_subscriptions_get_nothing(mocked):
    [expired, suspended, no_lease] = plan(3)
    HubSubscription.objects.filter(pk=no_lease.pk).update(lease_expires_at=None)
    HubSubscription.objects.filter(pk=expired.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    HubSubscription.objects.filter(pk=suspended.pk).update(state="suspended")
    counts = engine.process_deliveries()
    assert counts["cancelled"] == 3
    assert len(mocked.calls) == 0


def test_a_reclaimed_delivery_never_overtakes_a_newer_publish(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v")
    [subscription] = plan(1)
    old = Delivery.objects.get()
    newer_body = b'{"hello": "again"}'
    content = Content.objects.create(
        topic=old.publish.topic,
        body=newer_body,
        content_type="application/json",
        sha256=hashlib.sha256(newer_body).hexdigest(),
        size=len(newer_body),
    )
    publish = Publish.objects.create(
        topic=old.publish.topic, content=content, status="distributed"
    )
    Delivery.objects.create(
        publish=publish,
        content=content,
        subscription=subscription,
        status="delivered",
        delivered_at=timezone.now(),
    )
    # The older delivery was claimed by a worker that died; its claim expired.
    Delivery.objects.filter(pk=old.pk).update(
        status="in_progress",
        claim_token="dead-worker",
        claimed_at=timezone.now() - timedelta(days=1),
    )
    counts = engine.run_due()
    old.refresh_from_db()
    assert old.status == "cancelled"
    assert "superseded" in old.error
    assert counts["cancelled"] == 1
    assert len(mocked.calls) == 0


def test_delivery_queries_do_not_grow_with_subscribers(mocked):
    mocked.add(responses.POST, responses.matchers.re.compile(r"http://sub\.example/.*"))
    query_counts = []
    for n in (3, 120):
        Topic.objects.all().delete()
        HubSubscription.objects.all().delete()
        plan(n, secret="s")
        with CaptureQueriesContext(connection) as queries:
            counts = engine.process_deliveries()
        assert counts["delivered"] == n
        query_counts.append(len(queries))
    assert query_counts[0] == query_counts[1]


def test_limit_bounds_one_pass(mocked):
    mocked.add(responses.POST, responses.matchers.re.compile(r"http://sub\.example/.*"))
    plan(5)
    assert engine.process_deliveries(limit=2)["delivered"] == 2
    assert Delivery.objects.filter(status="pending").count() == 3


def test_deny_ends_and_notifies(mocked):
    mocked.add(responses.GET, "http://sub.example/0", status=200)
    [subscription] = plan()
    engine.deny(subscription, "revoked by the operator")
    subscription.refresh_from_db()
    assert subscription.state == "denied"
    assert Delivery.objects.get().status == "cancelled"
    notice = VerificationRequest.objects.get()
    assert notice.reason == "revoked by the operator"


@override_settings(PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False)
def test_callback_on_a_private_address_is_not_contacted(mocked):
    [subscription] = plan()
    HubSubscription.objects.filter(pk=subscription.pk).update(
        callback="http://10.0.0.9/cb"
    )
    counts = engine.process_deliveries()
    assert counts["delivery_retries"] == 1
    assert len(mocked.calls) == 0
    assert "private" in Delivery.objects.get().error


@override_settings(PUSH_HUB_DELIVERY_CONCURRENCY=1)
def test_one_at_a_time_when_concurrency_is_one(mocked):
    mocked.add(responses.POST, responses.matchers.re.compile(r"http://sub\.example/.*"))
    plan(3)
    assert engine.process_deliveries()["delivered"] == 3


def test_deliver_task_runs_after_replay_commits(
    mocked, django_capture_on_commit_callbacks
):
    mocked.add(responses.POST, "http://sub.example/0?k=v", status=204)
    plan()
    Delivery.objects.update(status="failed", attempts=6)
    with django_capture_on_commit_callbacks(execute=True):
        engine.replay(Delivery.objects.all())
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


@override_settings(PUSH_HUB_CLAIM_TIMEOUT=3)
def test_long_batches_renew_their_claim(mocked, monkeypatch):
    from django_push.hub import delivery

    def slow(request):
        time.sleep(1.6)
        return (204, {}, "")

    mocked.add_callback(responses.POST, "http://sub.example/0?k=v", callback=slow)
    plan()
    touched = []
    real_touch = delivery.touch_claim
    monkeypatch.setattr(
        delivery, "touch_claim", lambda token: touched.append(real_touch(token))
    )
    assert engine.process_deliveries()["delivered"] == 1
    assert touched


def test_rows_without_any_hub_url_fall_back_to_the_hub_path(mocked):
    mocked.add(responses.POST, "http://sub.example/0?k=v")
    plan(hub_url="")
    Publish.objects.update(hub_url="")
    engine.process_deliveries()
    link = mocked.calls[0].request.headers["Link"]
    assert link == f'<{TOPIC}>; rel="self", <{reverse("push_hub")}>; rel="hub"'


def test_the_ssrf_guard_runs_before_the_real_transport():
    with FakeSubscriber() as fake:
        job = delivery.Job(7, fake.callback("/cb"), b"body", {})
        with override_settings(PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False):
            refused = delivery.send(job, http.get_poster(2), HostGuard())
        sent = delivery.send(job, http.get_poster(2), HostGuard())
    assert refused.delivery_id == 7
    assert refused.status_code is None
    assert "private" in refused.error
    assert sent.status_code == 204
    assert sent.error == ""
    assert len(fake.requests("POST")) == 1
