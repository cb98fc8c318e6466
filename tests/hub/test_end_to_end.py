"""Subscribe, verify, publish and deliver over real sockets on 127.0.0.1."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_push.hub import engine
from django_push.hub.models import Delivery, HubSubscription
from django_push.links import parse_link_header, urls_for
from django_push.signatures import verify

from .fakes import FakePublisher, FakeSubscriber, Reply
from .forms import post_form

pytestmark = pytest.mark.django_db


def subscribe(client, callbacks, topic, secret="", mode="subscribe"):
    data = {"hub.mode": mode, "hub.callback": callbacks, "hub.topic": topic}
    if secret:
        data["hub.secret"] = secret
    return post_form(client, data)


def test_subscribe_publish_and_signed_delivery(
    client, django_capture_on_commit_callbacks, subscriber, publisher
):
    callback = subscriber.callback("/cb?token=abc")
    topic = publisher.topic()
    with django_capture_on_commit_callbacks(execute=True):
        response = subscribe(client, callback, topic, secret="s3cret")
    assert response.status_code == 202
    [verification] = subscriber.requests("GET")
    assert verification.query["token"] == ["abc"]
    assert verification.query["hub.mode"] == ["subscribe"]
    assert verification.query["hub.topic"] == [topic]
    assert HubSubscription.objects.get().state == HubSubscription.State.ACTIVE

    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(client, {"hub.mode": "publish", "hub.url": topic})
    assert response.status_code == 204
    [post] = subscriber.requests("POST")
    assert post.body == publisher.body
    assert post.headers["Content-Type"] == publisher.content_type
    assert verify("s3cret", post.body, post.headers["X-Hub-Signature"])
    assert post.headers["X-Hub-Signature"].startswith("sha256=")
    links = parse_link_header(post.headers["Link"])
    assert urls_for(links, "self") == [topic]
    assert urls_for(links, "hub") == ["http://testserver" + reverse("push_hub")]
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def publish(client, topic):
    return post_form(client, {"hub.mode": "publish", "hub.url": topic})


def subscribe_all(client, callbacks, topic, secret=""):
    for callback in callbacks:
        assert subscribe(client, callback, topic, secret).status_code == 202


def make_all_due():
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())


@override_settings(PUSH_HUB_RETRY_SCHEDULE=(60, 60, 60))
def test_subscriber_down_for_a_while_then_recovering(
    client, django_capture_on_commit_callbacks, publisher
):
    with FakeSubscriber() as first:
        callback = first.callback()
        port = int(callback.split(":")[2].split("/")[0])
        with django_capture_on_commit_callbacks(execute=True):
            subscribe(client, callback, publisher.topic(), secret="k")
    # The subscriber is down: nothing listens on its port any more.
    with django_capture_on_commit_callbacks(execute=True):
        publish(client, publisher.topic())
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_status_code is None
    make_all_due()
    assert engine.run_due()["delivery_retries"] == 1
    with FakeSubscriber(port=port, deliveries=[Reply(503), Reply(204)]) as back:
        make_all_due()
        assert engine.run_due()["delivery_retries"] == 1
        make_all_due()
        assert engine.run_due()["delivered"] == 1
        posts = back.requests("POST")
    assert len(posts) == 2
    assert all(verify("k", p.body, p.headers["X-Hub-Signature"]) for p in posts)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    assert HubSubscription.objects.get().state == "active"


def test_subscriber_answering_410_is_unsubscribed(
    client, django_capture_on_commit_callbacks, publisher
):
    with FakeSubscriber(deliveries=[Reply(410)]) as gone:
        with django_capture_on_commit_callbacks(execute=True):
            subscribe(client, gone.callback(), publisher.topic())
            publish(client, publisher.topic())
        assert HubSubscription.objects.get().state == "gone"
        publisher.body = b"<feed>2</feed>"
        with django_capture_on_commit_callbacks(execute=True):
            publish(client, publisher.topic())
        assert len(gone.requests("POST")) == 1


@override_settings(PUSH_TIMEOUT=0.5)
@pytest.mark.parametrize(
    "reply",
    [
        Reply(misbehave="hang"),
        Reply(misbehave="reset"),
        Reply(misbehave="garbage"),
        Reply(302, headers={"Location": "http://127.0.0.1:9/elsewhere"}),
        Reply(500, body=b"x" * 300_000),
    ],
    ids=["hang", "reset", "garbage", "redirect", "huge-error"],
)
def test_misbehaving_subscriber_only_costs_its_own_attempt(
    client, django_capture_on_commit_callbacks, publisher, reply
):
    with FakeSubscriber(deliveries=[reply]) as bad, FakeSubscriber() as good:
        with django_capture_on_commit_callbacks(execute=True):
            subscribe_all(client, [bad.callback(), good.callback()], publisher.topic())
            publish(client, publisher.topic())
        assert len(good.requests("POST")) == 1
        assert len(bad.requests("POST")) == 1
    statuses = dict(Delivery.objects.values_list("subscription__callback", "status"))
    assert statuses == {bad.callback(): "pending", good.callback(): "delivered"}
    assert HubSubscription.objects.filter(state="active").count() == 2


def test_huge_success_body_still_counts_as_delivered(
    client, django_capture_on_commit_callbacks, publisher
):
    with (
        FakeSubscriber(deliveries=[Reply(200, body=b"y" * 500_000)]) as chatty,
        django_capture_on_commit_callbacks(execute=True),
    ):
        subscribe(client, chatty.callback(), publisher.topic())
        publish(client, publisher.topic())
    assert Delivery.objects.get().status == "delivered"


@override_settings(PUSH_HUB_DELIVERY_CONCURRENCY=3)
def test_fan_out_to_many_subscribers_on_one_pooled_session(
    client, django_capture_on_commit_callbacks, publisher
):
    with FakeSubscriber() as fake:
        callbacks = [fake.callback(f"/cb/{i}") for i in range(30)]
        with django_capture_on_commit_callbacks(execute=True):
            subscribe_all(client, callbacks, publisher.topic(), secret="s")
            publish(client, publisher.topic())
        posts = fake.requests("POST")
    assert sorted(p.path for p in posts) == sorted(f"/cb/{i}" for i in range(30))
    # Connections are reused: no more than the pool size for 30 requests.
    assert len({p.peer for p in posts}) <= 3
    assert Delivery.objects.filter(status="delivered").count() == 30


def test_unsubscribe_stops_deliveries(
    client, django_capture_on_commit_callbacks, subscriber, publisher
):
    with django_capture_on_commit_callbacks(execute=True):
        subscribe(client, subscriber.callback(), publisher.topic())
        subscribe(client, subscriber.callback(), publisher.topic(), mode="unsubscribe")
        publish(client, publisher.topic())
    assert [r.query["hub.mode"] for r in subscriber.requests("GET")] == [
        ["subscribe"],
        ["unsubscribe"],
    ]
    assert subscriber.requests("POST") == []


def test_verification_refused_by_subscriber_creates_nothing(
    client, django_capture_on_commit_callbacks, publisher
):
    with (
        FakeSubscriber(verify=404) as refusing,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = subscribe(client, refusing.callback(), publisher.topic())
    assert response.status_code == 202
    assert not HubSubscription.objects.exists()


def test_topic_without_content_type_is_sent_as_octet_stream(
    client, django_capture_on_commit_callbacks, subscriber
):
    with (
        FakePublisher(body=b"\x00\x01raw", content_type=None) as raw,
        django_capture_on_commit_callbacks(execute=True),
    ):
        subscribe(client, subscriber.callback(), raw.topic())
        publish(client, raw.topic())
    [post] = subscriber.requests("POST")
    assert post.headers["Content-Type"] == "application/octet-stream"
    assert post.body == b"\x00\x01raw"
    assert "X-Hub-Signature" not in post.headers


def legacy_subscribe(client, callback, topic, verify):
    return post_form(
        client,
        [
            ("hub.mode", "subscribe"),
            ("hub.callback", callback),
            ("hub.topic", topic),
            *[("hub.verify", v) for v in verify],
            ("hub.verify_token", "tok-03"),
            ("hub.lease_seconds", ""),
        ],
    )


@override_settings(PUSH_HUB_LEGACY_03=True)
def test_legacy_sync_verification_answers_204(client, subscriber, publisher):
    response = legacy_subscribe(
        client, subscriber.callback(), publisher.topic(), ["bogus", "sync", "async"]
    )
    assert response.status_code == 204
    [verification] = subscriber.requests("GET")
    assert verification.query["hub.verify_token"] == ["tok-03"]
    assert HubSubscription.objects.get().state == "active"


@override_settings(PUSH_HUB_LEGACY_03=True)
def test_legacy_sync_verification_failure_answers_409(client, publisher):
    with FakeSubscriber(verify=500) as failing:
        response = legacy_subscribe(
            client, failing.callback(), publisher.topic(), ["sync"]
        )
        assert len(failing.requests("GET")) == 1
    assert response.status_code == 409
    assert not HubSubscription.objects.exists()


@override_settings(PUSH_HUB_LEGACY_03=True)
@pytest.mark.parametrize(("verify", "status"), [(["async,sync"], 202), (["x"], 400)])
def test_legacy_async_and_unknown_modes(client, subscriber, publisher, verify, status):
    response = legacy_subscribe(
        client, subscriber.callback(), publisher.topic(), verify
    )
    assert response.status_code == status
    assert subscriber.requests("GET") == []


def test_legacy_parameters_are_ignored_by_default(client, subscriber, publisher):
    response = legacy_subscribe(client, subscriber.callback(), publisher.topic(), ["x"])
    assert response.status_code == 202
