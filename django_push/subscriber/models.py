"""The :class:`Subscription` model: one row per (hub, topic).

The row is the source of truth for what we asked a hub and what it
confirmed. A request to a hub is recorded as a *pending intent*
(``pending_mode`` and ``requested_at``) and committed before the hub is
contacted, so that a hub verifying synchronously finds it (SUB-S08). The
callback view confirms only that pending intent (SUB-V01, SUB-V06).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..conf import settings
from ..exceptions import SubscriptionError

__all__ = ["Subscription", "SubscriptionError", "SubscriptionManager"]


def new_secret() -> str:
    """A cryptographically random ``hub.secret``, well under 200 bytes (SUB-S05)."""
    return secrets.token_urlsafe(32)


def may_send_secret(hub_url: str) -> bool:
    """Whether a secret may go to *hub_url*: https only, unless allowed (WebSub 5.1)."""
    return urlsplit(hub_url).scheme == "https" or settings.PUSH_SECRET_OVER_HTTP


class SubscriptionManager(models.Manager["Subscription"]):
    def subscribe(
        self, topic: str, hub: str | None = None, lease_seconds: int | None = None
    ) -> Subscription:
        """Subscribe to *topic* through *hub*, or through the discovered hub.

        Creates the row if needed (race-safe thanks to the unique (hub, topic)
        constraint), then asks the hub; an existing subscription is renewed.
        Raises :class:`SubscriptionError` (or :class:`DiscoveryError`).
        """
        if hub is None:
            from .discovery import discover

            found = discover(topic)
            topic, hub = found.topic, found.preferred_hub(settings.PUSH_HUB)
        # Fail on a misconfigured callback URL before anything is stored.
        build_callback_url(0)
        subscription, created = self.get_or_create_subscription(hub, topic)
        subscription.subscribe(lease_seconds=lease_seconds, created=created)
        return subscription

    def get_or_create_subscription(
        self, hub: str, topic: str
    ) -> tuple[Subscription, bool]:
        """The row for (*hub*, *topic*), created with a fresh secret if missing."""
        secret = new_secret() if may_send_secret(hub) else ""
        try:
            with transaction.atomic():
                return self.get_or_create(
                    hub=hub, topic=topic, defaults={"secret": secret}
                )
        except IntegrityError:
            # Another process created it between our SELECT and INSERT.
            return self.get(hub=hub, topic=topic), False

    def due_for_renewal(
        self, now: datetime | None = None
    ) -> models.QuerySet[Subscription]:
        """Active subscriptions whose lease ends within ``PUSH_RENEW_MARGIN``.

        A subscription whose hub gave no lease is renewed every
        ``PUSH_DEFAULT_RENEW_INTERVAL``; denied ones never are (SUB-L04); one
        with a pending unsubscribe is left alone, and one whose renewal the hub
        accepted recently is not asked again before :data:`PENDING_GRACE`.
        """
        now = now or timezone.now()
        horizon = now + timedelta(seconds=settings.PUSH_RENEW_MARGIN)
        interval = timedelta(seconds=settings.PUSH_DEFAULT_RENEW_INTERVAL)
        lease_ending = models.Q(lease_expiration__lte=horizon)
        no_lease = models.Q(lease_expiration__isnull=True) & (
            models.Q(requested_at__isnull=True)
            | models.Q(requested_at__lte=now - interval)
        )
        recently_requested = models.Q(
            pending_mode=Subscription.Mode.SUBSCRIBE,
            requested_at__gt=now - PENDING_GRACE,
        )
        return (
            self.filter(state=Subscription.State.ACTIVE)
            .filter(lease_ending | no_lease)
            .exclude(pending_mode=Subscription.Mode.UNSUBSCRIBE)
            .exclude(recently_requested)
            .order_by("lease_expiration", "pk")
        )


#: A renewal the hub accepted is not sent again before this much time passed
#: without verification (the hub may verify asynchronously).
PENDING_GRACE = timedelta(minutes=30)


class Subscription(models.Model):
    """A subscription to one topic on one hub."""

    class State(models.TextChoices):
        UNVERIFIED = "unverified", _("Not verified yet")
        ACTIVE = "active", _("Active")
        DENIED = "denied", _("Denied by the hub")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    class Mode(models.TextChoices):
        SUBSCRIBE = "subscribe", _("Subscribe")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")

    # The fields of django-push 1.x, unchanged (migration 0001).
    hub = models.URLField(_("Hub"), max_length=1023)
    topic = models.URLField(_("Topic"), max_length=1023)
    verified = models.BooleanField(_("Verified"), default=False)
    verify_token = models.CharField(_("Verify Token"), max_length=255, blank=True)
    lease_expiration = models.DateTimeField(
        _("Lease expiration"), null=True, blank=True
    )
    secret = models.CharField(_("Secret"), max_length=255, blank=True)

    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.UNVERIFIED
    )
    pending_mode = models.CharField(
        _("pending request"), max_length=16, choices=Mode.choices, blank=True
    )
    requested_at = models.DateTimeField(_("last requested at"), null=True, blank=True)
    lease_seconds = models.PositiveIntegerField(
        _("granted lease (seconds)"), null=True, blank=True
    )
    denied_reason = models.TextField(_("denial reason"), blank=True)
    last_notification_at = models.DateTimeField(
        _("last notification at"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)

    objects = SubscriptionManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hub", "topic"], name="subscriber_unique_hub_topic"
            )
        ]
        indexes = [
            models.Index(
                fields=["state", "lease_expiration"], name="subscriber_state_lease"
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic}: {self.hub}"

    def has_expired(self) -> bool:
        """Whether the lease the hub granted has ended."""
        return (
            self.lease_expiration is not None
            and self.lease_expiration <= timezone.now()
        )

    @property
    def callback_url(self) -> str:
        """The absolute callback URL the hub calls for this subscription."""
        return build_callback_url(self.pk)

    def subscribe(
        self, lease_seconds: int | None = None, *, created: bool = False
    ) -> None:
        """Ask the hub to (re)subscribe; the hub confirms through the callback.

        An active subscription stays active while the renewal is pending and
        if it fails (the error is kept in ``last_error``).
        """
        from .intents import send_intent

        send_intent(self, self.Mode.SUBSCRIBE, lease_seconds, created=created)

    def unsubscribe(self) -> None:
        """Ask the hub to unsubscribe; the row changes once the hub confirms."""
        from .intents import send_intent

        send_intent(self, self.Mode.UNSUBSCRIBE, None)


def build_callback_url(pk: Any) -> str:
    """``http(s)://<PUSH_DOMAIN or current Site>/<subscriber_callback path>``."""
    scheme = "https" if settings.PUSH_SSL_CALLBACK else "http"
    domain = settings.PUSH_DOMAIN
    if not domain:
        if not apps.is_installed("django.contrib.sites"):
            raise ImproperlyConfigured(
                "Set PUSH_DOMAIN or install django.contrib.sites to build "
                "callback URLs."
            )
        from django.contrib.sites.models import Site

        domain = Site.objects.get_current().domain
    return f"{scheme}://{domain}{reverse('subscriber_callback', args=[pk])}"
