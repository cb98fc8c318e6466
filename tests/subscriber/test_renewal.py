from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO
from typing import Any
from unittest import mock
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_push import http
from django_push.subscriber import renewal
from django_push.subscriber.models import PENDING_GRACE, Subscription
from django_push.subscriber.renewal import renew_due, run_concurrently

from .conftest import HUB, TOPIC, active, make_subscription

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def soon(**fields: Any) -> Subscription:
    """An active subscription whose lease ends within the default margin."""
    fields.setdefault("lease_expiration", timezone.now() + timedelta(hours=2))
    return active(**fields)


def topics_sent(mocked: responses.RequestsMock) -> list[str]:
    return sorted(
        parse_qs(str(call.request.body))["hub.topic"][0] for call in mocked.calls
    )


def test_due_for_renewal_selects_leases_ending_soon():
    now = timezone.now()
    due = {
        soon(topic=f"{TOPIC}soon"),
        active(topic=f"{TOPIC}expired", lease_expiration=now - DAY),
        active(topic=f"{TOPIC}nolease", lease_expiration=None, requested_at=None),
        active(
            topic=f"{TOPIC}nolease-old",
            lease_expiration=None,
            requested_at=now - timedelta(days=2),
        ),
        soon(
            topic=f"{TOPIC}stale-pending",
            pending_mode="subscribe",
            requested_at=now - PENDING_GRACE - timedelta(minutes=1),
        ),
    }
    not_due = [
        active(topic=f"{TOPIC}far", lease_expiration=now + 3 * DAY),
        soon(topic=f"{TOPIC}denied", state=Subscription.State.DENIED),
        soon(topic=f"{TOPIC}unverified", state=Subscription.State.UNVERIFIED),
        soon(topic=f"{TOPIC}gone", state=Subscription.State.UNSUBSCRIBED),
        soon(
            topic=f"{TOPIC}leaving",
            pending_mode="unsubscribe",
            requested_at=now - DAY,
        ),
        soon(topic=f"{TOPIC}pending", pending_mode="subscribe", requested_at=now),
        active(
            topic=f"{TOPIC}nolease-recent",
            lease_expiration=None,
            requested_at=now - timedelta(hours=1),
        ),
    ]
    selected = set(Subscription.objects.due_for_renewal())
    assert selected == due
    assert not selected & set(not_due)


@override_settings(PUSH_RENEW_MARGIN=3 * 3600)
def test_margin_is_configurable():
    sub = active(lease_expiration=timezone.now() + timedelta(hours=4))
    assert list(Subscription.objects.due_for_renewal()) == []
    with override_settings(PUSH_RENEW_MARGIN=5 * 3600):
        assert list(Subscription.objects.due_for_renewal()) == [sub]


def test_renew_due_resubscribes_and_records_pending_intent(mocked):
    sub = soon(secret="abc", lease_seconds=4000)
    active(topic=f"{TOPIC}far", lease_expiration=timezone.now() + 9 * DAY)
    mocked.post(HUB, status=202)
    counts = renew_due(concurrency=1)
    assert counts == {"due": 1, "renewed": 1, "failed": 0}
    sent = parse_qs(str(mocked.calls[0].request.body))
    assert sent["hub.mode"] == ["subscribe"]
    assert sent["hub.topic"] == [TOPIC]
    assert sent["hub.callback"] == [sub.callback_url]
    assert sent["hub.secret"] == ["abc"]
    # Without PUSH_LEASE_SECONDS, the lease the hub granted is asked again.
    assert sent["hub.lease_seconds"] == ["4000"]
    sub.refresh_from_db()
    assert sub.state == Subscription.State.ACTIVE
    assert sub.pending_mode == Subscription.Mode.SUBSCRIBE
    # Running again right away does not repeat the request.
    assert renew_due(concurrency=1)["due"] == 0


@override_settings(PUSH_LEASE_SECONDS=86400 * 7)
def test_renewal_asks_the_configured_lease(mocked):
    soon(lease_seconds=4000)
    mocked.post(HUB, status=202)
    renew_due(concurrency=1)
    assert parse_qs(str(mocked.calls[0].request.body))["hub.lease_seconds"] == [
        str(86400 * 7)
    ]


