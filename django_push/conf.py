"""Typed, lazy access to every ``PUSH_*`` setting and its default.

Settings are read when accessed, never at import time, so
``override_settings`` works everywhere. Validation lives in
:mod:`django_push.checks`; this module only reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings as django_settings

#: Every setting this package reads, with its default.
DEFAULTS: dict[str, Any] = {
    # Shared
    "PUSH_HUB": None,
    "PUSH_TIMEOUT": 10.0,
    "PUSH_CREDENTIALS": None,
    # Subscriber
    "PUSH_DOMAIN": None,
    "PUSH_SSL_CALLBACK": False,
    "PUSH_LEASE_SECONDS": None,
    "PUSH_SECRET_OVER_HTTP": False,
    "PUSH_MAX_BODY_SIZE": 10 * 1024 * 1024,
    "PUSH_MISSING_SIGNATURE_STATUS": 403,
    "PUSH_INVALID_SIGNATURE_STATUS": 202,
    "PUSH_RENEW_MARGIN": 24 * 60 * 60,
    "PUSH_RENEW_CONCURRENCY": 32,
    "PUSH_DEFAULT_RENEW_INTERVAL": 24 * 60 * 60,
    "PUSH_SELF_FALLBACK": False,
    # Publisher
    "PUSH_PUBLISH_RETRY_SCHEDULE": (30, 120, 600, 3600),
    # Hub
    "PUSH_HUB_URL": None,
    "PUSH_HUB_DEFAULT_LEASE": 10 * 24 * 60 * 60,
    "PUSH_HUB_MIN_LEASE": 60,
    "PUSH_HUB_MAX_LEASE": 30 * 24 * 60 * 60,
    "PUSH_HUB_SIGNATURE_ALGORITHM": "sha256",
    "PUSH_HUB_RETRY_SCHEDULE": (60, 300, 1800, 7200, 21600, 86400),
    "PUSH_HUB_VERIFY_RETRY_SCHEDULE": (60, 600, 3600),
    "PUSH_HUB_SUSPEND_AFTER": 3 * 24 * 60 * 60,
    "PUSH_HUB_TOPIC_POLICY": None,
    "PUSH_HUB_PUBLISHER_AUTH": None,
    "PUSH_HUB_ALLOW_PRIVATE_ADDRESSES": False,
    "PUSH_HUB_DELIVERY_CONCURRENCY": 8,
    "PUSH_HUB_DELIVERY_BATCH": 20_000,
    "PUSH_HUB_CLAIM_TIMEOUT": 300,
    "PUSH_HUB_MAX_CONTENT_SIZE": 10 * 1024 * 1024,
    "PUSH_HUB_ALWAYS_DELIVER": False,
    "PUSH_HUB_LEGACY_03": False,
}


def _get(name: str) -> Any:
    return getattr(django_settings, name, DEFAULTS[name])


class Settings:
    """One typed property per setting; see ``docs/settings.rst``."""

    # Shared -----------------------------------------------------------

    @property
    def PUSH_HUB(self) -> list[str]:
        """Hub URL(s) this site uses: a string, a list of strings or None."""
        value = _get("PUSH_HUB")
        if not value:
            return []
        if isinstance(value, str):
            return [value]
        return list(value)

    @property
    def PUSH_TIMEOUT(self) -> float | tuple[float, float]:
        value: float | tuple[float, float] = _get("PUSH_TIMEOUT")
        return value

    @property
    def PUSH_CREDENTIALS(self) -> str | Callable[[str], Any] | None:
        value: str | Callable[[str], Any] | None = _get("PUSH_CREDENTIALS")
        return value

    # Subscriber -------------------------------------------------------

    @property
    def PUSH_DOMAIN(self) -> str | None:
        value: str | None = _get("PUSH_DOMAIN")
        return value

    @property
    def PUSH_SSL_CALLBACK(self) -> bool:
        return bool(_get("PUSH_SSL_CALLBACK"))

    @property
    def PUSH_LEASE_SECONDS(self) -> int | None:
        value: int | None = _get("PUSH_LEASE_SECONDS")
        return value

    @property
    def PUSH_SECRET_OVER_HTTP(self) -> bool:
        return bool(_get("PUSH_SECRET_OVER_HTTP"))

    @property
    def PUSH_MAX_BODY_SIZE(self) -> int:
        return int(_get("PUSH_MAX_BODY_SIZE"))

    @property
    def PUSH_MISSING_SIGNATURE_STATUS(self) -> int:
        return int(_get("PUSH_MISSING_SIGNATURE_STATUS"))

    @property
    def PUSH_INVALID_SIGNATURE_STATUS(self) -> int:
        return int(_get("PUSH_INVALID_SIGNATURE_STATUS"))

    @property
    def PUSH_RENEW_MARGIN(self) -> int:
        return int(_get("PUSH_RENEW_MARGIN"))

    @property
    def PUSH_RENEW_CONCURRENCY(self) -> int:
        return int(_get("PUSH_RENEW_CONCURRENCY"))

    @property
    def PUSH_DEFAULT_RENEW_INTERVAL(self) -> int:
        return int(_get("PUSH_DEFAULT_RENEW_INTERVAL"))

    @property
    def PUSH_SELF_FALLBACK(self) -> bool:
        return bool(_get("PUSH_SELF_FALLBACK"))

    # Publisher --------------------------------------------------------

    @property
    def PUSH_PUBLISH_RETRY_SCHEDULE(self) -> Sequence[int]:
        return tuple(_get("PUSH_PUBLISH_RETRY_SCHEDULE"))

    # Hub ----------------------------------------------------------------

    @property
    def PUSH_HUB_URL(self) -> str | None:
        value: str | None = _get("PUSH_HUB_URL")
        return value

    @property
    def PUSH_HUB_DEFAULT_LEASE(self) -> int:
        return int(_get("PUSH_HUB_DEFAULT_LEASE"))

    @property
    def PUSH_HUB_MIN_LEASE(self) -> int:
        return int(_get("PUSH_HUB_MIN_LEASE"))

    @property
    def PUSH_HUB_MAX_LEASE(self) -> int:
        return int(_get("PUSH_HUB_MAX_LEASE"))

    @property
    def PUSH_HUB_SIGNATURE_ALGORITHM(self) -> str:
        return str(_get("PUSH_HUB_SIGNATURE_ALGORITHM"))

    @property
    def PUSH_HUB_RETRY_SCHEDULE(self) -> Sequence[int]:
        return tuple(_get("PUSH_HUB_RETRY_SCHEDULE"))

    @property
    def PUSH_HUB_VERIFY_RETRY_SCHEDULE(self) -> Sequence[int]:
        return tuple(_get("PUSH_HUB_VERIFY_RETRY_SCHEDULE"))

    @property
    def PUSH_HUB_SUSPEND_AFTER(self) -> int:
        return int(_get("PUSH_HUB_SUSPEND_AFTER"))

    @property
    def PUSH_HUB_TOPIC_POLICY(self) -> Any:
        return _get("PUSH_HUB_TOPIC_POLICY")

    @property
    def PUSH_HUB_PUBLISHER_AUTH(self) -> Any:
        return _get("PUSH_HUB_PUBLISHER_AUTH")

    @property
    def PUSH_HUB_ALLOW_PRIVATE_ADDRESSES(self) -> bool:
        return bool(_get("PUSH_HUB_ALLOW_PRIVATE_ADDRESSES"))

    @property
    def PUSH_HUB_DELIVERY_CONCURRENCY(self) -> int:
        return int(_get("PUSH_HUB_DELIVERY_CONCURRENCY"))

    @property
    def PUSH_HUB_DELIVERY_BATCH(self) -> int:
        return int(_get("PUSH_HUB_DELIVERY_BATCH"))

    @property
    def PUSH_HUB_CLAIM_TIMEOUT(self) -> int:
        return int(_get("PUSH_HUB_CLAIM_TIMEOUT"))

    @property
    def PUSH_HUB_MAX_CONTENT_SIZE(self) -> int:
        return int(_get("PUSH_HUB_MAX_CONTENT_SIZE"))

    @property
    def PUSH_HUB_ALWAYS_DELIVER(self) -> bool:
        return bool(_get("PUSH_HUB_ALWAYS_DELIVER"))

    @property
    def PUSH_HUB_LEGACY_03(self) -> bool:
        return bool(_get("PUSH_HUB_LEGACY_03"))


settings = Settings()
