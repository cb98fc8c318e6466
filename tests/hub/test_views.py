"""The hub endpoint: validation, answers, and nothing stored for bad input."""

from __future__ import annotations

import base64

import pytest
from django.test import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_push.hub.models import (
    HubSubscription,
    Publish,
    Topic,
    VerificationRequest,
)

from .forms import FORM, post_form

pytestmark = pytest.mark.django_db

CALLBACK = "http://127.0.0.1:9/callback"
TOPIC = "http://127.0.0.1:9/feed"


def nothing_stored() -> bool:
    return not (
        VerificationRequest.objects.exists()
        or HubSubscription.objects.exists()
        or Publish.objects.exists()
        or Topic.objects.exists()
    )


def sub(**extra: str) -> dict[str, str]:
    data = {"hub.mode": "subscribe", "hub.callback": CALLBACK, "hub.topic": TOPIC}
    data.update(extra)
    return data


def test_get_shows_a_short_text_page(client):
    response = client.get(reverse("push_hub"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"hub.mode" in response.content


def test_other_methods_are_not_allowed(client):
    assert client.put(reverse("push_hub")).status_code == 405
    assert client.delete(reverse("push_hub")).status_code == 405


def test_valid_subscribe_is_accepted_and_queued_for_verification(client):
    response = post_form(client, sub(**{"hub.secret": "x" * 199}))
    assert response.status_code == 202
    row = VerificationRequest.objects.get()
    assert (row.mode, row.topic, row.callback) == ("subscribe", TOPIC, CALLBACK)
    assert row.secret == "x" * 199
    assert not HubSubscription.objects.exists()


def test_media_type_is_case_insensitive(client):
    body = "hub.mode=subscribe&hub.callback=http://a/cb&hub.topic=http://b/feed"
    response = client.post(
        reverse("push_hub"),
        body,
        content_type="Application/X-WWW-Form-Urlencoded; charset=UTF-8",
    )
    assert response.status_code == 202


def test_subscribe_ignores_unknown_parameters(client):
    response = post_form(client, sub(foo="bar", **{"hub.foo": "hub.bar"}))
    assert response.status_code == 202


def test_csrf_is_not_required(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post_form(strict, sub()).status_code == 202


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("multipart/form-data; boundary=x", 415),
        ("application/json", 415),
        ("text/plain", 415),
        (FORM + "; charset=latin-1", 415),
    ],
)
def test_wrong_content_type_is_refused(client, content_type, status):
    body = "hub.mode=subscribe&hub.callback=http://a/&hub.topic=http://b/"
    response = client.post(reverse("push_hub"), body, content_type=content_type)
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/plain")
    assert nothing_stored()


@pytest.mark.parametrize(
    "body",
    [
        b"hub.mode=subscribe&hub.callback=http%3A%2F%2Fa%2F%FF&hub.topic=http://b/",
        b"hub.mode=subscribe&hub.callback=http://a/\xff&hub.topic=http://b/",
    ],
)
def test_non_utf8_is_refused(client, body):
    response = client.post(reverse("push_hub"), body, content_type=FORM)
    assert response.status_code == 400
    assert nothing_stored()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"foo": "bar"}, b"hub.mode is missing"),
        ({"hub.mode": "subscribe"}, b"hub.callback is missing"),
        ({"hub.mode": "dance"}, b"hub.mode must be"),
        (sub(**{"hub.callback": ""}), b"hub.callback is missing"),
        (sub(**{"hub.topic": ""}), b"hub.topic is missing"),
        (sub(**{"hub.callback": "/relative"}), b"hub.callback must be"),
        (sub(**{"hub.callback": "ftp://example.com/"}), b"hub.callback must be"),
        (sub(**{"hub.callback": "javascript:alert(1)"}), b"hub.callback must be"),
        (sub(**{"hub.topic": "mailto:a@example.com"}), b"hub.topic must be"),
        (sub(**{"hub.callback": CALLBACK + "#frag"}), b"fragment"),
        (sub(**{"hub.callback": "http://u:p@127.0.0.1/"}), b"credentials"),
        (sub(**{"hub.callback": "http://127.0.0.1:99999/"}), b"not a valid URL"),
        (sub(**{"hub.callback": "http://127.0.0.1:0/"}), b"invalid port"),
        (sub(**{"hub.callback": "http://127.0.0.1/a b"}), b"whitespace"),
        (sub(**{"hub.callback": "http://127.0.0.1/" + "a" * 1100}), b"longer"),
        (sub(**{"hub.secret": "x" * 200}), b"less than 200 bytes"),
        (sub(**{"hub.secret": "\u00e9" * 100}), b"less than 200 bytes"),
        (sub(**{"hub.lease_seconds": "-5"}), b"hub.lease_seconds"),
        (sub(**{"hub.lease_seconds": "0"}), b"hub.lease_seconds"),
        (sub(**{"hub.lease_seconds": "ten"}), b"hub.lease_seconds"),
        (sub(**{"hub.lease_seconds": "1e9"}), b"hub.lease_seconds"),
        (sub(**{"hub.lease_seconds": "9" * 40}), b"hub.lease_seconds"),
        ({"hub.mode": "publish"}, b"hub.url or hub.topic is missing"),
        ({"hub.mode": "publish", "hub.url": "/feed"}, b"must be"),
    ],
)
def test_malformed_requests_get_a_short_reason(client, data, fragment):
    response = post_form(client, data)
    assert response.status_code == 400
    assert fragment in response.content
    assert len(response.content) < 200
    assert nothing_stored()


