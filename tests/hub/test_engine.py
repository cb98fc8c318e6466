"""The engine's entry points, claims and lease enforcement."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_push.hub import api, engine, signals
from django_push.hub.claims import claim, retry_at
from django_push.hub.models import (
    Content,
    Delivery,
    HubSubscription,
    Publish,
    Topic,
    VerificationRequest,
)

pytestmark = pytest.mark.django_db

TOPIC = "http://pub.example/feed"


@pytest.fixture
def mocked(deliveries_via_requests):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def deliveries(n: int) -> list[Delivery]:
    topic = Topic.objects.create(url=TOPIC)
    content = Content.objects.create(
        topic=topic, body=b"x", sha256=hashlib.sha256(b"x").hexdigest()
    )
    publish = Publish.objects.create(topic=topic, content=content, status="distributed")
    subs = HubSubscription.objects.bulk_create(
        HubSubscription(
            topic=TOPIC,
            callback=f"http://sub.example/{i}",
            state="active",
            lease_expires_at=timezone.now() + timedelta(days=1),
        )
        for i in range(n)
    )
    return Delivery.objects.bulk_create(
        Delivery(publish=publish, content=content, subscription=s) for s in subs
    )


def test_claims_do_not_overlap():
    deliveries(5)
    token_a, count_a = claim(Delivery.objects.all(), 3)
    token_b, count_b = claim(Delivery.objects.all(), 3)
    assert (count_a, count_b) == (3, 2)
    assert token_a != token_b
    claimed_a = set(Delivery.objects.filter(claim_token=token_a).values_list("pk"))
    claimed_b = set(Delivery.objects.filter(claim_token=token_b).values_list("pk"))
    assert claimed_a.isdisjoint(claimed_b)
    assert claim(Delivery.objects.all())[1] == 0


@override_settings(PUSH_HUB_CLAIM_TIMEOUT=60)
def test_expired_claims_are_taken_again(mocked):
    mocked.add(responses.POST, responses.matchers.re.compile(r"http://sub\.example/.*"))
    deliveries(2)
    _token, count = claim(Delivery.objects.all())
    assert count == 2
    # A worker that claimed one row and died: its claim is fresh, then old.
    Delivery.objects.filter(pk=Delivery.objects.first().pk).update(
        claimed_at=timezone.now() - timedelta(seconds=30)
    )
    assert engine.run_due()["delivered"] == 0
    Delivery.objects.update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert engine.run_due()["delivered"] == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_future_work_is_not_due():
    [delivery] = deliveries(1)
    Delivery.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert claim(Delivery.objects.all())[1] == 0
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_retry_schedule_with_jitter():
    now = timezone.now()
    schedule = (10, 100)
    first = retry_at(schedule, 1, now)
    second = retry_at(schedule, 2, now)
    assert first is not None
    assert second is not None
    assert now + timedelta(seconds=10) <= first <= now + timedelta(seconds=12.5)
    assert now + timedelta(seconds=100) <= second <= now + timedelta(seconds=125)
    assert retry_at(schedule, 3, now) is None
    assert retry_at(schedule, 0, now) is None


def test_expired_leases_are_ended_by_the_sweeper():
    HubSubscription.objects.create(
        topic=TOPIC,
        callback="http://sub.example/old",
        state="active",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    HubSubscription.objects.create(
        topic=TOPIC,
        callback="http://sub.example/new",
        state="active",
        lease_expires_at=timezone.now() + timedelta(days=1),
    )
    reasons = []
    signals.unsubscribed.connect(lambda **kw: reasons.append(kw["reason"]), weak=False)
    try:
        counts = engine.run_due()
    finally:
        signals.unsubscribed.receivers.clear()
    assert counts["expired"] == 1
    assert reasons == ["expired"]
    states = dict(HubSubscription.objects.values_list("callback", "state"))
    assert states == {
        "http://sub.example/old": "expired",
        "http://sub.example/new": "active",
    }


def test_run_due_does_everything_due_in_order(mocked):
    mocked.add(responses.GET, TOPIC, body=b"content")
    mocked.add(responses.POST, "http://sub.example/0", status=204)
    mocked.add(responses.POST, "http://sub.example/new", status=204)
    mocked.add_callback(
        responses.GET,
        "http://sub.example/new",
        callback=lambda r: (200, {}, r.url.split("hub.challenge=")[1].split("&")[0]),
    )
    deliveries(1)
    Delivery.objects.all().delete()
    VerificationRequest.objects.create(
        mode="subscribe",
        topic=TOPIC,
        callback="http://sub.example/new",
        topic_as_sent=TOPIC,
        lease_seconds=3600,
    )
    api.publish([TOPIC])
    counts = engine.run_due()
    assert set(counts) == set(engine.COUNT_KEYS)
    assert (counts["verified"], counts["fetched"], counts["delivered"]) == (1, 1, 2)
    assert engine.run_due() == dict.fromkeys(engine.COUNT_KEYS, 0)


def test_replay_only_touches_finished_failures():
    rows = deliveries(3)
    Delivery.objects.filter(pk=rows[0].pk).update(status="failed", attempts=6)
    Delivery.objects.filter(pk=rows[1].pk).update(status="delivered", attempts=1)
    assert engine.replay([rows[0].pk, rows[1].pk]) == 1
    states = dict(Delivery.objects.values_list("pk", "status"))
    assert states[rows[0].pk] == "pending"
    assert states[rows[1].pk] == "delivered"
    assert Delivery.objects.get(pk=rows[0].pk).attempts == 0


def test_send_test_delivery_resends_the_current_content(
    mocked, django_capture_on_commit_callbacks
):
    [earlier] = deliveries(1)
    Topic.objects.update(last_content=earlier.content)
    Delivery.objects.update(status="delivered")
    mocked.add(responses.POST, "http://sub.example/0", status=204)
    with django_capture_on_commit_callbacks(execute=True):
        test = engine.send_test_delivery(earlier.subscription)
    test.refresh_from_db()
    assert test.status == "delivered"
    assert mocked.calls[0].request.body == b"x"


def test_send_test_delivery_needs_fetched_content():
    [earlier] = deliveries(1)
    with pytest.raises(ValueError, match="Nothing was fetched"):
        engine.send_test_delivery(earlier.subscription)


def shared_publish(mocked, n: int) -> None:
    mocked.add(responses.GET, TOPIC, body=b"<feed/>")
    mocked.add(responses.POST, responses.matchers.re.compile(r"http://sub\.example/.*"))
    HubSubscription.objects.bulk_create(
        HubSubscription(
            topic=TOPIC,
            callback=f"http://sub.example/{i}",
            state="active",
            lease_expires_at=timezone.now() + timedelta(days=1),
        )
        for i in range(n)
    )
    api.publish([TOPIC])


def posted_callbacks(mocked) -> list[str]:
    return sorted(
        call.request.url for call in mocked.calls if call.request.method == "POST"
    )


@override_settings(PUSH_HUB_DELIVERY_BATCH=3)
def test_a_large_publish_is_sent_in_batches_by_several_claims(
    mocked, django_capture_on_commit_callbacks
):
    shared_publish(mocked, 7)
    with django_capture_on_commit_callbacks() as callbacks:
        counts = engine.process_publishes()
    # The fetching worker sent one batch; the rest waits for other workers.
    assert counts["delivered"] == 3
    assert Delivery.objects.filter(status="pending").count() == 4
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    tokens = Delivery.objects.values_list("claim_token", flat=True)
    sizes = sorted(list(tokens).count(token) for token in set(tokens))
    assert sizes == [1, 3, 3]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    expected = sorted(f"http://sub.example/{i}" for i in range(7))
    assert posted_callbacks(mocked) == expected


@override_settings(PUSH_HUB_DELIVERY_BATCH=3)
def test_other_workers_claim_the_batches_of_a_shared_publish(
    mocked, django_capture_on_commit_callbacks
):
    shared_publish(mocked, 6)
    with django_capture_on_commit_callbacks():
        engine.process_publishes()
    # The queued task was lost; a push_hub_work pass takes the batch instead.
    counts = engine.run_due()
    assert counts["delivered"] == 3
    assert len(set(Delivery.objects.values_list("claim_token", flat=True))) == 2
    assert len(posted_callbacks(mocked)) == len(set(posted_callbacks(mocked))) == 6


@override_settings(PUSH_HUB_DELIVERY_BATCH=3, PUSH_HUB_CLAIM_TIMEOUT=60)
def test_a_batch_left_by_a_dead_worker_is_claimed_again(
    mocked, django_capture_on_commit_callbacks
):
    shared_publish(mocked, 6)
    with django_capture_on_commit_callbacks():
        engine.process_publishes()
    # Another worker claimed the second batch and died before sending it.
    dead, count = claim(Delivery.objects.all(), 3)
    assert count == 3
    assert engine.run_due()["delivered"] == 0
    Delivery.objects.filter(claim_token=dead).update(
        claimed_at=timezone.now() - timedelta(seconds=61)
    )
    assert engine.run_due()["delivered"] == 3
    assert not Delivery.objects.filter(claim_token=dead).exists()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert len(posted_callbacks(mocked)) == len(set(posted_callbacks(mocked))) == 6


@override_settings(PUSH_HUB_DELIVERY_BATCH=4)
def test_sharing_a_publish_costs_the_same_queries_for_any_size(
    mocked, django_capture_on_commit_callbacks
):
    shared_publish(mocked, 0)
    query_counts = []
    batch_queries = set()
    for n in (5, 40):
        HubSubscription.objects.all().delete()
        Publish.objects.all().delete()
        HubSubscription.objects.bulk_create(
            HubSubscription(
                topic=TOPIC,
                callback=f"http://sub.example/{n}/{i}",
                state="active",
                lease_expires_at=timezone.now() + timedelta(days=1),
            )
            for i in range(n)
        )
        Topic.objects.update(last_content=None)
        api.publish([TOPIC])
        with (
            django_capture_on_commit_callbacks() as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            engine.process_publishes()
        # Planning plus one batch; one task queued for each other batch.
        query_counts.append(len(queries))
        assert len(callbacks) == -(-n // 4) - 1
        for callback in callbacks:
            with CaptureQueriesContext(connection) as queries:
                callback()
            batch_queries.add(len(queries))
        assert Delivery.objects.filter(status="delivered").count() == n
    assert query_counts[0] == query_counts[1]
    # Each task sends one batch (full or not) for the same queries.
    assert len(batch_queries) == 1
