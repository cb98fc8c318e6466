"""The callback a hub calls for one subscription (WebSub 5.3, 7).

``GET`` is verification of intent (or a denial); ``POST`` is content
distribution. Bad input gets a short ``text/plain`` answer and never changes
stored state. The ``POST`` path costs one database query per notification
(two at most once a minute per subscription, to keep
``last_notification_at``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..conf import settings
from ..links import parse_link_header
from ..signatures import verify
from . import signals
from .models import Subscription

logger = logging.getLogger(__name__)

#: ``last_notification_at`` is written at most this often per subscription,
#: so that a notification normally costs a single query.
NOTIFICATION_TIME_STEP = timedelta(minutes=1)
#: Longest lease accepted from a hub (ten years); more is refused as malformed.
MAX_LEASE_SECONDS = 10 * 365 * 24 * 60 * 60
#: Largest primary key looked up; larger ids cannot exist in any database.
MAX_PK = 2**63 - 1
#: Longest denial reason kept.
MAX_REASON_CHARS = 1000

Links = list[dict[str, str]]


class BadParameter(ValueError):
    """A malformed verification query; the message is sent back as is."""


def text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        body, status=status, content_type="text/plain; charset=utf-8"
    )
    if body:
        response["X-Content-Type-Options"] = "nosniff"
    return response


def single(query: QueryDict, name: str) -> str | None:
    """The one value of *name* in *query*, ``None`` if absent."""
    values = query.getlist(name)
    if len(values) > 1:
        raise BadParameter(f"{name} is repeated")
    return values[0] if values else None


def parse_lease(value: str | None) -> int | None:
    """``hub.lease_seconds`` as a positive integer, ``None`` if absent (SUB-V07)."""
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise BadParameter("hub.lease_seconds must be a positive integer")
    seconds = int(value)
    if not 0 < seconds <= MAX_LEASE_SECONDS:
        raise BadParameter("hub.lease_seconds is out of range")
    return seconds


@lru_cache(maxsize=128)
def _parse_links(header: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    # A hub sends the same Link header with every delivery of a topic, so
    # parsing is cached; the cache is small and bounded against junk.
    return tuple(
        (("url", link.url), *link.params.items()) for link in parse_link_header(header)
    )


def as_old_links(header: str | None) -> Links | None:
    """Parsed ``Link`` header as django-push 1.x exposed it: dicts with ``url``."""
    if not header:
        return None
    return [dict(link) for link in _parse_links(header)]


def find(pk: int | str) -> Subscription | None:
    """The subscription with primary key *pk*, ``None`` if there is none."""
    # A URLconf of django-push 1.x captured pk with a regex, as a string.
    if isinstance(pk, str):
        if not (pk.isascii() and pk.isdigit()):
            return None
        pk = int(pk)
    if pk > MAX_PK:
        return None
    try:
        return Subscription.objects.get(pk=pk)
    except Subscription.DoesNotExist:
        return None


class CallbackView(View):
    """Answers verification of intent and receives notifications.

    Subclass it and override :meth:`handle_subscription` to process
    notifications without the :data:`~.signals.updated` signal.
    """

    http_method_names = ["get", "post"]

    request: HttpRequest
    subscription: Subscription
    links: Links | None = None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # Hubs cannot send CSRF tokens; the callback authenticates them by the
        # pending intent (GET) and the HMAC signature (POST).
        return csrf_exempt(super().as_view(**initkwargs))

    def get(self, request: HttpRequest, pk: int | str) -> HttpResponse:
        query = request.GET
        try:
            mode = single(query, "hub.mode")
            topic = single(query, "hub.topic")
            if mode not in ("subscribe", "unsubscribe", "denied"):
                raise BadParameter("hub.mode must be subscribe, unsubscribe or denied")
            if not topic:
                raise BadParameter("hub.topic is missing")
            if mode == "denied":
                return self.deny(pk, topic, single(query, "hub.reason") or "")
            challenge = single(query, "hub.challenge")
            if not challenge:
                raise BadParameter("hub.challenge is missing")
            # WebSub 5.3: the lease is ignored on unsubscribe (SUB-V05).
            lease = (
                parse_lease(single(query, "hub.lease_seconds"))
                if mode == "subscribe"
                else None
            )
        except BadParameter as exc:
            logger.info("verification_malformed pk=%s error=%s", pk, exc)
            return text(str(exc), 400)
        return self.confirm(pk, mode, topic, challenge, lease)

    def confirm(
        self, pk: int | str, mode: str, topic: str, challenge: str, lease: int | None
    ) -> HttpResponse:
        """Echo *challenge* only for the matching pending intent (WebSub 5.3.1)."""
        subscription = find(pk)
        if (
            subscription is None
            or subscription.topic != topic
            or subscription.pending_mode != mode
        ):
            logger.info("verification_refused pk=%s mode=%s", pk, mode)
            return text("No such pending request", 404)
        now = timezone.now()
        if mode == Subscription.Mode.SUBSCRIBE:
            changes: dict[str, Any] = {
                "state": Subscription.State.ACTIVE,
                "verified": True,
                "lease_seconds": lease,
                # WebSub 5.3: the lease runs from the verification request.
                "lease_expiration": now + timedelta(seconds=lease) if lease else None,
                "denied_reason": "",
            }
        else:
            changes = {
                "state": Subscription.State.UNSUBSCRIBED,
                "verified": False,
                "lease_seconds": None,
                "lease_expiration": None,
            }
        changes["pending_mode"] = ""
        # Conditional update: two concurrent verifications confirm once.
        updated = Subscription.objects.filter(
            pk=pk, pending_mode=mode, requested_at=subscription.requested_at
        ).update(**changes)
        if not updated:
            return text("No such pending request", 404)
        for name, value in changes.items():
            setattr(subscription, name, value)
        self.subscription = subscription
        logger.info("verification_confirmed pk=%s mode=%s lease=%s", pk, mode, lease)
        if mode == Subscription.Mode.SUBSCRIBE:
            signals.verified.send(
                sender=subscription, lease_seconds=lease, request=self.request
            )
        else:
            signals.unsubscribed.send(sender=subscription, request=self.request)
        return text(challenge)

    def deny(self, pk: int | str, topic: str, reason: str) -> HttpResponse:
        """Record a denial (WebSub 5.2); renewals stop (SUB-L04)."""
        subscription = find(pk)
        if subscription is None or subscription.topic != topic:
            logger.info("denial_refused pk=%s", pk)
            return text("No such subscription", 404)
        # ``verified`` is kept: anyone knowing the topic and the id can send a
        # denial, so deliveries the hub verified stay accepted until the
        # lease ends; only renewals stop.
        changes: dict[str, Any] = {
            "state": Subscription.State.DENIED,
            "pending_mode": "",
            "denied_reason": reason[:MAX_REASON_CHARS],
        }
        Subscription.objects.filter(pk=pk).update(**changes)
        for name, value in changes.items():
            setattr(subscription, name, value)
        self.subscription = subscription
        logger.warning("subscription_denied pk=%s hub=%s", pk, subscription.hub)
        signals.denied.send(
            sender=subscription, reason=changes["denied_reason"], request=self.request
        )
        return text("")

    def post(self, request: HttpRequest, pk: int | str) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()):
            return text("Bad Content-Length", 400)
        if int(length) > settings.PUSH_MAX_BODY_SIZE:
            logger.info("notification_too_large pk=%s length=%s", pk, length)
            return text("Body too large", 413)
        try:
            body = request.body
        except RequestDataTooBig:
            logger.info(
                "notification_too_large pk=%s limit=DATA_UPLOAD_MAX_MEMORY_SIZE:%s",
                pk,
                django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
            )
            return text("Body too large", 413)

        subscription = find(pk)
        if subscription is None:
            return text("No such subscription", 410)
        live = subscription.state == Subscription.State.ACTIVE or (
            subscription.state == Subscription.State.DENIED and subscription.verified
        )
        if not live:
            if subscription.pending_mode == Subscription.Mode.SUBSCRIBE:
                # A hub may deliver right after verifying (SUB-C11).
                return text("", 202)
            logger.info("notification_gone pk=%s state=%s", pk, subscription.state)
            return text("Subscription ended", 410)
        if subscription.has_expired():
            logger.info("notification_expired pk=%s", pk)
            return text("", 202)

        if subscription.secret:
            signature = request.META.get("HTTP_X_HUB_SIGNATURE")
            if signature is None:
                logger.warning("notification_unsigned pk=%s", pk)
                return text(
                    "Missing X-Hub-Signature", settings.PUSH_MISSING_SIGNATURE_STATUS
                )
            if not verify(subscription.secret, body, signature):
                # WebSub 7.1.2: ignore the message; the status does not tell.
                logger.warning("notification_bad_signature pk=%s", pk)
                return text("", settings.PUSH_INVALID_SIGNATURE_STATUS)

        now = timezone.now()
        last = subscription.last_notification_at
        if last is None or now - last >= NOTIFICATION_TIME_STEP:
            Subscription.objects.filter(pk=pk).update(last_notification_at=now)
            subscription.last_notification_at = now

        self.subscription = subscription
        self.links = as_old_links(request.META.get("HTTP_LINK"))
        signals.updated.send(
            sender=subscription, notification=body, request=request, links=self.links
        )
        response = self.handle_subscription()
        if isinstance(response, HttpResponse):
            return response
        return text("", 202)

    def handle_subscription(self) -> HttpResponse | None:
        """Process the notification; ``self.request``, ``.subscription``, ``.links``.

        Runs after the :data:`~.signals.updated` signal. Return nothing to
        answer ``202``, or an :class:`~django.http.HttpResponse` to send it.
        """
        return None


callback = CallbackView.as_view()