@pytest.mark.parametrize(
    "name", ["hub.mode", "hub.callback", "hub.topic", "hub.secret"]
)
def test_duplicated_parameters_are_refused(client, name):
    pairs = [
        *sub(**{"hub.secret": "s"}).items(),
        (name, sub(**{"hub.secret": "s"})[name]),
    ]
    response = post_form(client, pairs)
    assert response.status_code == 400
    assert b"more than once" in response.content
    assert nothing_stored()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_oversized_body_is_refused(client):
    response = post_form(client, sub(**{"hub.secret": "x" * 150}))
    assert response.status_code == 413
    assert nothing_stored()


def test_lease_is_clamped_not_refused(client):
    with override_settings(PUSH_HUB_MIN_LEASE=100, PUSH_HUB_MAX_LEASE=1000):
        post_form(client, sub(**{"hub.lease_seconds": "5"}))
        post_form(client, sub(**{"hub.lease_seconds": "99999"}))
        post_form(client, sub(**{"hub.callback": CALLBACK + "?x"}))
    leases = list(
        VerificationRequest.objects.order_by("pk").values_list(
            "lease_seconds", flat=True
        )
    )
    assert leases[:2] == [100, 1000]
    assert 100 <= leases[2] <= 1000


def test_unreserved_characters_are_decoded_for_the_key(client):
    response = post_form(
        client,
        sub(
            **{
                "hub.topic": "http://127.0.0.1:9/%7Euser/a%2Fb",
                "hub.callback": CALLBACK,
            }
        ),
    )
    assert response.status_code == 202
    row = VerificationRequest.objects.get()
    assert row.topic == "http://127.0.0.1:9/~user/a%2Fb"
    assert row.topic_as_sent == "http://127.0.0.1:9/%7Euser/a%2Fb"


def test_unsubscribe_ignores_the_lease(client):
    post_form(client, sub(**{"hub.mode": "unsubscribe", "hub.lease_seconds": "xx"}))
    row = VerificationRequest.objects.get()
    assert row.mode == "unsubscribe"
    assert row.lease_seconds is None


def test_private_callback_is_refused_when_not_allowed(client):
    with override_settings(PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False):
        response = post_form(client, sub(**{"hub.callback": "http://10.0.0.8/cb"}))
    assert response.status_code == 400
    assert b"private" in response.content
    assert nothing_stored()


def test_refused_topic_gets_a_denied_notice_not_a_subscription(client):
    with override_settings(PUSH_HUB_TOPIC_POLICY=["https://example.com/"]):
        response = post_form(client, sub(**{"hub.secret": "kept-out"}))
    assert response.status_code == 202
    row = VerificationRequest.objects.get()
    assert row.mode == "denied"
    assert row.reason
    assert row.secret == ""


def test_publish_accepts_repeated_and_comma_separated_topics(client):
    response = post_form(
        client,
        [
            ("hub.mode", "publish"),
            ("hub.url", TOPIC + "1"),
            ("hub.url", TOPIC + "2, " + TOPIC + "3"),
            ("hub.topic", TOPIC + "1"),
            ("hub.url[]", TOPIC + "4"),
        ],
    )
    assert response.status_code == 204
    urls = set(Topic.objects.values_list("url", flat=True))
    assert urls == {TOPIC + str(i) for i in range(1, 5)}
    assert Publish.objects.count() == 4


def test_publish_refuses_topics_outside_the_policy(client):
    with override_settings(PUSH_HUB_TOPIC_POLICY=["https://example.com/"]):
        response = post_form(client, {"hub.mode": "publish", "hub.url": TOPIC})
    assert response.status_code == 400
    assert nothing_stored()


@override_settings(PUSH_HUB_PUBLISHER_AUTH="t0ken")
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"Authorization": "Bearer nope"}, 403),
        ({"Authorization": "Basic !!!"}, 403),
        ({"Authorization": "Bearer t0ken"}, 204),
        ({"Authorization": "Basic " + base64.b64encode(b"any:t0ken").decode()}, 204),
    ],
)
def test_publisher_token(client, headers, status):
    response = post_form(client, {"hub.mode": "publish", "hub.url": TOPIC}, **headers)
    assert response.status_code == status
    assert Publish.objects.exists() == (status == 204)


def allow_header(request) -> bool:
    return request.headers.get("X-Publisher") == "us"


@override_settings(PUSH_HUB_PUBLISHER_AUTH=allow_header)
def test_publisher_callable(client):
    data = {"hub.mode": "publish", "hub.url": TOPIC}
    assert post_form(client, data).status_code == 403
    assert post_form(client, data, **{"X-Publisher": "us"}).status_code == 204


def test_hub_url_setting_wins_over_the_request(client):
    with override_settings(PUSH_HUB_URL="https://hub.example.com/hub/"):
        post_form(client, sub())
    assert VerificationRequest.objects.get().hub_url == "https://hub.example.com/hub/"


form_values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mode=st.sampled_from(["subscribe", "unsubscribe", "publish", "", "x"]),
    callback=form_values,
    topic=form_values,
    lease=form_values,
    secret=form_values,
    raw=st.binary(max_size=80),
)
def test_arbitrary_input_never_errors_and_bad_input_stores_nothing(
    client, mode, callback, topic, lease, secret, raw
):
    data = {
        "hub.mode": mode,
        "hub.callback": callback,
        "hub.topic": topic,
        "hub.url": topic,
        "hub.lease_seconds": lease,
        "hub.secret": secret,
    }
    before = VerificationRequest.objects.count() + Publish.objects.count()
    response = post_form(client, data)
    assert response.status_code in (202, 204, 400, 415)
    after = VerificationRequest.objects.count() + Publish.objects.count()
    if response.status_code >= 400:
        assert after == before
        assert response["Content-Type"].startswith("text/plain")
    else:
        assert after > before
    raw_response = client.post(reverse("push_hub"), raw, content_type=FORM)
    assert raw_response.status_code < 500
