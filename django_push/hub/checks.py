"""System checks for the hub's settings (ids E030-E049, W030-W049).

Documented in ``docs/parts/checks-hub.rst``. The deploy checks run with
``manage.py check --deploy``.
"""

from __future__ import annotations

import numbers
from typing import Any

from django.conf import settings as django_settings
from django.core.checks import Error, Tags, Warning, register
from django.core.checks.messages import CheckMessage
from django.utils.module_loading import import_string

from ..checks import check_positive_ints, is_absolute_http_url
from ..conf import DEFAULTS
from ..signatures import ALGORITHMS


def _raw(name: str) -> Any:
    return getattr(django_settings, name, DEFAULTS[name])


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_callable_or_path(value: object) -> bool:
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError:
            return False
    return callable(value)


def _is_schedule(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) > 0
        and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and float(v) >= 0
            for v in value
        )
    )


@register(Tags.compatibility)
def check_hub(**kwargs: Any) -> list[CheckMessage]:
    """Validate every ``PUSH_HUB_*`` setting."""
    errors: list[CheckMessage] = []
    hub_url = _raw("PUSH_HUB_URL")
    if hub_url is not None and not is_absolute_http_url(hub_url):
        errors.append(
            Error(
                f"PUSH_HUB_URL must be an absolute http(s) URL, not {hub_url!r}.",
                hint="It is the hub's public URL, e.g. 'https://example.com/hub/'.",
                id="django_push.E030",
            )
        )
    leases = [_raw(n) for n in ("PUSH_HUB_MIN_LEASE", "PUSH_HUB_DEFAULT_LEASE")]
    leases.append(_raw("PUSH_HUB_MAX_LEASE"))
    if not all(_is_int(v) and v > 0 for v in leases) or not (
        leases[0] <= leases[1] <= leases[2]
    ):
        errors.append(
            Error(
                "PUSH_HUB_MIN_LEASE, PUSH_HUB_DEFAULT_LEASE and PUSH_HUB_MAX_LEASE "
                f"must be positive integers in that order, not {leases!r}.",
                hint="WebSub 5.3.1 forbids perpetual leases; ten days is the default.",
                id="django_push.E031",
            )
        )
    algorithm = _raw("PUSH_HUB_SIGNATURE_ALGORITHM")
    if algorithm not in ALGORITHMS:
        errors.append(
            Error(
                f"PUSH_HUB_SIGNATURE_ALGORITHM must be one of {ALGORITHMS}, "
                f"not {algorithm!r}.",
                hint="Use 'sha256' unless subscribers only understand 'sha1'.",
                id="django_push.E032",
            )
        )
    for name in ("PUSH_HUB_RETRY_SCHEDULE", "PUSH_HUB_VERIFY_RETRY_SCHEDULE"):
        if not _is_schedule(_raw(name)):
            errors.append(
                Error(
                    f"{name} must be a non-empty list of delays in seconds, "
                    f"not {_raw(name)!r}.",
                    hint=f"The default is {DEFAULTS[name]!r}.",
                    id="django_push.E033",
                )
            )
    policy = _raw("PUSH_HUB_TOPIC_POLICY")
    if not (
        policy is None
        or (
            isinstance(policy, list | tuple)
            and all(is_absolute_http_url(p) for p in policy)
        )
        or _is_callable_or_path(policy)
    ):
        errors.append(
            Error(
                f"PUSH_HUB_TOPIC_POLICY {policy!r} is not a list of URL prefixes "
                "or a callable.",
                hint="Use e.g. ['https://example.com/'] or the dotted path of "
                "a function taking the topic URL.",
                id="django_push.E034",
            )
        )
    auth = _raw("PUSH_HUB_PUBLISHER_AUTH")
    if not (auth is None or (isinstance(auth, str) and auth) or callable(auth)):
        errors.append(
            Error(
                f"PUSH_HUB_PUBLISHER_AUTH must be None, a token or a callable, "
                f"not {auth!r}.",
                hint="A string is a shared token; a callable receives the request.",
                id="django_push.E035",
            )
        )
    errors.extend(
        check_positive_ints(
            (
                "PUSH_HUB_SUSPEND_AFTER",
                "PUSH_HUB_DELIVERY_CONCURRENCY",
                "PUSH_HUB_DELIVERY_BATCH",
                "PUSH_HUB_CLAIM_TIMEOUT",
                "PUSH_HUB_MAX_CONTENT_SIZE",
            ),
            "django_push.E036",
        )
    )
    if algorithm == "sha1":
        errors.append(
            Warning(
                "PUSH_HUB_SIGNATURE_ALGORITHM is 'sha1'.",
                hint="WebSub 8.3 asks for at least SHA-256; keep sha1 only for "
                "subscribers that cannot verify anything else.",
                id="django_push.W032",
            )
        )
    return errors


def _uses_immediate_backend() -> bool:
    tasks = getattr(django_settings, "TASKS", None) or {}
    backend = str(tasks.get("default", {}).get("BACKEND", ""))
    return not backend or backend.endswith("ImmediateBackend")


@register(Tags.security, deploy=True)
def check_hub_deploy(**kwargs: Any) -> list[CheckMessage]:
    """Production warnings for the hub."""
    warnings: list[CheckMessage] = []
    if _uses_immediate_backend():
        warnings.append(
            Warning(
                "The hub runs its background work with the ImmediateBackend.",
                hint="Verification and fan-out then run inside the request that "
                "triggered them. Fine for small sites; for more, use a task "
                "worker (django-tasks-db) and run push_hub_work.",
                id="django_push.W030",
            )
        )
    if _raw("PUSH_HUB_ALLOW_PRIVATE_ADDRESSES"):
        warnings.append(
            Warning(
                "PUSH_HUB_ALLOW_PRIVATE_ADDRESSES is on.",
                hint="Anyone can then make the hub request addresses on your "
                "private network. Turn it off in production.",
                id="django_push.W031",
            )
        )
    if (
        _raw("PUSH_HUB_TOPIC_POLICY") is None
        and _raw("PUSH_HUB_PUBLISHER_AUTH") is None
    ):
        warnings.append(
            Warning(
                "The hub serves any topic and accepts publish pings from anyone.",
                hint="Set PUSH_HUB_TOPIC_POLICY to the URL prefixes of your site, "
                "or PUSH_HUB_PUBLISHER_AUTH.",
                id="django_push.W033",
            )
        )
    return warnings
