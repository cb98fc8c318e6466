from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.urls import reverse
from django.utils import timezone

from django_push.subscriber.models import Subscription

from .conftest import HUB, TOPIC, active, make_subscription

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:subscriber_subscription_changelist")


def test_changelist_shows_topic_hub_state_and_lease(admin_client):
    sub = active(secret="changelist-secret")
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert TOPIC in page
    assert HUB in page
    assert str(Subscription.State.ACTIVE.label) in page
    assert str(sub.lease_expiration.year) in page
    assert "changelist-secret" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "denied"}, {"denied"}),
        ({"expired": "yes"}, {"expired"}),
        ({"expired": "no"}, {"live", "denied"}),
        ({"hub": "https://other.example/"}, {"denied"}),
        ({"q": "live"}, {"live"}),
    ],
)
def test_changelist_filters_and_search(admin_client, query, expected):
    now = timezone.now()
    active(topic=f"{TOPIC}live", lease_expiration=now + timedelta(days=1))
    active(topic=f"{TOPIC}expired", lease_expiration=now - timedelta(days=1))
    make_subscription(
        topic=f"{TOPIC}denied", hub="https://other.example/", state="denied"
    )
    response = admin_client.get(CHANGELIST, query)
    assert response.status_code == 200
    shown = {
        obj.topic.removeprefix(TOPIC) for obj in response.context["cl"].result_list
    }
    assert shown == expected


def test_add_page_creates_and_subscribes(
    admin_client, mocked, django_capture_on_commit_callbacks
):
    mocked.post(HUB, status=202)
    add = reverse("admin:subscriber_subscription_add")
    assert admin_client.get(add).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(add, {"hub": HUB, "topic": TOPIC})
    assert response.status_code == 302
    sub = Subscription.objects.get()
    assert sub.secret
    sent = parse_qs(str(mocked.calls[0].request.body))
    assert sent["hub.topic"] == [TOPIC]
    assert sent["hub.secret"] == [sub.secret]
    assert Subscription.objects.get().pending_mode == "subscribe"


def test_change_page_keeps_protocol_fields_read_only(admin_client):
    sub = active(secret="topsecret")
    url = reverse("admin:subscriber_subscription_change", args=[sub.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"topsecret" not in response.content
    form = response.context["adminform"].form
    assert "state" not in form.fields
    assert "topic" not in form.fields
    response = admin_client.post(
        url, {"state": "denied", "topic": "https://evil.example/", "hub": HUB}
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.state == Subscription.State.ACTIVE
    assert sub.topic == TOPIC


def test_renew_action_enqueues_subscribe_requests(
    admin_client, mocked, django_capture_on_commit_callbacks
):
    subs = [active(topic=f"{TOPIC}{n}") for n in range(2)]
    mocked.post(HUB, status=202)
    mocked.post(HUB, status=202)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            CHANGELIST,
            {"action": "renew", "_selected_action": [s.pk for s in subs]},
        )
        # Nothing is sent while the admin request runs.
        assert len(mocked.calls) == 0
    assert response.status_code == 302
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    modes = [parse_qs(str(c.request.body))["hub.mode"] for c in mocked.calls]
    assert modes == [["subscribe"], ["subscribe"]]


def test_unsubscribe_action_enqueues_unsubscribe_requests(
    admin_client, mocked, django_capture_on_commit_callbacks
):
    sub = active()
    mocked.post(HUB, status=202)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            CHANGELIST, {"action": "unsubscribe", "_selected_action": [sub.pk]}
        )
    assert parse_qs(str(mocked.calls[0].request.body))["hub.mode"] == ["unsubscribe"]
    sub.refresh_from_db()
    assert sub.pending_mode == "unsubscribe"
    assert sub.state == Subscription.State.ACTIVE
