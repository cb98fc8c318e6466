"""System checks (ids ``django_push.E0nn`` / ``W0nn`` / ``I0nn``).

Every check is documented in ``docs/checks.rst`` with its id and hint.
The subscriber app registers :func:`check_shared` and
:func:`check_subscriber`; the hub app registers its own checks.

Ids in use:

* E001 ``PUSH_HUB`` is not an absolute http(s) URL (or list of them).
* E002 ``PUSH_CREDENTIALS`` cannot be imported or is not callable.
* E003 ``PUSH_TIMEOUT`` is not a positive number or (connect, read) pair.
* E004 ``PUSH_LEASE_SECONDS`` is not a positive integer or None.
* E005 no way to build absolute callback URLs.
* E006 the Tasks framework is not importable.
* E007 a positive integer setting is not one.
* E008 a signature status setting is not an HTTP status code.
* E009 the ``subscriber_callback`` URL cannot be reversed.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings as django_settings
from django.core.checks import Error, Tags, register
from django.core.checks.messages import CheckMessage
from django.utils.module_loading import import_string

from .conf import DEFAULTS


def is_absolute_http_url(value: object) -> bool:
    """Whether *value* is a string holding an absolute http(s) URL."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _raw(name: str) -> Any:
    return getattr(django_settings, name, DEFAULTS[name])


def _is_positive_number(value: object) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and float(value) > 0
    )


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_positive_ints(names: Iterable[str], check_id: str) -> list[CheckMessage]:
    """One error per setting in *names* that is not a positive integer."""
    return [
        Error(
            f"{name} must be a positive integer, not {_raw(name)!r}.",
            hint=f"Set {name} to a number of seconds or items, or remove it "
            f"to use the default ({DEFAULTS[name]!r}).",
            id=check_id,
        )
        for name in names
        if not _is_positive_int(_raw(name))
    ]


@register(Tags.compatibility)
def check_shared(**kwargs: Any) -> list[CheckMessage]:
    """Settings every part of django-push reads."""
    errors: list[CheckMessage] = []
    hub = _raw("PUSH_HUB")
    hubs = [hub] if isinstance(hub, str) else hub
    if hub is not None and (
        not isinstance(hubs, list | tuple)
        or not all(is_absolute_http_url(h) for h in hubs)
    ):
        errors.append(
            Error(
                f"PUSH_HUB must be an absolute http(s) URL or a list of them, "
                f"not {hub!r}.",
                hint="For example PUSH_HUB = 'https://hub.example.com/'.",
                id="django_push.E001",
            )
        )

    credentials = _raw("PUSH_CREDENTIALS")
    if credentials is not None:
        func: Any = credentials
        if isinstance(credentials, str):
            try:
                func = import_string(credentials)
            except ImportError:
                func = None
        if not callable(func):
            errors.append(
                Error(
                    f"PUSH_CREDENTIALS {credentials!r} is not an importable callable.",
                    hint="Give the dotted path of a function that takes the hub "
                    "URL and returns None or a (username, password) tuple.",
                    id="django_push.E002",
                )
            )

    timeout = _raw("PUSH_TIMEOUT")
    if not (
        _is_positive_number(timeout)
        or (
            isinstance(timeout, tuple)
            and len(timeout) == 2
            and all(_is_positive_number(t) for t in timeout)
        )
    ):
        errors.append(
            Error(
                f"PUSH_TIMEOUT must be a positive number of seconds or a "
                f"(connect, read) pair, not {timeout!r}.",
                hint="Outbound requests always need a timeout; the default is 10.",
                id="django_push.E003",
            )
        )

    if not _tasks_importable():
        errors.append(
            Error(
                "The Tasks framework cannot be imported.",
                hint="On Django 5.2, install the backport: "
                "pip install 'django-push[tasks-backport]'.",
                id="django_push.E006",
            )
        )
    return errors


def _tasks_importable() -> bool:
    try:
        from . import tasks  # noqa: F401
    except ImportError:
        return False
    return True


def check_subscriber(**kwargs: Any) -> list[CheckMessage]:
    """Settings the subscriber reads."""
    errors: list[CheckMessage] = []
    lease = _raw("PUSH_LEASE_SECONDS")
    if lease is not None and not _is_positive_int(lease):
        errors.append(
            Error(
                f"PUSH_LEASE_SECONDS must be a positive integer or None, "
                f"not {lease!r}.",
                hint="It is the lease asked of hubs, in seconds; None lets the "
                "hub choose.",
                id="django_push.E004",
            )
        )
    domain = _raw("PUSH_DOMAIN")
    if domain is not None and (not isinstance(domain, str) or "/" in domain):
        errors.append(
            Error(
                f"PUSH_DOMAIN must be a host name such as 'example.com', "
                f"not {domain!r}.",
                hint="Callback URLs are built as "
                "http(s)://PUSH_DOMAIN/<callback path>.",
                id="django_push.E005",
            )
        )
    elif domain is None and not apps.is_installed("django.contrib.sites"):
        errors.append(
            Error(
                "No way to build absolute callback URLs: PUSH_DOMAIN is not "
                "set and django.contrib.sites is not installed.",
                hint="Set PUSH_DOMAIN = 'www.example.com' (and PUSH_SSL_CALLBACK"
                " = True for https callbacks).",
                id="django_push.E005",
            )
        )
    errors.extend(
        check_positive_ints(
            (
                "PUSH_MAX_BODY_SIZE",
                "PUSH_RENEW_MARGIN",
                "PUSH_RENEW_CONCURRENCY",
                "PUSH_DEFAULT_RENEW_INTERVAL",
            ),
            "django_push.E007",
        )
    )
    for name in ("PUSH_MISSING_SIGNATURE_STATUS", "PUSH_INVALID_SIGNATURE_STATUS"):
        value = _raw(name)
        if not (isinstance(value, int) and 200 <= value <= 599):
            errors.append(
                Error(
                    f"{name} must be an HTTP status code, not {value!r}.",
                    hint="Use a 2xx to acknowledge and drop, or a 4xx to refuse.",
                    id="django_push.E008",
                )
            )
    errors.extend(_check_subscriber_callback())
    return errors


def _check_subscriber_callback() -> list[CheckMessage]:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("subscriber_callback", args=[1])
    except NoReverseMatch:
        return [
            Error(
                "The URL named 'subscriber_callback' cannot be reversed, so no "
                "callback URL can be built.",
                hint="Add path('subscriber/', include('django_push.subscriber."
                "urls')) to your URLconf, or name your own callback URL "
                "'subscriber_callback' with an integer 'pk'.",
                id="django_push.E009",
            )
        ]
    return []
