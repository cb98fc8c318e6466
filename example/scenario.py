"""What the demo does at start-up: subscribe to its feed, then publish."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from django_push.exceptions import PushError
from django_push.subscriber.models import Subscription
from example import publishing
from example.models import Notification, feed_url
from example.progress import say

POLL_INTERVAL = 0.1


def start(entries: int, *, timeout: float) -> bool:
    """Subscribe, publish *entries* entries; True once each was pushed back."""
    subscription = subscribe(timeout=timeout)
    if subscription is None:
        return False
    ok = True
    for number in range(1, entries + 1):
        entry = publishing.add_entry(
            f"Entry {number}", f"Entry number {number}, published at start-up."
        )
        if not wait_for(partial(_received, entry.title), timeout):
            say("demo", f"no notification for {entry.title!r} after {timeout:g}s")
            ok = False
    return ok


def subscribe(*, timeout: float) -> Subscription | None:
    """Subscribe to the feed through the hub it advertises; wait for the hub."""
    topic = feed_url()
    say("subscriber", f"discovering the hub of {topic} and subscribing")
    try:
        subscription = Subscription.objects.subscribe(topic)
    except PushError as exc:
        say("subscriber", f"subscription failed: {exc}")
        return None
    say("subscriber", f"hub {subscription.hub} accepted subscription {subscription.pk}")
    if not wait_for(lambda: _verified(subscription.pk), timeout):
        say("subscriber", f"the hub did not verify within {timeout:g}s")
        return None
    return subscription


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll *condition* until it holds or *timeout* seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


def _verified(pk: int) -> bool:
    return Subscription.objects.filter(pk=pk, verified=True).exists()


def _received(title: str) -> bool:
    return Notification.objects.filter(newest_title=title).exists()
