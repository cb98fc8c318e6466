from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.dispatch import Signal
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_push.subscriber import signals
from django_push.subscriber.models import Subscription

from .conftest import TOPIC, active, callback_path, make_subscription, snapshot

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-value"
BODY = b"<feed xmlns='http://www.w3.org/2005/Atom'><title>x</title></feed>"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        self.calls.append({"sender": sender, **kwargs})


@pytest.fixture
def record() -> Iterator[Any]:
    connected: list[tuple[Signal, Recorder]] = []

    def connect(signal: Signal) -> Recorder:
        recorder = Recorder()
        signal.connect(recorder, weak=False)
        connected.append((signal, recorder))
        return recorder

    yield connect
    for signal, recorder in connected:
        signal.disconnect(recorder)


def sign(body: bytes, algorithm: str = "sha256", secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    return f"{algorithm}={digest}"


def pending(mode: str = "subscribe", **fields: Any) -> Subscription:
    return make_subscription(pending_mode=mode, requested_at=timezone.now(), **fields)


def verify(client: Client, sub: Subscription | int, **params: str) -> Any:
    query = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "abc"}
    query.update(params)
    return client.get(callback_path(sub), {k: v for k, v in query.items() if v})


# Verification of intent (GET) ------------------------------------------------


def test_callback_echoes_challenge_for_pending_subscribe(client, record):
    sub = pending()
    seen = record(signals.verified)
    before = timezone.now()
    response = verify(
        client, sub, **{"hub.challenge": "ch4ll", "hub.lease_seconds": "3600"}
    )
    assert response.status_code == 200
    assert response.content == b"ch4ll"
    assert response["Content-Type"].startswith("text/plain")
    sub.refresh_from_db()
    assert sub.state == Subscription.State.ACTIVE
    assert sub.verified is True
    assert sub.pending_mode == ""
    assert sub.lease_seconds == 3600
    assert before + timedelta(seconds=3600) <= sub.lease_expiration
    assert sub.lease_expiration <= timezone.now() + timedelta(seconds=3600)
    assert [c["sender"].pk for c in seen.calls] == [sub.pk]
    assert seen.calls[0]["lease_seconds"] == 3600


def test_challenge_is_echoed_as_text_not_html(client):
    sub = pending()
    attack = "<script>alert(1)</script>"
    response = verify(client, sub, **{"hub.challenge": attack})
    assert response.content == attack.encode()
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_verification_without_lease_confirms_with_unknown_lease(client):
    sub = pending()
    response = verify(client, sub)
    assert response.status_code == 200
    sub.refresh_from_db()
    assert sub.state == Subscription.State.ACTIVE
    assert sub.lease_seconds is None
    assert sub.lease_expiration is None


def test_callback_rejects_unrequested_subscribe_verification(client, record):
    sub = active()
    seen = record(signals.verified)
    before = snapshot(sub)
    response = verify(client, sub, **{"hub.lease_seconds": "999999"})
    assert response.status_code == 404
    assert snapshot(sub) == before
    assert seen.calls == []


def test_callback_rejects_unrequested_unsubscribe(client, record):
    sub = active()
    seen = record(signals.unsubscribed)
    before = snapshot(sub)
    response = verify(client, sub, **{"hub.mode": "unsubscribe"})
    assert response.status_code == 404
    assert snapshot(sub) == before
    assert seen.calls == []


@pytest.mark.parametrize(
    "params",
    [
        {"hub.topic": "https://elsewhere.example/feed"},
        {"hub.mode": "unsubscribe"},
    ],
)
def test_callback_rejects_mismatching_verification(client, params):
    sub = pending()
    before = snapshot(sub)
    response = verify(client, sub, **params)
    assert response.status_code == 404
    assert snapshot(sub) == before


@pytest.mark.parametrize("pk", [999, 2**70])
def test_verification_for_unknown_subscription_is_404(client, pk):
    response = verify(client, pk)
    assert response.status_code == 404


