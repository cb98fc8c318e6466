"""Publish pings that failed and wait for their next attempt."""

from __future__ import annotations

from django.db import models


class PendingPing(models.Model):
    """One topic a hub has not acknowledged yet.

    Rows are written only after a ping failed, and deleted once a later
    attempt succeeds or the retry schedule is exhausted.
    """

    hub = models.URLField(max_length=1023)
    topic = models.URLField(max_length=1023)
    attempts = models.PositiveIntegerField(
        default=1, help_text="Failed attempts so far."
    )
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["next_attempt_at"], name="push_pending_due")]
        verbose_name = "pending publish ping"

    def __str__(self) -> str:
        return f"{self.topic} -> {self.hub}"
