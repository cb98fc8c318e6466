"""The demo's two tables: what it publishes and what it received."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from django_push.publisher import publishes


def feed_url() -> str:
    """Absolute URL of the entry feed, the topic of this demo."""
    base: str = settings.DEMO_BASE_URL
    return base + reverse("entry_feed")


# Saving or deleting an entry publishes the feed once the transaction commits.
@publishes(lambda entry: feed_url())
class Entry(models.Model):
    """A post of the demo site, listed in its Atom feed."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    published = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-published", "-pk")
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """A content distribution the subscriber received from the hub."""

    topic = models.URLField(max_length=1023)
    newest_title = models.CharField(max_length=200, blank=True)
    entry_count = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-received", "-pk")

    def __str__(self) -> str:
        return self.newest_title or self.topic