def test_pending_unsubscribe_is_confirmed(client, record):
    sub = active(pending_mode="unsubscribe", requested_at=timezone.now())
    seen = record(signals.unsubscribed)
    # WebSub 5.3: lease_seconds may come along on unsubscribe and is ignored.
    response = verify(
        client, sub, **{"hub.mode": "unsubscribe", "hub.lease_seconds": "junk"}
    )
    assert response.status_code == 200
    assert response.content == b"abc"
    sub.refresh_from_db()
    assert sub.state == Subscription.State.UNSUBSCRIBED
    assert sub.verified is False
    assert sub.pending_mode == ""
    assert [c["sender"].pk for c in seen.calls] == [sub.pk]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"hub.topic": TOPIC, "hub.challenge": "x"},
        {"hub.mode": "subscribe", "hub.challenge": "x"},
        {"hub.mode": "subscribe", "hub.topic": TOPIC},
        {"hub.mode": "nonsense", "hub.topic": TOPIC, "hub.challenge": "x"},
        {
            "hub.mode": "subscribe",
            "hub.topic": TOPIC,
            "hub.challenge": "x",
            "hub.lease_seconds": "abc",
        },
        {
            "hub.mode": "subscribe",
            "hub.topic": TOPIC,
            "hub.challenge": "x",
            "hub.lease_seconds": "0",
        },
        {
            "hub.mode": "subscribe",
            "hub.topic": TOPIC,
            "hub.challenge": "x",
            "hub.lease_seconds": "9" * 40,
        },
        {
            "hub.mode": "subscribe",
            "hub.topic": TOPIC,
            "hub.challenge": "x",
            "hub.lease_seconds": "-5",
        },
        {"hub.mode": "denied"},
    ],
)
def test_malformed_verification_is_400_without_state_change(client, query):
    sub = pending()
    before = snapshot(sub)
    response = client.get(callback_path(sub), query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert snapshot(sub) == before


def test_repeated_parameter_is_400(client):
    sub = pending()
    before = snapshot(sub)
    url = callback_path(sub) + (
        f"?hub.mode=subscribe&hub.topic={TOPIC}&hub.challenge=a&hub.challenge=b"
    )
    response = client.get(url)
    assert response.status_code == 400
    assert snapshot(sub) == before


def test_denial_is_recorded(client, record):
    sub = active()
    seen = record(signals.denied)
    response = client.get(
        callback_path(sub),
        {"hub.mode": "denied", "hub.topic": TOPIC, "hub.reason": "policy says no"},
    )
    assert response.status_code == 200
    assert response.content == b""
    sub.refresh_from_db()
    assert sub.state == Subscription.State.DENIED
    assert sub.denied_reason == "policy says no"
    assert seen.calls[0]["reason"] == "policy says no"
    assert sub not in Subscription.objects.due_for_renewal(
        timezone.now() + timedelta(days=30)
    )


def test_denied_subscription_still_accepts_content_until_lease_end(client, record):
    sub = active(state=Subscription.State.DENIED)
    seen = record(signals.updated)
    assert deliver(client, sub).status_code == 202
    assert len(seen.calls) == 1
    Subscription.objects.filter(pk=sub.pk).update(
        lease_expiration=timezone.now() - timedelta(seconds=1)
    )
    assert deliver(client, sub).status_code == 202
    assert len(seen.calls) == 1


def test_denial_for_other_topic_is_404(client):
    sub = active()
    before = snapshot(sub)
    response = client.get(
        callback_path(sub), {"hub.mode": "denied", "hub.topic": "https://x.example/"}
    )
    assert response.status_code == 404
    assert snapshot(sub) == before


# Content distribution (POST) -------------------------------------------------


def deliver(
    client: Client, sub: Subscription | int, body: bytes = BODY, **headers: str
) -> Any:
    return client.post(
        callback_path(sub), body, content_type="application/atom+xml", **headers
    )


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_signed_notification_fires_updated(client, record, algorithm):
    sub = active(secret=SECRET)
    seen = record(signals.updated)
    response = deliver(
        client,
        sub,
        headers={
            "X-Hub-Signature": sign(BODY, algorithm),
            "Link": f'<{TOPIC}>; rel="self", <https://hub.example.com/>; rel="hub"',
        },
    )
    assert 200 <= response.status_code < 300
    assert len(seen.calls) == 1
    call = seen.calls[0]
    assert call["sender"].pk == sub.pk
    assert call["notification"] == BODY
    assert call["request"].body == BODY
    assert call["links"] == [
        {"url": TOPIC, "rel": "self"},
        {"url": "https://hub.example.com/", "rel": "hub"},
    ]


def test_uppercase_hex_signature_is_accepted(client, record):
    sub = active(secret=SECRET)
    seen = record(signals.updated)
    algorithm, _, digest = sign(BODY).partition("=")
    deliver(client, sub, headers={"X-Hub-Signature": f"{algorithm}={digest.upper()}"})
    assert len(seen.calls) == 1


def test_notification_costs_one_query(client, django_assert_num_queries):
    sub = active(secret=SECRET, last_notification_at=timezone.now())
    with django_assert_num_queries(1):
        response = deliver(client, sub, headers={"X-Hub-Signature": sign(BODY)})
    assert response.status_code == 202


def test_last_notification_time_is_kept_once_a_minute(client):
    old = timezone.now() - timedelta(hours=1)
    sub = active(last_notification_at=old)
    with CaptureQueriesContext(connection) as queries:
        deliver(client, sub)
    assert len(queries) == 2
    sub.refresh_from_db()
    assert sub.last_notification_at > old


def test_notification_without_link_header_has_links_none(client, record):
    sub = active()
    seen = record(signals.updated)
    deliver(client, sub)
    assert seen.calls[0]["links"] is None


def test_missing_signature_is_403_and_dropped(client, record):
    sub = active(secret=SECRET)
    seen = record(signals.updated)
    before = snapshot(sub)
    response = deliver(client, sub)
    assert response.status_code == 403
    assert seen.calls == []
    assert snapshot(sub) == before


@override_settings(PUSH_MISSING_SIGNATURE_STATUS=400, PUSH_INVALID_SIGNATURE_STATUS=401)
def test_signature_statuses_are_configurable(client, record):
    sub = active(secret=SECRET)
    seen = record(signals.updated)
    assert deliver(client, sub).status_code == 400
    bad = deliver(client, sub, headers={"X-Hub-Signature": sign(b"other")})
    assert bad.status_code == 401
    assert seen.calls == []


@pytest.mark.parametrize(
    "header",
    [
        sign(b"another body"),
        sign(BODY, secret="wrong"),
        "md5=" + hashlib.md5(BODY).hexdigest(),  # noqa: S324
        "sha256",
        "garbage",
        "sha256=zz",
        "sha256=\u00e9\u00e9",
    ],
)
def test_wrong_signature_is_acknowledged_and_dropped(client, record, header):
    sub = active(secret=SECRET)
    seen = record(signals.updated)
    before = snapshot(sub)
    response = deliver(client, sub, headers={"X-Hub-Signature": header})
    assert response.status_code == 202
    assert seen.calls == []
    assert snapshot(sub) == before


def test_signature_is_ignored_without_secret(client, record):
    sub = active(secret="")
    seen = record(signals.updated)
    deliver(client, sub, headers={"X-Hub-Signature": "sha1=whatever"})
    assert len(seen.calls) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"state": Subscription.State.UNSUBSCRIBED, "verified": False},
        {"state": Subscription.State.DENIED, "verified": False},
        {"state": Subscription.State.UNVERIFIED, "verified": False},
    ],
)
def test_notification_for_ended_subscription_is_410(client, record, fields):
    sub = active(**fields)
    seen = record(signals.updated)
    assert deliver(client, sub).status_code == 410
    assert seen.calls == []


