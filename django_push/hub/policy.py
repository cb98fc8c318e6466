"""Who may use the hub: the topic policy and publisher authentication.

``PUSH_HUB_TOPIC_POLICY`` decides which topics the hub serves (WebSub 5.2,
HUB-S07); ``PUSH_HUB_PUBLISHER_AUTH`` decides who may send publish pings, so
strangers cannot make the hub fetch arbitrary URLs (HUB-P02).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from ..conf import settings

#: Reason sent in ``hub.reason`` when the policy gives none.
DEFAULT_REFUSAL = "This hub does not serve that topic."


def _callable(value: Any, name: str) -> Callable[..., Any]:
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(f"{name} {value!r} cannot be imported.") from exc
    if not callable(value):
        raise ImproperlyConfigured(f"{name} must be a callable or a dotted path.")
    func: Callable[..., Any] = value
    return func


def topic_refusal(topic: str) -> str | None:
    """``None`` if the hub serves *topic*, else the reason it does not.

    The setting is ``None`` (every topic), a list of URL prefixes, or a
    callable (or its dotted path) taking the topic URL and returning
    ``True`` to accept, ``False`` or a reason string to refuse.
    """
    policy = settings.PUSH_HUB_TOPIC_POLICY
    if policy is None:
        return None
    if isinstance(policy, list | tuple):
        if any(topic.startswith(prefix) for prefix in policy):
            return None
        return DEFAULT_REFUSAL
    verdict = _callable(policy, "PUSH_HUB_TOPIC_POLICY")(topic)
    if verdict is True or verdict is None:
        return None
    if isinstance(verdict, str) and verdict:
        return verdict[:255]
    return DEFAULT_REFUSAL


def _presented_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def is_publisher_allowed(request: HttpRequest) -> bool:
    """Whether *request* may publish, per ``PUSH_HUB_PUBLISHER_AUTH``.

    ``None`` allows everyone. A string is a shared token, presented as
    ``Authorization: Bearer <token>`` or as the password of HTTP Basic auth
    (what ``PUSH_CREDENTIALS`` sends). A callable receives the request and
    returns whether it may publish.
    """
    auth = settings.PUSH_HUB_PUBLISHER_AUTH
    if auth is None:
        return True
    if isinstance(auth, str):
        presented = _presented_token(request)
        return presented is not None and hmac.compare_digest(
            presented.encode("utf-8"), auth.encode("utf-8")
        )
    return bool(_callable(auth, "PUSH_HUB_PUBLISHER_AUTH")(request))
