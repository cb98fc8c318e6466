"""Publisher system checks: E020, W020, W021."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from django_push.publisher import publish_on_change, stop_publishing
from tests.testapp.models import Entry


def messages(prefix: str = "django_push.") -> list:
    return [m for m in run_checks() if m.id and m.id.startswith(prefix)]


def ids() -> set[str]:
    return {m.id for m in messages()}


def test_test_settings_pass_with_feeds_that_name_their_hub():
    assert ids() == set()


@pytest.mark.parametrize(
    "value", [None, "30,60", [30, -1], [0], (1.5,), [True], ["60"]]
)
def test_bad_retry_schedule_is_an_error(value):
    with override_settings(PUSH_PUBLISH_RETRY_SCHEDULE=value):
        assert "django_push.E020" in ids()


@pytest.mark.parametrize("value", [(), [5], (30, 120, 600)])
def test_good_retry_schedules_pass(value):
    with override_settings(PUSH_PUBLISH_RETRY_SCHEDULE=value):
        assert "django_push.E020" not in ids()


@pytest.mark.urls("tests.testapp.urls_default_hub")
def test_feed_without_hub_is_warned_about_with_its_route():
    warnings = [m for m in messages() if m.id == "django_push.W020"]
    assert sorted(m.msg for m in warnings) == [
        "The feed DefaultHubFeed at 'feed/' advertises no hub.",
        "The feed DefaultHubRssFeed at 'rss/' advertises no hub.",
    ]


@pytest.mark.urls("tests.testapp.urls_default_hub")
@override_settings(PUSH_HUB="https://hub.example.com/")
def test_push_hub_silences_the_feed_warning():
    assert "django_push.W020" not in ids()


def test_model_publishing_without_hub_is_warned_about():
    publish_on_change(Entry, "https://example.com/feed/")
    try:
        (warning,) = [m for m in messages() if m.id == "django_push.W021"]
        assert warning.obj is Entry
        with override_settings(PUSH_HUB="https://hub.example.com/"):
            assert "django_push.W021" not in ids()
    finally:
        stop_publishing(Entry)
    assert "django_push.W021" not in ids()


def test_models_with_their_own_hubs_are_not_warned_about():
    publish_on_change(Entry, "https://example.com/feed/", hubs=["https://h.example/"])
    try:
        assert "django_push.W021" not in ids()
    finally:
        stop_publishing(Entry)
