"""The hub's admin console: pages, filters, escaping, query counts, actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from django_push.hub.admin import SUSPEND_REASON
from django_push.hub.models import Delivery, HubSubscription, VerificationRequest

from . import records

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = reverse("admin:push_hub_hubsubscription_changelist")
DELIVERIES = reverse("admin:push_hub_delivery_changelist")


@pytest.fixture
def admin_user(django_user_model):
    """A superuser without a password: no slow hashing, force_login only."""
    return django_user_model.objects.create_user(
        "admin", is_staff=True, is_superuser=True
    )


def listed(response, rows) -> set[int]:
    """Which of *rows* appear as selectable rows on a changelist page."""
    content = response.content.decode()
    return {
        row.pk for row in rows if f'name="_selected_action" value="{row.pk}"' in content
    }


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# Subscriptions -----------------------------------------------------------


def test_subscription_list_shows_state_lease_and_failures(admin_client):
    row = records.subscription(
        consecutive_failures=4,
        last_success_at=timezone.now() - timedelta(hours=2),
        secret="s3cr3t-value",
    )
    response = admin_client.get(SUBSCRIPTIONS)
    content = response.content.decode()
    assert response.status_code == 200
    assert row.callback in content
    assert row.topic in content
    assert ">active<" in content
    assert ">4<" in content
    assert "s3cr3t-value" not in content


def test_subscription_list_queries_do_not_grow_with_rows(admin_client):
    topic = records.topic()
    for _ in range(2):
        records.subscription(topic)
    few = count_queries(admin_client, SUBSCRIPTIONS)
    for _ in range(15):
        records.subscription(topic)
    assert count_queries(admin_client, SUBSCRIPTIONS) == few


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state__exact=suspended", {"suspended"}),
        ("lease=over", {"over", "no_lease"}),
        ("lease=day", {"soon"}),
        ("lease=later", {"suspended", "failing"}),
        ("failing=yes", {"failing"}),
        ("failing=no", {"suspended", "over", "no_lease", "soon"}),
        ("q=special-callback", {"soon"}),
    ],
)
def test_subscription_filters_and_search(admin_client, query, expected):
    now = timezone.now()
    rows = {
        "suspended": records.subscription(state=HubSubscription.State.SUSPENDED),
        "failing": records.subscription(consecutive_failures=2),
        "over": records.subscription(lease_expires_at=now - timedelta(seconds=5)),
        "no_lease": records.subscription(lease_expires_at=None),
        "soon": records.subscription(
            callback="http://special-callback.example/cb",
            lease_expires_at=now + timedelta(hours=3),
        ),
    }
    response = admin_client.get(f"{SUBSCRIPTIONS}?{query}")
    assert response.status_code == 200
    shown = listed(response, rows.values())
    assert shown == {rows[name].pk for name in expected}


def test_subscription_page_is_read_only_and_hides_the_secret(admin_client):
    row = records.subscription(secret="very-secret-key")
    url = reverse("admin:push_hub_hubsubscription_change", args=[row.pk])
    response = admin_client.get(url)
    content = response.content.decode()
    assert response.status_code == 200
    assert row.callback in content
    assert "very-secret-key" not in content
    assert 'name="callback"' not in content
    assert 'name="state"' not in content
    admin_client.post(url, {"callback": "http://evil.example/", "state": "gone"})
    row.refresh_from_db()
    assert row.callback.startswith("http://sub.example/")
    assert row.state == HubSubscription.State.ACTIVE


def test_subscriptions_cannot_be_added_by_hand(admin_client):
    url = reverse("admin:push_hub_hubsubscription_add")
    assert admin_client.get(url).status_code == 403


# Deliveries --------------------------------------------------------------


def test_delivery_list_escapes_and_truncates_errors(admin_client):
    sub = records.subscription()
    error = "<script>alert(1)</script>" + "x" * 300
    records.delivery(
        sub,
        status=Delivery.Status.FAILED,
        attempts=3,
        last_status_code=503,
        latency_ms=1234,
        error=error,
    )
    response = admin_client.get(DELIVERIES)
    content = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "x" * 300 not in content
    assert "1234 ms" in content
    assert ">503<" in content
    assert sub.callback in content


def test_delivery_list_queries_do_not_grow_with_rows(admin_client):
    topic = records.topic()
    subs = [records.subscription(topic) for _ in range(20)]
    publish = records.publish(topic)
    for sub in subs[:2]:
        records.delivery(sub, publish)
    few = count_queries(admin_client, DELIVERIES)
    for sub in subs[2:]:
        records.delivery(sub, publish, status=Delivery.Status.FAILED, error="HTTP 500")
    assert count_queries(admin_client, DELIVERIES) == few
    assert count_queries(admin_client, f"{DELIVERIES}?status__exact=failed") == few


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status__exact=failed", {"failed", "gone"}),
        ("attempts=0", {"new"}),
        ("attempts=1", {"ok"}),
        ("attempts=2-4", {"gone", "timeout"}),
        ("attempts=5%2B", {"failed"}),
        ("code=2xx", {"ok"}),
        ("code=3xx", set()),
        ("code=4xx", {"gone"}),
        ("code=410", {"gone"}),
        ("code=5xx", {"failed"}),
        ("code=none", {"timeout"}),
        ("latency=fast", {"ok"}),
        ("latency=medium", {"gone"}),
        ("latency=slow", {"failed"}),
        ("latency=timeout", {"timeout"}),
        ("error=yes", {"failed", "gone", "timeout"}),
        ("error=no", {"new", "ok"}),
        ("q=read+timed+out", {"timeout"}),
    ],
)
def test_delivery_filters_and_search(admin_client, query, expected):
    topic = records.topic()
    publish = records.publish(topic)
    Status = Delivery.Status
    specs = {
        "new": {},
        "ok": {
            "status": Status.DELIVERED,
            "attempts": 1,
            "last_status_code": 204,
            "latency_ms": 12,
        },
        "gone": {
            "status": Status.FAILED,
            "attempts": 2,
            "last_status_code": 410,
            "latency_ms": 150,
            "error": "HTTP 410",
        },
        "failed": {
            "status": Status.FAILED,
            "attempts": 7,
            "last_status_code": 500,
            "latency_ms": 2500,
            "error": "HTTP 500",
        },
        "timeout": {
            "status": Status.PENDING,
            "attempts": 3,
            "latency_ms": 10_000,
            "error": "read timed out",
        },
    }
    rows = {
        name: records.delivery(records.subscription(topic), publish, **fields)
        for name, fields in specs.items()
    }
    response = admin_client.get(f"{DELIVERIES}?{query}")
    assert response.status_code == 200
    assert listed(response, rows.values()) == {rows[name].pk for name in expected}


def test_delivery_page_shows_the_body_escaped_and_truncated(admin_client):
    body = b"<b>bold</b> " + "\u00e9".encode() * 5000
    topic = records.topic(body=body)
    row = records.delivery(records.subscription(topic))
    url = reverse("admin:push_hub_delivery_change", args=[row.pk])
    response = admin_client.get(url)
    content = response.content.decode()
    assert response.status_code == 200
    assert "<b>bold</b>" not in content
    assert "&lt;b&gt;bold&lt;/b&gt;" in content
    assert "\u00e9" * 100 in content
    assert "\u00e9" * 5000 not in content
    assert str(len(body)) in content
    assert 'name="status"' not in content


def test_deliveries_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(reverse("admin:push_hub_delivery_add")).status_code == 403


# Actions -----------------------------------------------------------------


def run_action(client, url: str, action: str, rows) -> list[str]:
    response = client.post(
        url,
        {"action": action, "_selected_action": [row.pk for row in rows]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_replay_action_queues_failed_deliveries_in_the_background(
    admin_client, subscriber, django_capture_on_commit_callbacks
):
    sub = records.subscription(callback=subscriber.callback())
    failed = records.delivery(sub, status=Delivery.Status.FAILED, attempts=7)
    done = records.delivery(
        sub, failed.publish, status=Delivery.Status.DELIVERED, attempts=1
    )
    with django_capture_on_commit_callbacks() as callbacks:
        notes = run_action(admin_client, DELIVERIES, "replay", [failed, done])
    assert any("Queued 1 " in note for note in notes)
    assert any("Skipped 1 " in note for note in notes)
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.PENDING
    assert failed.attempts == 0
    # Nothing was sent while the admin request ran; the task does it.
    assert subscriber.requests("POST") == []
    assert callbacks
    for callback in callbacks:
        callback()
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.DELIVERED
    assert len(subscriber.requests("POST")) == 1


def test_test_delivery_action_sends_the_latest_body(
    admin_client, subscriber, django_capture_on_commit_callbacks
):
    topic = records.topic(body=b"<feed>latest</feed>")
    active = records.subscription(topic, callback=subscriber.callback())
    suspended = records.subscription(topic, state=HubSubscription.State.SUSPENDED)
    no_body = records.subscription(records.topic(last=False))
    with django_capture_on_commit_callbacks() as callbacks:
        notes = run_action(
            admin_client,
            SUBSCRIPTIONS,
            "send_test_delivery",
            [active, suspended, no_body],
        )
    assert any("Queued 1 test" in note for note in notes)
    assert any("Skipped 2 " in note for note in notes)
    assert subscriber.requests("POST") == []
    for callback in callbacks:
        callback()
    posts = subscriber.requests("POST")
    assert [p.body for p in posts] == [b"<feed>latest</feed>"]
    assert Delivery.objects.get(subscription=active).status == "delivered"
    assert not Delivery.objects.filter(subscription__in=[suspended, no_body]).exists()


def test_suspend_action_stops_deliveries_and_sends_denied(
    admin_client, subscriber, django_capture_on_commit_callbacks
):
    sub = records.subscription(callback=subscriber.callback())
    waiting = records.delivery(sub)
    gone = records.subscription(state=HubSubscription.State.GONE)
    with django_capture_on_commit_callbacks() as callbacks:
        notes = run_action(admin_client, SUBSCRIPTIONS, "suspend", [sub, gone])
    assert any("Suspended 1 " in note for note in notes)
    sub.refresh_from_db()
    gone.refresh_from_db()
    assert sub.state == HubSubscription.State.SUSPENDED
    assert gone.state == HubSubscription.State.GONE
    waiting.refresh_from_db()
    assert waiting.status == Delivery.Status.CANCELLED
    assert subscriber.requests("GET") == []
    for callback in callbacks:
        callback()
    (notice,) = subscriber.requests("GET")
    assert notice.query["hub.mode"] == ["denied"]
    assert notice.query["hub.reason"] == [SUSPEND_REASON]
    assert VerificationRequest.objects.get(callback=sub.callback).status == "completed"


def test_resume_action_reactivates_suspended_subscriptions(admin_client):
    suspended = records.subscription(
        state=HubSubscription.State.SUSPENDED,
        consecutive_failures=9,
        failing_since=timezone.now() - timedelta(days=4),
    )
    unsubscribed = records.subscription(state=HubSubscription.State.UNSUBSCRIBED)
    notes = run_action(admin_client, SUBSCRIPTIONS, "resume", [suspended, unsubscribed])
    assert any("Resumed 1 " in note for note in notes)
    suspended.refresh_from_db()
    unsubscribed.refresh_from_db()
    assert suspended.state == HubSubscription.State.ACTIVE
    assert suspended.consecutive_failures == 0
    assert suspended.failing_since is None
    assert unsubscribed.state == HubSubscription.State.UNSUBSCRIBED


def test_replay_failed_action_on_subscriptions(
    admin_client, django_capture_on_commit_callbacks
):
    sub = records.subscription()
    other = records.subscription()
    failed = records.delivery(sub, status=Delivery.Status.FAILED, attempts=7)
    cancelled = records.delivery(sub, status=Delivery.Status.CANCELLED)
    elsewhere = records.delivery(other, status=Delivery.Status.FAILED, attempts=7)
    with django_capture_on_commit_callbacks() as callbacks:
        notes = run_action(admin_client, SUBSCRIPTIONS, "replay_failed", [sub])
    assert any("Queued 1 failed" in note for note in notes)
    statuses = {
        row.pk: row.status
        for row in Delivery.objects.filter(
            pk__in=[failed.pk, cancelled.pk, elsewhere.pk]
        )
    }
    assert statuses == {
        failed.pk: Delivery.Status.PENDING,
        cancelled.pk: Delivery.Status.CANCELLED,
        elsewhere.pk: Delivery.Status.FAILED,
    }
    assert len(callbacks) == 1


def test_actions_need_the_change_permission(client):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_hubsubscription"),
        Permission.objects.get(codename="view_delivery"),
    )
    client.force_login(viewer)
    sub = records.subscription()
    response = client.get(SUBSCRIPTIONS)
    assert response.status_code == 200
    assert 'value="suspend"' not in response.content.decode()
    client.post(SUBSCRIPTIONS, {"action": "suspend", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert sub.state == HubSubscription.State.ACTIVE
    response = client.get(DELIVERIES)
    assert response.status_code == 200
    assert 'value="replay"' not in response.content.decode()


def test_delivery_page_links_to_its_subscription(admin_client):
    sub = records.subscription()
    row = records.delivery(sub)
    response = admin_client.get(
        reverse("admin:push_hub_delivery_change", args=[row.pk])
    )
    link = reverse("admin:push_hub_hubsubscription_change", args=[sub.pk])
    assert link in response.content.decode()


def test_actions_report_only_what_happened(
    admin_client, django_capture_on_commit_callbacks
):
    topic = records.topic()
    active = records.subscription(topic)
    ended = records.subscription(topic, state=HubSubscription.State.EXPIRED)
    with django_capture_on_commit_callbacks():
        notes = run_action(admin_client, SUBSCRIPTIONS, "send_test_delivery", [active])
    assert [n for n in notes if "test deliveries" in n or "Skipped" in n] == [
        "Queued 1 test deliveries."
    ]
    notes = run_action(admin_client, SUBSCRIPTIONS, "send_test_delivery", [ended])
    assert not any("Queued" in note for note in notes)
    assert any("Skipped 1 " in note for note in notes)
    failed = records.delivery(active, status=Delivery.Status.FAILED, attempts=7)
    with django_capture_on_commit_callbacks():
        notes = run_action(admin_client, DELIVERIES, "replay", [failed])
    assert any("Queued 1 " in note for note in notes)
    assert not any("Skipped" in note for note in notes)


@pytest.mark.parametrize("page", ["delete", "history"])
def test_delete_and_history_pages_render_escaped(admin_client, page):
    sub = records.subscription()
    row = records.delivery(sub)
    for obj, name in ((sub, "hubsubscription"), (row, "delivery")):
        url = reverse(f"admin:push_hub_{name}_{page}", args=[obj.pk])
        response = admin_client.get(url)
        assert response.status_code == 200
        assert escape(str(obj)) in response.content.decode()
