"""Verification of intent and ``denied`` notices (WebSub 5.2, 5.3).

The hub confirms every subscribe and unsubscribe request with a GET to the
callback carrying a fresh random challenge, and applies the request only
when the callback answers 2xx with exactly that challenge. Redirects are not
followed and the body is read with a small cap.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone

from .. import http
from ..conf import settings
from ..exceptions import RequestError, ResponseTooLarge
from . import signals
from .claims import retry_at
from .models import Delivery, HubSubscription, VerificationRequest
from .ssrf import UnsafeURL, callback_host, check_url

logger = logging.getLogger(__name__)

#: A callback echoing a challenge needs no more than this.
CHALLENGE_RESPONSE_CAP = 4096

Status = VerificationRequest.Status
Mode = VerificationRequest.Mode


def callback_url(callback: str, params: list[tuple[str, str]]) -> str:
    """*callback* with *params* appended, keeping its own query (HUB-V02)."""
    query = urlencode(params)
    if "?" not in callback:
        return f"{callback}?{query}"
    if callback.endswith(("?", "&")):
        return f"{callback}{query}"
    return f"{callback}&{query}"


def _params(row: VerificationRequest, challenge: str) -> list[tuple[str, str]]:
    params = [("hub.mode", row.mode), ("hub.topic", row.topic_as_sent)]
    if row.mode == Mode.DENIED:
        params.append(("hub.reason", row.reason))
        return params
    params.append(("hub.challenge", challenge))
    if row.mode == Mode.SUBSCRIBE and row.lease_seconds is not None:
        params.append(("hub.lease_seconds", str(row.lease_seconds)))
    if row.verify_token:
        params.append(("hub.verify_token", row.verify_token))
    return params


def _retry_or_fail(
    row: VerificationRequest, now: datetime, counts: dict[str, int]
) -> None:
    when = retry_at(settings.PUSH_HUB_VERIFY_RETRY_SCHEDULE, row.attempts, now)
    if when is None:
        row.status = Status.FAILED
        row.completed_at = now
        counts["verification_failed"] += 1
    else:
        row.status = Status.PENDING
        row.next_attempt_at = when
        counts["verification_retries"] += 1


def process(row: VerificationRequest, counts: dict[str, int]) -> None:
    """Send one claimed verification or notice and record the outcome."""
    row.attempts += 1
    challenge = secrets.token_urlsafe(32)
    url = callback_url(row.callback, _params(row, challenge))
    sent_at = timezone.now()
    try:
        check_url(row.callback)
        response = http.request(
            "GET", url, allow_redirects=False, max_bytes=CHALLENGE_RESPONSE_CAP
        )
        code: int | None = response.status_code
        body = response.content
    except ResponseTooLarge as exc:
        code = exc.response.status_code if exc.response is not None else None
        body = None
    except (RequestError, UnsafeURL) as exc:
        row.last_status_code = None
        row.error = str(exc)[:500]
        logger.info(
            "verification_error id=%s mode=%s callback_host=%s error=%s",
            row.pk,
            row.mode,
            callback_host(row.callback),
            type(exc).__name__,
        )
        if isinstance(exc, UnsafeURL):
            row.status = Status.REFUSED
            row.completed_at = timezone.now()
            counts["refused"] += 1
        else:
            _retry_or_fail(row, timezone.now(), counts)
        row.save()
        return
    row.last_status_code = code
    now = timezone.now()
    if code is not None and code >= 500:
        # HUB-V07: only server errors and network failures are retried.
        row.error = f"HTTP {code}"
        _retry_or_fail(row, now, counts)
    elif row.mode == Mode.DENIED:
        row.status = Status.COMPLETED
        row.completed_at = now
        row.error = ""
        counts["denied_sent"] += 1
    elif code is not None and 200 <= code < 300 and body == challenge.encode():
        row.status = Status.COMPLETED
        row.completed_at = now
        row.error = ""
        counts["verified"] += 1
        _apply(row, sent_at)
    else:
        row.status = Status.REFUSED
        row.completed_at = now
        row.error = f"HTTP {code}" if body is not None else "response too large"
        if code is not None and 200 <= code < 300 and body is not None:
            row.error = "challenge not echoed"
        counts["refused"] += 1
    logger.info(
        "verification id=%s mode=%s callback_host=%s status=%s code=%s",
        row.pk,
        row.mode,
        callback_host(row.callback),
        row.status,
        code,
    )
    row.save()


def _apply(row: VerificationRequest, sent_at: datetime) -> None:
    """Apply a verified request to the (topic, callback) subscription."""
    now = timezone.now()
    if row.mode == Mode.SUBSCRIBE:
        lease = row.lease_seconds or settings.PUSH_HUB_DEFAULT_LEASE
        with transaction.atomic():
            subscription, created = HubSubscription.objects.update_or_create(
                topic=row.topic,
                callback=row.callback,
                defaults={
                    "state": HubSubscription.State.ACTIVE,
                    "secret": row.secret,
                    "hub_url": row.hub_url,
                    "lease_seconds": lease,
                    # WebSub 5.3: the lease runs from the verification request.
                    "lease_expires_at": sent_at + timedelta(seconds=lease),
                    "verified_at": now,
                    "updated_at": now,
                    "failing_since": None,
                    "consecutive_failures": 0,
                },
            )
        signals.subscribed.send(
            sender=HubSubscription, subscription=subscription, created=created
        )
        return
    ended = list(
        HubSubscription.objects.filter(topic=row.topic, callback=row.callback).exclude(
            state=HubSubscription.State.UNSUBSCRIBED
        )
    )
    end_subscriptions(ended, HubSubscription.State.UNSUBSCRIBED, "unsubscribed")


def end_subscriptions(
    subscriptions: list[HubSubscription], state: str, reason: str
) -> None:
    """Move *subscriptions* to *state*, cancel their pending deliveries."""
    if not subscriptions:
        return
    now = timezone.now()
    pks = [s.pk for s in subscriptions]
    with transaction.atomic():
        HubSubscription.objects.filter(pk__in=pks).update(state=state, updated_at=now)
        Delivery.objects.filter(
            subscription_id__in=pks, status=Delivery.Status.PENDING
        ).update(status=Delivery.Status.CANCELLED, error=f"subscription {reason}"[:500])
    for subscription in subscriptions:
        subscription.state = state
        signals.unsubscribed.send(
            sender=HubSubscription, subscription=subscription, reason=reason
        )


def queue_denied(subscriptions: list[HubSubscription], reason: str) -> list[int]:
    """Queue a ``hub.mode=denied`` notice to each subscription's callback."""
    rows = VerificationRequest.objects.bulk_create(
        [
            VerificationRequest(
                mode=Mode.DENIED,
                topic=s.topic,
                callback=s.callback,
                topic_as_sent=s.topic,
                hub_url=s.hub_url,
                reason=reason[:255],
            )
            for s in subscriptions
        ]
    )
    return [row.pk for row in rows]
