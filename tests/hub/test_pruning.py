"""prune and push_hub_prune: what is deleted, what is kept, batches, dry runs."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_push.hub.models import (
    Content,
    Delivery,
    HubSubscription,
    Publish,
    VerificationRequest,
)
from django_push.hub.pruning import PRUNED_KEYS, prune

from . import records

pytestmark = pytest.mark.django_db

Status = Delivery.Status
State = HubSubscription.State


@pytest.fixture
def history():
    """Old and recent rows; returns the rows that must survive a 30-day prune."""
    now = timezone.now()
    old = now - timedelta(days=40)
    recent = now - timedelta(days=2)
    topic = records.topic(body=b"<feed>current</feed>")
    old_body = records.content(topic, b"<feed>old</feed>", fetched_at=old)
    stale_body = records.content(topic, b"<feed>stale</feed>", fetched_at=old)
    live = records.subscription(topic)
    ended_old = records.subscription(topic, state=State.EXPIRED, updated_at=old)
    ended_recent = records.subscription(topic, state=State.GONE, updated_at=recent)
    suspended_old = records.subscription(topic, state=State.SUSPENDED, updated_at=old)
    old_publish = records.publish(topic, old_body, created_at=old)
    pending_publish = records.publish(
        topic, stale_body, status=Publish.Status.PENDING, created_at=old
    )
    recent_publish = records.publish(topic, created_at=recent)
    blocked_publish = records.publish(topic, stale_body, created_at=old)
    deleted = {
        "deliveries": [
            records.delivery(
                live, old_publish, status=Status.DELIVERED, created_at=old
            ),
            records.delivery(live, old_publish, status=Status.FAILED, created_at=old),
            records.delivery(ended_old, recent_publish, status=Status.PENDING),
        ],
        "subscriptions": [ended_old],
        "publishes": [old_publish],
        "contents": [old_body],
        "verifications": [
            VerificationRequest.objects.create(
                mode="subscribe",
                topic=topic.url,
                callback=live.callback,
                topic_as_sent=topic.url,
                status=VerificationRequest.Status.COMPLETED,
                created_at=old,
            )
        ],
    }
    kept = [
        live,
        ended_recent,
        suspended_old,
        topic.last_content,
        stale_body,
        pending_publish,
        recent_publish,
        # A delivery still due keeps its old publish.
        records.delivery(live, blocked_publish, status=Status.PENDING, created_at=old),
        blocked_publish,
        records.delivery(live, recent_publish, status=Status.DELIVERED),
        records.delivery(ended_recent, recent_publish, status=Status.FAILED),
        VerificationRequest.objects.create(
            mode="subscribe",
            topic=topic.url,
            callback="http://sub.example/waiting",
            topic_as_sent=topic.url,
            created_at=old,
        ),
    ]
    return deleted, kept


def exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


def test_prune_deletes_old_finished_records_only(history):
    deleted, kept = history
    counts = prune(days=30)
    assert counts == {key: len(rows) for key, rows in deleted.items()}
    assert list(counts) == list(PRUNED_KEYS)
    for rows in deleted.values():
        for row in rows:
            assert not exists(row), row
    for row in kept:
        assert exists(row), row


def test_old_publish_goes_once_its_deliveries_are_gone(history):
    _, kept = history
    waiting, blocked_publish = kept[7], kept[8]
    assert prune(days=30)["publishes"] == 1
    assert exists(blocked_publish)
    Delivery.objects.filter(pk=waiting.pk).update(status=Status.DELIVERED)
    counts = prune(days=30)
    assert counts["deliveries"] == 1
    assert counts["publishes"] == 1
    assert not exists(blocked_publish)
    # Its body is still the body of a publish that is due.
    assert counts["contents"] == 0


def test_dry_run_counts_the_same_and_deletes_nothing(history):
    before = {
        model: model.objects.count()
        for model in (Delivery, HubSubscription, Publish, Content, VerificationRequest)
    }
    would = prune(days=30, dry_run=True)
    after = {model: model.objects.count() for model in before}
    assert after == before
    assert prune(days=30) == would


def test_nothing_recent_is_pruned(history):
    assert prune(days=60) == dict.fromkeys(PRUNED_KEYS, 0)


def test_deletes_run_in_batches(history):
    sub = records.subscription()
    old = timezone.now() - timedelta(days=40)
    for _ in range(7):
        records.delivery(sub, status=Status.DELIVERED, created_at=old)
    with CaptureQueriesContext(connection) as queries:
        counts = prune(days=30, batch_size=2)
    assert counts["deliveries"] == 10
    deletes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('DELETE FROM "push_hub_delivery" WHERE')
        and '"push_hub_delivery"."id" IN' in q["sql"]
    ]
    assert len(deletes) == 5


@pytest.mark.parametrize("kwargs", [{"days": -1}, {"days": 1, "batch_size": 0}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError, match="must"):
        prune(**kwargs)


def test_command_prunes_and_reports(history):
    deleted, _ = history
    out = StringIO()
    call_command("push_hub_prune", "--days", "30", "--dry-run", stdout=out)
    assert out.getvalue().startswith("Would delete deliveries=3 subscriptions=1 ")
    assert Delivery.objects.filter(pk=deleted["deliveries"][0].pk).exists()
    out = StringIO()
    call_command("push_hub_prune", "--days", "30", "--batch-size", "1", stdout=out)
    assert out.getvalue().startswith("Deleted deliveries=3 subscriptions=1 ")
    assert not Delivery.objects.filter(pk=deleted["deliveries"][0].pk).exists()


@pytest.mark.parametrize(
    "args", [[], ["--days", "-3"], ["--days", "3", "--batch-size", "0"]]
)
def test_command_refuses_bad_options(args):
    with pytest.raises(CommandError):
        call_command("push_hub_prune", *args)
