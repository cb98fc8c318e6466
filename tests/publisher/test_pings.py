"""ping_hub on the wire: parameters, hubs, status handling, errors."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_push import USER_AGENT
from django_push.exceptions import PublishError, RequestError
from django_push.publisher import ping_hub
from django_push.publisher.pings import is_local_hub

HUB = "https://hub.example.com/"
HUB2 = "https://hub2.example.com/publish"
TOPIC = "https://example.com/feed/"
TOPIC2 = "https://example.com/feed.json"


@pytest.fixture
def wire():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def form(call) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body if isinstance(body, str) else body.decode())


def test_ping_sends_mode_url_and_topic_with_our_user_agent(wire):
    wire.post(HUB, status=204)
    response = ping_hub(TOPIC, hub_url=HUB)
    assert response.status_code == 204
    (call,) = wire.calls
    assert form(call) == {
        "hub.mode": ["publish"],
        "hub.url": [TOPIC],
        "hub.topic": [TOPIC],
    }
    assert call.request.headers["User-Agent"] == USER_AGENT
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_one_ping_can_announce_several_topics(wire):
    wire.post(HUB, status=204)
    ping_hub([TOPIC, TOPIC2, TOPIC], hub_url=HUB)
    (call,) = wire.calls
    assert form(call)["hub.url"] == [TOPIC, TOPIC2]
    assert form(call)["hub.topic"] == [TOPIC, TOPIC2]


@pytest.mark.parametrize("status", [200, 202, 204])
def test_any_2xx_is_success(wire, status):
    wire.post(HUB, status=status)
    assert ping_hub(TOPIC, hub_url=HUB).status_code == status


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_error_status_raises_publish_error_carrying_the_response(wire, status):
    wire.post(HUB, status=status, body="nope")
    with pytest.raises(PublishError) as info:
        ping_hub(TOPIC, hub_url=HUB)
    assert info.value.status_code == status
    assert info.value.response is not None
    assert info.value.url == HUB
    assert str(status) in str(info.value)


def test_redirects_are_not_followed(wire):
    wire.post(HUB, status=302, headers={"Location": HUB2})
    with pytest.raises(PublishError) as info:
        ping_hub(TOPIC, hub_url=HUB)
    assert info.value.status_code == 302
    assert len(wire.calls) == 1


def test_network_error_raises_publish_error_without_response(wire):
    wire.post(HUB, body=requests.ConnectionError("refused"))
    with pytest.raises(PublishError) as info:
        ping_hub(TOPIC, hub_url=HUB)
    assert info.value.response is None
    assert isinstance(info.value.__cause__, RequestError)


def test_garbage_body_with_2xx_is_success(wire):
    wire.post(HUB, status=200, body=b"\x00\xff<<not xml" * 20000)
    assert ping_hub(TOPIC, hub_url=HUB).status_code == 200


@override_settings(PUSH_HUB=HUB)
def test_push_hub_string_is_the_default(wire):
    wire.post(HUB, status=204)
    ping_hub(TOPIC)
    assert [call.request.url for call in wire.calls] == [HUB]


@override_settings(PUSH_HUB=[HUB, HUB2])
def test_every_hub_of_push_hub_is_pinged(wire):
    wire.post(HUB, status=202)
    wire.post(HUB2, status=204)
    response = ping_hub(TOPIC)
    assert response.status_code == 202
    assert [call.request.url for call in wire.calls] == [HUB, HUB2]


@override_settings(PUSH_HUB=[HUB, HUB2])
def test_a_failing_hub_does_not_stop_the_others(wire):
    wire.post(HUB, status=500)
    wire.post(HUB2, status=204)
    with pytest.raises(PublishError) as info:
        ping_hub(TOPIC)
    assert info.value.url == HUB
    assert [call.request.url for call in wire.calls] == [HUB, HUB2]


@override_settings(PUSH_HUB=None)
def test_no_hub_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        ping_hub(TOPIC)


def test_no_topic_is_refused():
    with pytest.raises(ValueError, match="topic"):
        ping_hub([], hub_url=HUB)


def credentials(url: str):
    return ("publisher", "s3cret") if url == HUB else None


@override_settings(PUSH_CREDENTIALS=credentials)
def test_credentials_are_sent_to_the_hub(wire):
    wire.post(HUB, status=204)
    ping_hub(TOPIC, hub_url=HUB)
    expected = base64.b64encode(b"publisher:s3cret").decode()
    assert wire.calls[0].request.headers["Authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(
    ("settings_", "hub", "expected"),
    [
        ({"PUSH_HUB_URL": "https://me.example/hub/"}, "https://me.example/hub", True),
        ({"PUSH_HUB_URL": "https://me.example/hub/"}, "https://me.example/hub/", True),
        ({"PUSH_HUB_URL": "https://me.example/hub/"}, HUB, False),
        ({"PUSH_HUB_URL": None}, HUB, False),
    ],
)
def test_local_hub_is_recognised_by_push_hub_url(settings_, hub, expected):
    with override_settings(**settings_):
        assert is_local_hub(hub) is expected


def test_local_hub_needs_the_hub_app(settings):
    settings.PUSH_HUB_URL = HUB
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if app != "django_push.hub"
    ]
    assert is_local_hub(HUB) is False
