"""Adding an entry: save it, then tell the hub that the feed changed."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from django_push.publisher import publish
from example import progress
from example.models import Entry


def feed_url() -> str:
    """Absolute URL of the entry feed, the topic of this demo."""
    base: str = settings.DEMO_BASE_URL
    return base + reverse("entry_feed")


def add_entry(title: str, body: str = "") -> Entry:
    """Create an entry and publish the feed once the row is committed."""
    with transaction.atomic():
        entry = Entry.objects.create(title=title, body=body)
        progress.say("publisher", f"new entry {entry.title!r}, publishing {feed_url()}")
        publish(feed_url())
    return entry
