"""The demo's two tables: what it publishes and what it received."""

from __future__ import annotations

from django.db import models


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