def test_failed_renewal_is_recorded_and_retried(mocked):
    ok = soon(topic=f"{TOPIC}ok", last_error="previous failure")
    bad = soon(topic=f"{TOPIC}bad")
    broken = soon(topic=f"{TOPIC}broken")

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        topic = parse_qs(str(request.body))["hub.topic"][0]
        if topic == bad.topic:
            return 500, {}, "hub exploded"
        if topic == broken.topic:
            raise requests.ConnectionError("refused")
        return 202, {}, ""

    mocked.add_callback(responses.POST, HUB, callback=answer)
    counts = renew_due(concurrency=3)
    assert counts == {"due": 3, "renewed": 1, "failed": 2}
    for sub in (bad, broken):
        sub.refresh_from_db()
        assert sub.state == Subscription.State.ACTIVE
        assert sub.verified is True
        assert sub.pending_mode == ""
        assert sub.last_error
    bad.refresh_from_db()
    assert "hub exploded" in bad.last_error
    ok.refresh_from_db()
    assert ok.last_error == ""
    # Failed ones are due again on the next run.
    assert set(Subscription.objects.due_for_renewal()) == {bad, broken}


def test_renewal_follows_a_permanent_hub_move(mocked):
    sub = soon()
    mocked.post(HUB, status=308, headers={"Location": "https://newhub.example/"})
    mocked.post("https://newhub.example/", status=202)
    renew_due(concurrency=1)
    sub.refresh_from_db()
    assert sub.hub == "https://newhub.example/"


@override_settings(PUSH_SECRET_OVER_HTTP=False)
def test_renewal_never_sends_a_secret_over_http(mocked):
    sub = soon(hub="http://plain.example/", secret="abc")
    mocked.post("http://plain.example/", status=202)
    renew_due(concurrency=1)
    assert "hub.secret" not in parse_qs(str(mocked.calls[0].request.body))
    sub.refresh_from_db()
    assert sub.secret == ""


def test_renewal_runs_concurrently_within_bounds_on_one_pool(mocked):
    for n in range(6):
        soon(topic=f"{TOPIC}{n}")
    concurrency = 3
    barrier = threading.Barrier(concurrency, timeout=10)
    lock = threading.Lock()
    in_flight = [0, 0]  # now, highest

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        # Only passes if `concurrency` requests are in flight together.
        barrier.wait()
        with lock:
            in_flight[0] -= 1
        return 202, {}, ""

    mocked.add_callback(responses.POST, HUB, callback=answer)
    with mock.patch.object(http, "new_session", wraps=http.new_session) as new:
        counts = renew_due(concurrency=concurrency)
    assert counts["renewed"] == 6
    assert in_flight[1] == concurrency
    new.assert_called_once_with(pool_size=concurrency)
    assert topics_sent(mocked) == sorted(f"{TOPIC}{n}" for n in range(6))


def test_worker_threads_close_their_database_connections():
    with mock.patch("django_push.subscriber.renewal.connections") as connections:
        assert run_concurrently([1, 2, 3, 4], lambda n: n * 2, 2) == [2, 4, 6, 8]
    assert connections.close_all.call_count == 2


def test_limit(mocked):
    soon(topic=f"{TOPIC}a", lease_expiration=timezone.now() + timedelta(minutes=5))
    soon(topic=f"{TOPIC}b")
    mocked.post(HUB, status=202)
    assert renew_due(limit=1, concurrency=1)["due"] == 1
    assert topics_sent(mocked) == [f"{TOPIC}a"]


def test_nothing_due_sends_nothing(mocked):
    make_subscription()
    assert renew_due() == {"due": 0, "renewed": 0, "failed": 0}


def test_push_renew_command(mocked):
    soon()
    soon(topic=f"{TOPIC}x")
    mocked.post(HUB, status=202)
    mocked.post(HUB, status=500)
    out, err = StringIO(), StringIO()
    call_command("push_renew", "--concurrency", "1", stdout=out, stderr=err)
    assert "due=2 renewed=1 failed=1" in out.getvalue()
    assert "failed" in err.getvalue()


@override_settings(PUSH_DOMAIN=None)
def test_unbuildable_callback_fails_before_any_write():
    sub = soon()
    before = Subscription.objects.filter(pk=sub.pk).values().get()
    with pytest.raises(ImproperlyConfigured):
        renew_due(concurrency=1)
    with pytest.raises(ImproperlyConfigured):
        sub.subscribe()
    assert Subscription.objects.filter(pk=sub.pk).values().get() == before


def test_unsubscription_requested_meanwhile_wins_over_renewal(mocked):
    leaving = soon(topic=f"{TOPIC}leaving")
    staying = soon(topic=f"{TOPIC}staying")
    real = renewal.build_callback_url

    def meanwhile(pk: int) -> str:
        # Runs between the SELECT of due rows and the writing of intents.
        Subscription.objects.filter(pk=leaving.pk).update(
            pending_mode="unsubscribe", requested_at=timezone.now()
        )
        return real(pk)

    mocked.post(HUB, status=202)
    with mock.patch.object(renewal, "build_callback_url", side_effect=meanwhile):
        counts = renew_due(concurrency=1)
    assert counts["renewed"] == 1
    assert topics_sent(mocked) == [staying.topic]
    leaving.refresh_from_db()
    assert leaving.pending_mode == "unsubscribe"
