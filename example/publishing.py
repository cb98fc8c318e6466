"""Adding an entry; the model publishes the feed when it is saved."""

from __future__ import annotations

from django.db import transaction

from example import progress
from example.models import Entry, feed_url


def add_entry(title: str, body: str = "") -> Entry:
    """Create an entry; the hub hears of it when the transaction commits."""
    with transaction.atomic():
        entry = Entry.objects.create(title=title, body=body)
        progress.say("publisher", f"new entry {entry.title!r}, publishing {feed_url()}")
    return entry
