from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings


def ids() -> set[str]:
    return {m.id for m in run_checks() if m.id and m.id.startswith("django_push")}


def test_callback_url_is_buildable_by_default():
    assert "django_push.E009" not in ids()


@override_settings(ROOT_URLCONF="tests.subscriber.nocallback_urls")
def test_missing_callback_url_is_reported():
    assert "django_push.E009" in ids()


@pytest.mark.parametrize(
    "overrides",
    [
        {"PUSH_RENEW_MARGIN": 0},
        {"PUSH_RENEW_CONCURRENCY": -1},
        {"PUSH_MAX_BODY_SIZE": "big"},
        {"PUSH_INVALID_SIGNATURE_STATUS": 99},
    ],
)
def test_subscriber_settings_are_validated(overrides):
    with override_settings(**overrides):
        assert ids() & {"django_push.E007", "django_push.E008"}