@pytest.mark.parametrize("pk", [424242, 2**70])
def test_notification_for_unknown_subscription_is_410(client, pk):
    assert deliver(client, pk).status_code == 410


def test_notification_while_pending_is_acknowledged_and_ignored(client, record):
    sub = pending()
    seen = record(signals.updated)
    assert deliver(client, sub).status_code == 202
    assert seen.calls == []


def test_notification_after_lease_end_is_ignored(client, record):
    sub = active(lease_expiration=timezone.now() - timedelta(minutes=1))
    seen = record(signals.updated)
    assert deliver(client, sub).status_code == 202
    assert seen.calls == []


@override_settings(PUSH_MAX_BODY_SIZE=100)
def test_oversized_body_is_413(client, record):
    sub = active()
    seen = record(signals.updated)
    assert deliver(client, sub, body=b"x" * 101).status_code == 413
    assert seen.calls == []
    assert deliver(client, sub, body=b"x" * 100).status_code == 202


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=50)
def test_body_over_django_limit_is_413(client, record):
    sub = active()
    seen = record(signals.updated)
    assert deliver(client, sub, body=b"x" * 51).status_code == 413
    assert seen.calls == []


@pytest.mark.parametrize("method", ["head", "put", "delete", "patch", "options"])
def test_other_methods_are_405(client, method):
    sub = active()
    before = snapshot(sub)
    response = getattr(client, method)(callback_path(sub))
    assert response.status_code == 405
    assert snapshot(sub) == before


