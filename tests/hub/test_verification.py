"""Verification of intent and denied notices, over mocked HTTP."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.test import override_settings
from django.utils import timezone

from django_push.hub import engine, signals
from django_push.hub.models import Delivery, HubSubscription, VerificationRequest
from django_push.hub.verification import callback_url

from .forms import post_form

pytestmark = pytest.mark.django_db

CALLBACK = "http://sub.example/cb"
TOPIC = "http://pub.example/feed"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def echo(request):
    query = parse_qs(urlsplit(request.url).query)
    return (200, {}, query["hub.challenge"][0])


def request_row(**kwargs) -> VerificationRequest:
    values = {
        "mode": "subscribe",
        "topic": TOPIC,
        "callback": CALLBACK,
        "topic_as_sent": TOPIC,
        "lease_seconds": 3600,
        "hub_url": "http://hub.example/",
    }
    values.update(kwargs)
    return VerificationRequest.objects.create(**values)


@pytest.mark.parametrize(
    ("callback", "expected_prefix"),
    [
        ("http://a/cb", "http://a/cb?hub.mode"),
        ("http://a/cb?x=1", "http://a/cb?x=1&hub.mode"),
        ("http://a/cb?", "http://a/cb?hub.mode"),
        ("http://a/cb?x=1&", "http://a/cb?x=1&hub.mode"),
    ],
)
def test_callback_query_is_kept(callback, expected_prefix):
    assert callback_url(callback, [("hub.mode", "subscribe")]).startswith(
        expected_prefix
    )


def test_subscribe_verified_with_exact_echo(mocked):
    mocked.add_callback(responses.GET, CALLBACK, callback=echo)
    row = request_row(topic_as_sent="http://pub.example/%7Efeed?a=1&b=2", secret="s")
    received = []
    signals.subscribed.connect(
        lambda **kw: received.append(kw), sender=HubSubscription, weak=False
    )
    try:
        before = timezone.now()
        counts = engine.process_verifications()
    finally:
        signals.subscribed.receivers.clear()
    assert counts["verified"] == 1
    sent = parse_qs(urlsplit(mocked.calls[0].request.url).query)
    assert sent["hub.mode"] == ["subscribe"]
    assert sent["hub.topic"] == ["http://pub.example/%7Efeed?a=1&b=2"]
    assert sent["hub.lease_seconds"] == ["3600"]
    assert len(sent["hub.challenge"][0]) >= 32
    subscription = HubSubscription.objects.get()
    assert subscription.state == HubSubscription.State.ACTIVE
    assert subscription.secret == "s"
    assert before + timedelta(seconds=3600) <= subscription.lease_expires_at
    assert subscription.lease_expires_at <= timezone.now() + timedelta(seconds=3600)
    assert [kw["created"] for kw in received] == [True]
    row.refresh_from_db()
    assert row.status == VerificationRequest.Status.COMPLETED


def test_challenges_are_single_use(mocked):
    mocked.add_callback(responses.GET, CALLBACK, callback=echo)
    request_row()
    request_row()
    engine.process_verifications()
    challenges = {
        parse_qs(urlsplit(call.request.url).query)["hub.challenge"][0]
        for call in mocked.calls
    }
    assert len(challenges) == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, "wrong"),
        (200, ""),
        (404, ""),
        (403, ""),
        (302, ""),
    ],
)
def test_failed_verification_changes_nothing(mocked, status, body):
    existing = HubSubscription.objects.create(
        topic=TOPIC,
        callback=CALLBACK,
        state=HubSubscription.State.ACTIVE,
        secret="old",
        lease_expires_at=timezone.now() + timedelta(days=1),
    )
    mocked.add(
        responses.GET,
        CALLBACK,
        status=status,
        body=body,
        headers={"Location": "http://elsewhere.example/"} if status == 302 else {},
    )
    request_row(secret="new", mode="subscribe")
    counts = engine.process_verifications()
    assert counts["refused"] == 1
    assert len(mocked.calls) == 1  # the redirect was not followed
    existing_after = HubSubscription.objects.get()
    assert existing_after.secret == "old"
    assert existing_after.lease_expires_at == existing.lease_expires_at
    assert VerificationRequest.objects.get().status == "refused"


def test_challenge_with_trailing_newline_is_refused(mocked):
    mocked.add_callback(
        responses.GET,
        CALLBACK,
        callback=lambda r: (200, {}, echo(r)[2] + "\n"),
    )
    request_row()
    assert engine.process_verifications()["refused"] == 1
    assert not HubSubscription.objects.exists()


def test_huge_verification_answer_is_refused(mocked):
    mocked.add(responses.GET, CALLBACK, body="x" * 100_000)
    request_row()
    assert engine.process_verifications()["refused"] == 1


@override_settings(PUSH_HUB_VERIFY_RETRY_SCHEDULE=(10, 20))
def test_server_errors_are_retried_then_given_up(mocked):
    mocked.add(responses.GET, CALLBACK, status=503)
    row = request_row()
    assert engine.process_verifications()["verification_retries"] == 1
    row.refresh_from_db()
    assert row.status == "pending"
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=9)
    assert engine.process_verifications()["verification_retries"] == 0  # not due
    for expected in ("verification_retries", "verification_failed"):
        VerificationRequest.objects.update(next_attempt_at=timezone.now())
        assert engine.process_verifications()[expected] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)
    assert not HubSubscription.objects.exists()


def test_network_errors_are_retried(mocked):
    mocked.add(responses.GET, CALLBACK, body=requests.ConnectionError("refused"))
    request_row()
    assert engine.process_verifications()["verification_retries"] == 1


def test_resubscribe_updates_the_one_row(mocked):
    mocked.add_callback(responses.GET, CALLBACK, callback=echo)
    request_row(secret="first")
    engine.process_verifications()
    request_row(secret="", lease_seconds=120)
    received = []
    signals.subscribed.connect(
        lambda **kw: received.append(kw["created"]), sender=HubSubscription, weak=False
    )
    try:
        engine.process_verifications()
    finally:
        signals.subscribed.receivers.clear()
    subscription = HubSubscription.objects.get()
    assert subscription.secret == ""
    assert subscription.lease_seconds == 120
    assert received == [False]


def test_verified_unsubscribe_ends_the_subscription(mocked):
    mocked.add_callback(responses.GET, CALLBACK, callback=echo)
    subscription = HubSubscription.objects.create(
        topic=TOPIC,
        callback=CALLBACK,
        state=HubSubscription.State.ACTIVE,
        lease_expires_at=timezone.now() + timedelta(days=1),
    )
    request_row(mode="unsubscribe", lease_seconds=None)
    reasons = []
    signals.unsubscribed.connect(
        lambda **kw: reasons.append(kw["reason"]), sender=HubSubscription, weak=False
    )
    try:
        engine.process_verifications()
    finally:
        signals.unsubscribed.receivers.clear()
    sent = parse_qs(urlsplit(mocked.calls[0].request.url).query)
    assert "hub.lease_seconds" not in sent
    subscription.refresh_from_db()
    assert subscription.state == HubSubscription.State.UNSUBSCRIBED
    assert reasons == ["unsubscribed"]
    assert not Delivery.objects.exists()


def test_denied_notice_carries_the_reason(mocked):
    mocked.add(responses.GET, CALLBACK, status=404)
    request_row(mode="denied", reason="not served here")
    assert engine.process_verifications()["denied_sent"] == 1
    sent = parse_qs(urlsplit(mocked.calls[0].request.url).query)
    assert sent["hub.mode"] == ["denied"]
    assert sent["hub.reason"] == ["not served here"]
    assert "hub.challenge" not in sent
    assert not HubSubscription.objects.exists()


@override_settings(PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False)
def test_private_callback_is_not_contacted(mocked):
    request_row(callback="http://127.0.0.1/cb")
    assert engine.process_verifications()["refused"] == 1
    assert len(mocked.calls) == 0


def test_subscribe_through_the_view_verifies_after_commit(
    client, mocked, django_capture_on_commit_callbacks
):
    mocked.add_callback(responses.GET, CALLBACK, callback=echo)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(
            client,
            {"hub.mode": "subscribe", "hub.callback": CALLBACK, "hub.topic": TOPIC},
        )
    assert response.status_code == 202
    assert HubSubscription.objects.get().state == "active"
    assert HubSubscription.objects.get().hub_url == "http://testserver/hub/"


def test_many_verifications_are_claimed_in_small_batches(mocked):
    from django_push.hub.engine import VERIFICATION_BATCH_SIZE

    mocked.add_callback(responses.GET, CALLBACK, callback=echo)
    for i in range(VERIFICATION_BATCH_SIZE + 2):
        request_row(topic=f"{TOPIC}/{i}", topic_as_sent=f"{TOPIC}/{i}")
    counts = engine.process_verifications()
    assert counts["verified"] == VERIFICATION_BATCH_SIZE + 2
    tokens = set(VerificationRequest.objects.values_list("claim_token", flat=True))
    assert len(tokens) == 2
    assert engine.process_verifications(limit=1)["verified"] == 0
