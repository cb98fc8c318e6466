"""The hub's system checks."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from tests.settings import _TASKS_PREFIX


def ids(deploy: bool = False) -> set[str]:
    return {
        m.id
        for m in run_checks(include_deployment_checks=deploy)
        if m.id and m.id.startswith("django_push.")
    }


def accept_all(topic: str) -> bool:
    return True


def test_test_settings_pass():
    assert ids() == set()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"PUSH_HUB_URL": "/hub/"}, "django_push.E030"),
        ({"PUSH_HUB_MIN_LEASE": 0}, "django_push.E031"),
        ({"PUSH_HUB_DEFAULT_LEASE": "10"}, "django_push.E031"),
        ({"PUSH_HUB_MIN_LEASE": 100, "PUSH_HUB_MAX_LEASE": 50}, "django_push.E031"),
        ({"PUSH_HUB_SIGNATURE_ALGORITHM": "md5"}, "django_push.E032"),
        ({"PUSH_HUB_RETRY_SCHEDULE": ()}, "django_push.E033"),
        ({"PUSH_HUB_VERIFY_RETRY_SCHEDULE": (1, -1)}, "django_push.E033"),
        ({"PUSH_HUB_RETRY_SCHEDULE": "60"}, "django_push.E033"),
        ({"PUSH_HUB_TOPIC_POLICY": ["example.com"]}, "django_push.E034"),
        ({"PUSH_HUB_TOPIC_POLICY": "tests.nowhere.policy"}, "django_push.E034"),
        ({"PUSH_HUB_TOPIC_POLICY": 5}, "django_push.E034"),
        ({"PUSH_HUB_PUBLISHER_AUTH": ""}, "django_push.E035"),
        ({"PUSH_HUB_PUBLISHER_AUTH": 123}, "django_push.E035"),
        ({"PUSH_HUB_DELIVERY_CONCURRENCY": 0}, "django_push.E036"),
        ({"PUSH_HUB_CLAIM_TIMEOUT": 1.5}, "django_push.E036"),
        ({"PUSH_HUB_SIGNATURE_ALGORITHM": "sha1"}, "django_push.W032"),
    ],
)
def test_bad_hub_settings_are_reported(overrides, expected):
    with override_settings(**overrides):
        assert expected in ids()


@pytest.mark.parametrize(
    "overrides",
    [
        {"PUSH_HUB_URL": "https://example.com/hub/"},
        {"PUSH_HUB_TOPIC_POLICY": ["https://example.com/"]},
        {"PUSH_HUB_TOPIC_POLICY": "tests.hub.test_checks.accept_all"},
        {"PUSH_HUB_TOPIC_POLICY": accept_all},
        {"PUSH_HUB_PUBLISHER_AUTH": "token"},
        {"PUSH_HUB_PUBLISHER_AUTH": accept_all},
        {"PUSH_HUB_RETRY_SCHEDULE": [0, 1.5]},
    ],
)
def test_good_hub_settings_pass(overrides):
    with override_settings(**overrides):
        assert ids() == set()


def test_deploy_warnings():
    found = ids(deploy=True)
    assert {"django_push.W030", "django_push.W031", "django_push.W033"} <= found


@override_settings(
    PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False,
    PUSH_HUB_PUBLISHER_AUTH="token",
    # Any backend other than the immediate one; the dummy one ships with
    # every Tasks framework version, unlike django-tasks-db.
    TASKS={"default": {"BACKEND": f"{_TASKS_PREFIX}.backends.dummy.DummyBackend"}},
)
def test_deploy_warnings_go_away_when_configured():
    found = ids(deploy=True)
    assert not {"django_push.W030", "django_push.W031", "django_push.W033"} & found