def test_callback_needs_no_csrf_token(record):
    sub = active()
    seen = record(signals.updated)
    response = deliver(Client(enforce_csrf_checks=True), sub)
    assert response.status_code == 202
    assert len(seen.calls) == 1


# Hostile input never breaks the callback --------------------------------------

param_names = st.sampled_from(
    [
        "hub.mode",
        "hub.topic",
        "hub.challenge",
        "hub.lease_seconds",
        "hub.reason",
        "hub.verify_token",
        "x",
    ]
)
param_values = st.one_of(
    st.sampled_from(["subscribe", "unsubscribe", "denied", "", "0", "-1", "1e9"]),
    st.text(max_size=40),
    st.integers().map(str),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    query=st.lists(st.tuples(param_names, param_values), max_size=6),
    signature=st.one_of(st.none(), st.text(max_size=80)),
    link=st.one_of(st.none(), st.text(max_size=80)),
    body=st.binary(max_size=200),
)
def test_hostile_callback_input_never_errors_or_changes_state(
    client, query, signature, link, body
):
    # No pending intent and a topic the generated values cannot match: the
    # only acceptable outcomes are refusals and dropped notifications.
    sub = active(secret=SECRET, topic="https://fixed.example/topic")
    seen = Recorder()
    signals.updated.connect(seen, weak=False)
    try:
        before = snapshot(sub)
        got = client.get(callback_path(sub), query)
        headers = {}
        if signature is not None:
            headers["X-Hub-Signature"] = signature.replace("\n", " ")
        if link is not None:
            headers["Link"] = link.replace("\n", " ")
        posted = client.post(
            callback_path(sub),
            body,
            content_type="application/octet-stream",
            headers=headers,
        )
        after = snapshot(sub)
    finally:
        signals.updated.disconnect(seen)
        Subscription.objects.filter(pk=sub.pk).delete()
    assert got.status_code in (400, 404)
    assert posted.status_code in (202, 403)
    assert seen.calls == []
    assert after == before


def test_non_utf8_query_is_refused_without_state_change(client):
    sub = pending()
    before = snapshot(sub)
    response = client.get(
        callback_path(sub) + "?hub.mode=%FF%FE&hub.topic=%C3%28&hub.challenge=%80"
    )
    assert response.status_code == 400
    response = client.get(
        callback_path(sub) + "?hub.mode=subscribe&hub.topic=%C3%28&hub.challenge=%80"
    )
    assert response.status_code == 404
    assert snapshot(sub) == before


def test_repeated_verification_confirms_once(client, record):
    sub = pending()
    seen = record(signals.verified)
    assert verify(client, sub).status_code == 200
    assert verify(client, sub).status_code == 404
    assert len(seen.calls) == 1


def test_handle_subscription_may_answer(rf):
    from django.http import HttpResponse

    from django_push.subscriber.views import CallbackView

    class Answering(CallbackView):
        def handle_subscription(self) -> HttpResponse:
            return HttpResponse("custom", status=200)

    sub = active()
    request = rf.post(callback_path(sub), b"x", content_type="text/plain")
    response = Answering.as_view()(request, pk=sub.pk)
    assert (response.status_code, response.content) == (200, b"custom")


def test_links_given_to_receivers_are_fresh_each_time(client, record):
    sub = active()
    seen = record(signals.updated)
    link = f'<{TOPIC}>; rel="self"'
    deliver(client, sub, headers={"Link": link})
    seen.calls[0]["links"][0]["url"] = "mutated by a receiver"
    deliver(client, sub, headers={"Link": link})
    assert seen.calls[1]["links"] == [{"url": TOPIC, "rel": "self"}]
