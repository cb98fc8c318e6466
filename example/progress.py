"""Progress lines in the terminal, driven by django-push's signals."""

from __future__ import annotations

import sys
import threading
from typing import Any

import feedparser

from django_push.hub import signals as hub_signals
from django_push.subscriber import signals as subscriber_signals
from example.models import Notification

_lock = threading.Lock()


def say(tag: str, message: str) -> None:
    """Print one ``[tag] message`` line; requests run in several threads."""
    with _lock:
        sys.stdout.write(f"[{tag}] {message}\n")
        sys.stdout.flush()


def connect() -> None:
    """Connect the receivers (called once, from the app's ``ready()``)."""
    subscriber_signals.verified.connect(on_verified, dispatch_uid="demo-verified")
    subscriber_signals.updated.connect(on_updated, dispatch_uid="demo-updated")
    hub_signals.subscribed.connect(on_hub_subscribed, dispatch_uid="demo-subscribed")
    hub_signals.delivered.connect(on_delivered, dispatch_uid="demo-delivered")
    hub_signals.delivery_failed.connect(
        on_delivery_failed, dispatch_uid="demo-delivery-failed"
    )


def on_verified(sender: Any, **kwargs: Any) -> None:
    say("subscriber", f"subscription {sender.pk} to {sender.topic} is verified")


def on_updated(sender: Any, notification: bytes, **kwargs: Any) -> None:
    """Record what the hub pushed: the subscriber's ``updated`` signal."""
    parsed = feedparser.parse(notification)
    titles = [entry.get("title", "") for entry in parsed.entries]
    newest = titles[0] if titles else ""
    Notification.objects.create(
        topic=sender.topic,
        newest_title=newest,
        entry_count=len(titles),
        size=len(notification),
    )
    count = f"{len(titles)} {'entry' if len(titles) == 1 else 'entries'} in the feed"
    # With a secret, the signal is only sent once the signature matched.
    checked = ", signature valid" if sender.secret else ""
    say("subscriber", f"received notification: {newest!r} ({count}{checked})")


def on_hub_subscribed(sender: Any, subscription: Any, **kwargs: Any) -> None:
    say(
        "hub",
        f"subscription {subscription.pk} is active: {subscription.callback}",
    )


def on_delivered(
    sender: Any, delivery: Any, status_code: int, latency_ms: int, **kwargs: Any
) -> None:
    say("hub", f"delivery {delivery.pk} -> {status_code} ({latency_ms} ms)")


def on_delivery_failed(
    sender: Any,
    delivery: Any,
    status_code: int | None,
    error: str,
    final: bool,
    **kwargs: Any,
) -> None:
    answer = status_code if status_code is not None else "no answer"
    then = "giving up" if final else "will retry"
    say("hub", f"delivery {delivery.pk} -> {answer}: {error} ({then})")
