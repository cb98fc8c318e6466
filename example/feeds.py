"""The Atom feed of entries: the topic the demo publishes and subscribes to."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse

from django_push.publisher.feeds import Feed
from example.models import Entry


class EntryFeed(Feed):
    """Atom feed whose ``<link rel="hub">`` names the hub in ``PUSH_HUB``."""

    title = "django-push demo"
    subtitle = "Entries of the demo site, pushed through its own hub."

    def link(self) -> str:
        return reverse("index")

    def items(self) -> QuerySet[Entry]:
        return Entry.objects.all()[:10]

    def item_title(self, item: Entry) -> str:
        return item.title

    def item_description(self, item: Entry) -> str:
        return item.body

    def item_link(self, item: Entry) -> str:
        return f"{reverse('index')}#entry-{item.pk}"

    def item_pubdate(self, item: Entry) -> datetime:
        return item.published
