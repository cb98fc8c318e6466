"""The hub's state, all of it in the database.

Rows are the source of truth for the delivery engine (:mod:`.engine`):
verifications waiting to be sent, publishes waiting to be fetched and one
:class:`Delivery` per subscriber per publish, each with its attempt count,
next attempt time and claim. A worker that dies loses nothing: its claims
expire and another worker takes the rows again.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

#: Longest topic or callback URL the hub accepts.
URL_MAX_LENGTH = 1024


class HubSubscription(models.Model):
    """One subscription, unique per (topic, callback) (WebSub 1, HUB-S10)."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        ACTIVE = "active", "active"
        SUSPENDED = "suspended", "suspended"
        UNSUBSCRIBED = "unsubscribed", "unsubscribed"
        DENIED = "denied", "denied"
        EXPIRED = "expired", "expired"
        GONE = "gone", "gone (callback answered 410)"

    topic = models.CharField(max_length=URL_MAX_LENGTH)
    callback = models.CharField(max_length=URL_MAX_LENGTH)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING
    )
    secret = models.CharField(max_length=200, blank=True)
    #: The hub URL the subscriber posted to, sent back as ``rel=hub``.
    hub_url = models.CharField(max_length=URL_MAX_LENGTH, blank=True)
    lease_seconds = models.PositiveIntegerField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    #: Start of the current run of failed attempts; cleared by a success.
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "subscription"
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "callback"], name="push_hub_unique_topic_callback"
            )
        ]
        indexes = [
            models.Index(fields=["topic", "state"], name="push_hub_sub_topic_state"),
            models.Index(
                fields=["state", "lease_expires_at"], name="push_hub_sub_lease"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.callback} <- {self.topic}"

    def has_expired(self, now: datetime | None = None) -> bool:
        """Whether the lease is over (WebSub 5.3.1: leases are enforced)."""
        moment = now or timezone.now()
        return self.lease_expires_at is None or self.lease_expires_at <= moment

    def is_deliverable(self) -> bool:
        """Whether content may be sent: active and within the lease."""
        return self.state == self.State.ACTIVE and not self.has_expired()


class ClaimedWork(models.Model):
    """Background work kept as a row: due time, attempts and the claim.

    A worker claims due rows by setting ``claim_token`` and ``claimed_at``
    (see :mod:`.claims`); the token marks the rows claimed together and is
    kept after the attempt. A claim older than ``PUSH_HUB_CLAIM_TIMEOUT``
    may be taken over.
    """

    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True


class VerificationRequest(ClaimedWork):
    """A verification of intent or a ``denied`` notice still to be sent.

    A subscribe or unsubscribe request is kept here, never applied, until
    the subscriber confirms it (WebSub 5.3): a refused or failed
    verification leaves :class:`HubSubscription` unchanged.
    """

    class Mode(models.TextChoices):
        SUBSCRIBE = "subscribe", "subscribe"
        UNSUBSCRIBE = "unsubscribe", "unsubscribe"
        DENIED = "denied", "denied"

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        IN_PROGRESS = "in_progress", "in progress"
        COMPLETED = "completed", "completed"
        REFUSED = "refused", "refused by the subscriber"
        FAILED = "failed", "failed (retries exhausted)"

    mode = models.CharField(max_length=16, choices=Mode.choices)
    #: Storage keys (non-reserved characters decoded, HUB-S09).
    topic = models.CharField(max_length=URL_MAX_LENGTH)
    callback = models.CharField(max_length=URL_MAX_LENGTH)
    #: The topic exactly as the subscriber sent it, echoed in ``hub.topic``.
    topic_as_sent = models.CharField(max_length=URL_MAX_LENGTH)
    secret = models.CharField(max_length=200, blank=True)
    lease_seconds = models.PositiveIntegerField(null=True, blank=True)
    hub_url = models.CharField(max_length=URL_MAX_LENGTH, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    #: PubSubHubbub 0.3 ``hub.verify_token``, echoed back (legacy mode only).
    verify_token = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"], name="push_hub_verif_due"
            ),
            models.Index(fields=["claim_token"], name="push_hub_verif_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.mode} {self.callback} <- {self.topic}"


class Topic(models.Model):
    """A topic URL the hub has been told about."""

    url = models.CharField(max_length=URL_MAX_LENGTH, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    #: The last body fetched, for conditional GETs and change detection.
    last_content = models.ForeignKey(
        "Content",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.url


class Content(models.Model):
    """One fetched body of a topic, stored once however many receive it."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="contents")
    body = models.BinaryField()
    #: The topic's Content-Type exactly as received (HUB-C03); may be empty.
    content_type = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField(default=0)
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "contents"

    def __str__(self) -> str:
        return f"{self.topic_id}@{self.sha256[:12]}"


class Publish(ClaimedWork):
    """A publish ping for one topic: fetch once, then fan out."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        IN_PROGRESS = "in_progress", "in progress"
        DISTRIBUTED = "distributed", "distributed"
        UNCHANGED = "unchanged", "unchanged (not re-sent)"
        FAILED = "failed", "failed"

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="publishes")
    content = models.ForeignKey(
        Content, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The hub URL the ping came to, used as ``rel=hub`` if no better one.
    hub_url = models.CharField(max_length=URL_MAX_LENGTH, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    deliveries_planned = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "publishes"
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"], name="push_hub_publish_due"
            ),
            models.Index(fields=["claim_token"], name="push_hub_publish_claim"),
        ]

    def __str__(self) -> str:
        return f"publish {self.pk} of topic {self.topic_id}"


class Delivery(ClaimedWork):
    """One content distribution to one subscription, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        IN_PROGRESS = "in_progress", "in progress"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed (retries exhausted)"
        CANCELLED = "cancelled", "cancelled (subscription ended)"

    publish = models.ForeignKey(
        Publish, on_delete=models.CASCADE, related_name="deliveries"
    )
    content = models.ForeignKey(
        Content, on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        HubSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"], name="push_hub_delivery_due"
            ),
            models.Index(
                fields=["status", "claimed_at"], name="push_hub_delivery_claimed"
            ),
            models.Index(fields=["claim_token"], name="push_hub_delivery_claim"),
            models.Index(
                fields=["publish", "status"], name="push_hub_delivery_publish"
            ),
            models.Index(
                fields=["subscription", "status"], name="push_hub_delivery_sub"
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"
