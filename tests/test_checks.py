import pytest
from django.core.checks import run_checks
from django.test import override_settings


def ids() -> set[str]:
    return {m.id for m in run_checks() if m.id and m.id.startswith("django_push")}


def test_default_test_settings_pass():
    assert ids() == set()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"PUSH_HUB": "not a url"}, "django_push.E001"),
        ({"PUSH_HUB": ["https://ok.example/", "ftp://no/"]}, "django_push.E001"),
        ({"PUSH_HUB": 42}, "django_push.E001"),
        ({"PUSH_CREDENTIALS": "tests.nowhere.func"}, "django_push.E002"),
        ({"PUSH_CREDENTIALS": "django_push.conf.DEFAULTS"}, "django_push.E002"),
        ({"PUSH_TIMEOUT": 0}, "django_push.E003"),
        ({"PUSH_TIMEOUT": None}, "django_push.E003"),
        ({"PUSH_TIMEOUT": (1, -1)}, "django_push.E003"),
        ({"PUSH_LEASE_SECONDS": -5}, "django_push.E004"),
        ({"PUSH_LEASE_SECONDS": "10"}, "django_push.E004"),
        ({"PUSH_DOMAIN": "https://example.com/"}, "django_push.E005"),
        ({"PUSH_DOMAIN": None}, "django_push.E005"),
        ({"PUSH_RENEW_CONCURRENCY": 0}, "django_push.E007"),
        ({"PUSH_MISSING_SIGNATURE_STATUS": 99}, "django_push.E008"),
    ],
)
def test_misconfiguration_is_reported(overrides, expected):
    with override_settings(**overrides):
        assert expected in ids()


@pytest.mark.parametrize(
    "overrides",
    [
        {"PUSH_HUB": ["https://a.example/", "http://b.example/hub"]},
        {"PUSH_TIMEOUT": (3.05, 27)},
        {"PUSH_LEASE_SECONDS": 3600},
        {"PUSH_CREDENTIALS": "tests.test_http.credentials_for"},
    ],
)
def test_valid_values_pass(overrides):
    with override_settings(**overrides):
        assert ids() == set()
