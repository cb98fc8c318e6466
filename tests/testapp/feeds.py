"""Feeds the publisher tests fetch."""

from __future__ import annotations

from typing import Any

from django_push.publisher.feeds import Feed, RssFeed

from .models import Entry

HUB = "https://hub.example.com/"
OTHER_HUB = "https://other-hub.example.com/hub"


class EntryFeed(Feed):
    title = "Entries"
    link = "/entries/"
    description = "Every entry"
    hub = HUB

    def items(self) -> Any:
        return Entry.objects.order_by("pk")


class TwoHubsFeed(EntryFeed):
    hub = [HUB, OTHER_HUB]


class RssEntryFeed(RssFeed):
    title = "Entries"
    link = "/entries/"
    description = "Every entry"
    hub = [HUB, OTHER_HUB]

    def items(self) -> Any:
        return Entry.objects.order_by("pk")


class PerObjectHubFeed(EntryFeed):
    """Old-style ``get_hub(obj)`` override choosing the hub per object."""

    hub = None

    def get_object(self, request: Any, *args: Any, **kwargs: Any) -> str:
        return str(kwargs["name"])

    def get_hub(self, obj: Any) -> str:
        return f"https://{obj}.hub.example.com/"


class DefaultHubFeed(EntryFeed):
    """Relies on PUSH_HUB."""

    hub = None


class DefaultHubRssFeed(RssEntryFeed):
    hub = None
