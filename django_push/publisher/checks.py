"""System checks of the publisher (ids ``django_push.E020`` / ``W020``...).

Registered by the optional ``django_push.publisher`` app; documented in
``docs/parts/checks-publisher.rst``.

* E020 ``PUSH_PUBLISH_RETRY_SCHEDULE`` is not a sequence of positive integers.
* W020 a :class:`~django_push.publisher.feeds.Feed` in the URLconf
  advertises no hub.
* W021 models publish on change to ``PUSH_HUB``, which names no hub.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings as django_settings
from django.core.checks import Error, Tags, Warning, register
from django.core.checks.messages import CheckMessage
from django.urls import URLPattern, URLResolver, get_resolver

from ..conf import DEFAULTS


def _has_push_hub() -> bool:
    # Read raw: a malformed PUSH_HUB is E001's to report, not ours to crash on.
    return bool(getattr(django_settings, "PUSH_HUB", None))


def check_retry_schedule(**kwargs: Any) -> list[CheckMessage]:
    """E020: the retry schedule must be a sequence of positive integers."""
    value = getattr(
        django_settings,
        "PUSH_PUBLISH_RETRY_SCHEDULE",
        DEFAULTS["PUSH_PUBLISH_RETRY_SCHEDULE"],
    )
    valid = isinstance(value, list | tuple) and all(
        isinstance(delay, int) and not isinstance(delay, bool) and delay > 0
        for delay in value
    )
    if valid:
        return []
    return [
        Error(
            f"PUSH_PUBLISH_RETRY_SCHEDULE must be a list of positive integers "
            f"(seconds), not {value!r}.",
            hint="For example (30, 120, 600, 3600); an empty list disables "
            "retries of failed publish pings.",
            id="django_push.E020",
        )
    ]


def _patterns(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, route)
        else:
            yield route, pattern.callback


def check_feeds(**kwargs: Any) -> list[CheckMessage]:
    """W020: feeds that would advertise no hub."""
    from .feeds import Feed

    if _has_push_hub():
        return []
    messages: list[CheckMessage] = []
    for route, callback in _patterns(get_resolver().url_patterns):
        if not isinstance(callback, Feed):
            continue
        if type(callback).get_hub is not Feed.get_hub or callback.hub:
            continue
        messages.append(
            Warning(
                f"The feed {type(callback).__qualname__} at '{route}' advertises "
                f"no hub.",
                hint="Set PUSH_HUB, or the feed's hub attribute, to the URL of "
                "the hub subscribers should use.",
                obj=callback,
                id="django_push.W020",
            )
        )
    return messages


def check_publishing_models(**kwargs: Any) -> list[CheckMessage]:
    """W021: models registered for publishing with no hub to publish to."""
    from .changes import hubs_of, publishing_models

    if _has_push_hub():
        return []
    models = [model for model in publishing_models() if not hubs_of(model)]
    return [
        Warning(
            f"{model._meta.label} publishes on change, but PUSH_HUB names no hub, "
            f"so nothing will be sent.",
            hint="Set PUSH_HUB to the hub URL (or list of hub URLs) to notify.",
            obj=model,
            id="django_push.W021",
        )
        for model in models
    ]


def register_checks() -> None:
    """Register the publisher checks (called by the app's ``ready()``)."""
    register(check_retry_schedule, Tags.compatibility)
    register(check_feeds, Tags.urls)
    register(check_publishing_models, Tags.compatibility)
