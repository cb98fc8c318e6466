"""Publish pings sent over HTTP to a hub (WebSub 6, PUB-11/12)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import cast

import requests
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from ..conf import settings
from ..exceptions import PublishError, RequestError, ResponseTooLarge
from ..http import request

logger = logging.getLogger(__name__)

#: A hub's answer to a ping is never needed beyond its status; cap what we read.
MAX_RESPONSE_BYTES = 64 * 1024


def configured_hubs() -> list[str]:
    """The hub URLs of ``PUSH_HUB``, in order, without duplicates."""
    return list(dict.fromkeys(settings.PUSH_HUB))


def is_local_hub(hub_url: str) -> bool:
    """Whether *hub_url* is the in-project :mod:`django_push.hub`.

    True only when that app is installed and ``PUSH_HUB_URL`` names the same
    URL (compared without a trailing slash difference).
    """
    local = settings.PUSH_HUB_URL
    if not local or not apps.is_installed("django_push.hub"):
        return False
    return hub_url.rstrip("/") == local.rstrip("/")


def _topics(url: str | Iterable[str]) -> list[str]:
    topics = [url] if isinstance(url, str) else list(dict.fromkeys(url))
    if not topics:
        raise ValueError("ping_hub() needs at least one topic URL.")
    return topics


def send_ping(hub_url: str, topics: list[str]) -> requests.Response:
    """POST one publish ping announcing *topics* to *hub_url*.

    The body carries ``hub.mode=publish`` and each topic both as ``hub.url``
    (PubSubHubbub 0.3 7.1) and as ``hub.topic`` (what WebSub hubs read);
    hubs ignore parameters they do not know. Any 2xx is success. Redirects are
    not followed: a hub that redirects its publish URL is misconfigured.
    """
    data: list[tuple[str, str]] = [("hub.mode", "publish")]
    data += [("hub.url", topic) for topic in topics]
    data += [("hub.topic", topic) for topic in topics]
    try:
        response = request(
            "POST",
            hub_url,
            data=data,
            allow_redirects=False,
            max_bytes=MAX_RESPONSE_BYTES,
            use_credentials=True,
        )
    except ResponseTooLarge as exc:
        # The status line is what matters; an oversized body is not a
        # refusal. read_capped() always attaches the response it refused.
        response = cast(requests.Response, exc.response)
    except RequestError as exc:
        raise PublishError(f"Publishing to {hub_url} failed: {exc}", hub_url) from exc
    if not 200 <= response.status_code < 300:
        logger.info(
            "publish_refused hub=%s status=%s topics=%d",
            hub_url,
            response.status_code,
            len(topics),
        )
        raise PublishError(
            f"{hub_url} answered the publish ping with {response.status_code}",
            hub_url,
            response,
        )
    logger.debug(
        "publish_sent hub=%s status=%s topics=%d",
        hub_url,
        response.status_code,
        len(topics),
    )
    return response


def ping_hub(url: str | Iterable[str], hub_url: str | None = None) -> requests.Response:
    """Tell a hub, now and synchronously, that the topic *url* changed.

    *url* is one topic URL or an iterable of them (one ping announces them
    all). *hub_url* defaults to every hub in ``PUSH_HUB``; all are pinged,
    then the first failure is raised. Returns the response of *hub_url*, or
    of the first hub of ``PUSH_HUB``.

    Raises :class:`~django_push.exceptions.PublishError` when a hub cannot be
    reached (``response`` is ``None``, the network error is chained) or
    answers with a non-2xx status (``response`` is set). Raises
    ``ImproperlyConfigured`` when no hub is known. This call blocks for up to
    ``PUSH_TIMEOUT`` per hub; use :func:`~django_push.publisher.publish` from
    views.
    """
    topics = _topics(url)
    hubs = [hub_url] if hub_url is not None else configured_hubs()
    if not hubs:
        raise ImproperlyConfigured("Pass hub_url or set the PUSH_HUB setting.")
    responses: list[requests.Response] = []
    errors: list[PublishError] = []
    for hub in hubs:
        try:
            responses.append(send_ping(hub, topics))
        except PublishError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    return responses[0]
