from django.test import override_settings

from django_push.conf import DEFAULTS, settings


def test_defaults_apply_when_unset():
    assert (
        DEFAULTS["PUSH_HUB_SIGNATURE_ALGORITHM"]
        == settings.PUSH_HUB_SIGNATURE_ALGORITHM
    )
    assert settings.PUSH_HUB == []


def test_settings_are_read_lazily():
    with override_settings(PUSH_HUB="https://hub.example/", PUSH_TIMEOUT=2):
        assert settings.PUSH_HUB == ["https://hub.example/"]
        assert settings.PUSH_TIMEOUT == 2
    with override_settings(PUSH_HUB=("https://a/", "https://b/")):
        assert settings.PUSH_HUB == ["https://a/", "https://b/"]


def test_every_default_has_a_property():
    for name in DEFAULTS:
        assert hasattr(type(settings), name), name
