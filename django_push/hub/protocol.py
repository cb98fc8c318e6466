"""Parsing and validation of what subscribers and publishers send the hub.

Everything here is pure: it turns a request body into validated values or
raises :class:`BadRequest` with a short reason the view sends back as
``text/plain``. Nothing is stored until a request has passed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ..conf import settings
from .models import URL_MAX_LENGTH
from .ssrf import UnsafeURL, check_url

#: hub.secret must be under 200 bytes (WebSub 5.1).
SECRET_MAX_BYTES = 199

_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_LEASE = re.compile(r"[0-9]{1,10}")


class BadRequest(Exception):
    """A request the hub refuses; ``status`` and a short text reason."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def decode_unreserved(url: str) -> str:
    """Decode percent-encoded unreserved characters only (HUB-S09).

    ``%7E`` becomes ``~`` and ``%41`` becomes ``A``; reserved characters such
    as ``%2F`` or ``%3F`` stay encoded, so the URL keeps its meaning.
    """

    def replace(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else match.group(0)

    return _PERCENT.sub(replace, url)


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """Decode a UTF-8 ``application/x-www-form-urlencoded`` body (WebSub 5.1)."""
    try:
        text = body.decode("utf-8")
        return parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The request body is not UTF-8 form data.") from exc


def single(params: Sequence[tuple[str, str]], name: str, required: bool) -> str:
    """The one value of *name*; duplicates are refused, absence if required."""
    values = [value for key, value in params if key == name]
    if len(values) > 1:
        raise BadRequest(f"{name} is given more than once.")
    if not values or not values[0]:
        if required:
            raise BadRequest(f"{name} is missing.")
        return ""
    return values[0]


def check_target(name: str, url: str) -> str:
    """Validate a topic or callback URL and return its storage key."""
    if len(url) > URL_MAX_LENGTH:
        raise BadRequest(f"{name} is longer than {URL_MAX_LENGTH} characters.")
    key = decode_unreserved(url)
    try:
        check_url(key)
    except UnsafeURL as exc:
        raise BadRequest(f"{name} {exc}.") from exc
    return key


@dataclass(frozen=True)
class SubscriptionRequest:
    """A validated subscribe or unsubscribe request."""

    mode: str
    topic: str
    topic_as_sent: str
    callback: str
    secret: str
    lease_seconds: int | None


def clamp_lease(requested: int | None) -> int:
    """The lease the hub grants: the request or the default, clamped."""
    lease = settings.PUSH_HUB_DEFAULT_LEASE if requested is None else requested
    low, high = settings.PUSH_HUB_MIN_LEASE, settings.PUSH_HUB_MAX_LEASE
    return max(low, min(high, lease))


def parse_subscription(
    mode: str, params: Sequence[tuple[str, str]]
) -> SubscriptionRequest:
    """Validate ``hub.callback``, ``hub.topic``, ``hub.secret``, lease (5.1)."""
    callback_sent = single(params, "hub.callback", required=True)
    topic_sent = single(params, "hub.topic", required=True)
    callback = check_target("hub.callback", callback_sent)
    topic = check_target("hub.topic", topic_sent)
    secret = single(params, "hub.secret", required=False)
    if len(secret.encode("utf-8")) > SECRET_MAX_BYTES:
        raise BadRequest("hub.secret must be less than 200 bytes.")
    raw_lease = single(params, "hub.lease_seconds", required=False)
    lease: int | None = None
    # WebSub 5.1: a lease is only meaningful on subscribe; ignored otherwise.
    if mode == "subscribe" and raw_lease:
        if not _LEASE.fullmatch(raw_lease) or int(raw_lease) == 0:
            raise BadRequest("hub.lease_seconds must be a positive integer.")
        lease = clamp_lease(int(raw_lease))
    elif mode == "subscribe":
        lease = clamp_lease(None)
    return SubscriptionRequest(
        mode=mode,
        topic=topic,
        topic_as_sent=topic_sent,
        callback=callback,
        secret=secret,
        lease_seconds=lease,
    )


def parse_publish(params: Sequence[tuple[str, str]]) -> list[str]:
    """The topic URLs of a publish ping, deduplicated, in order (HUB-P01).

    ``hub.url`` and ``hub.topic`` are both accepted, repeated or
    comma-separated, as are PHP-style ``hub.url[]`` names.
    """
    names = ("hub.url", "hub.topic", "hub.url[]", "hub.topic[]")
    topics: dict[str, None] = {}
    for key, value in params:
        if key not in names:
            continue
        for part in value.split(","):
            url = part.strip()
            if url:
                topics.setdefault(check_target(key.rstrip("[]"), url), None)
    if not topics:
        raise BadRequest("hub.url or hub.topic is missing.")
    return list(topics)


def parse_legacy(params: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """``hub.verify`` mode and ``hub.verify_token`` of a 0.3 request (HUB-S15).

    The first known mode listed wins; unknown ones are ignored. A request
    without ``hub.verify`` (a WebSub subscriber) is verified asynchronously.
    """
    token = single(params, "hub.verify_token", required=False)
    listed = [
        mode.strip()
        for key, value in params
        if key == "hub.verify"
        for mode in value.split(",")
    ]
    if not listed:
        return "async", token
    known = [mode for mode in listed if mode in ("sync", "async")]
    if not known:
        raise BadRequest("hub.verify must list sync or async.")
    return known[0], token
