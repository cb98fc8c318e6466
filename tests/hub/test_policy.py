"""Topic policy and publisher authentication."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from django_push.hub.policy import DEFAULT_REFUSAL, is_publisher_allowed, topic_refusal


def only_news(topic: str) -> bool | str:
    if topic.startswith("https://example.com/news/"):
        return True
    return "only news" if "example.com" in topic else False


def test_no_policy_serves_everything():
    assert topic_refusal("https://anything.example/") is None


@override_settings(PUSH_HUB_TOPIC_POLICY=["https://example.com/", "https://b.example/"])
def test_prefix_policy():
    assert topic_refusal("https://b.example/feed") is None
    assert topic_refusal("https://evil.example/") == DEFAULT_REFUSAL


@pytest.mark.parametrize("policy", [only_news, "tests.hub.test_policy.only_news"])
def test_callable_policy(policy):
    with override_settings(PUSH_HUB_TOPIC_POLICY=policy):
        assert topic_refusal("https://example.com/news/1") is None
        assert topic_refusal("https://example.com/other") == "only news"
        assert topic_refusal("https://else.example/") == DEFAULT_REFUSAL


@override_settings(PUSH_HUB_TOPIC_POLICY="tests.nowhere.policy")
def test_unimportable_policy_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        topic_refusal("https://example.com/")


@override_settings(PUSH_HUB_PUBLISHER_AUTH=42)
def test_auth_that_is_not_callable_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        is_publisher_allowed(RequestFactory().post("/hub/"))


def test_open_hub_allows_publishers():
    assert is_publisher_allowed(RequestFactory().post("/hub/"))
