"""Subscription requests to hubs (WebSub 5.1): building, sending, recording.

The HTTP part (:func:`build_form`, :func:`post_form`) touches no database,
so the renewal runner can call it from worker threads; :func:`send_intent`
adds the bookkeeping for a single subscription.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import requests
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import http
from ..conf import settings
from ..exceptions import RequestError, SubscriptionError
from .models import Subscription, may_send_secret

logger = logging.getLogger(__name__)

#: How many 307/308 redirects of a subscription request are followed.
MAX_REDIRECTS = 5
#: Cap on the body of a hub's answer; it is only kept as an error reason.
MAX_ANSWER_BYTES = 64 * 1024
#: How much of a hub's error body is kept in ``last_error``.
REASON_CHARS = 300

Form = list[tuple[str, str]]


@dataclass(frozen=True)
class HubAnswer:
    """A hub's 2xx answer and the hub URL that gave it."""

    response: requests.Response
    hub: str
    moved: bool


def build_form(
    *, mode: str, callback: str, topic: str, secret: str, lease_seconds: int | None
) -> Form:
    """The form body of a subscription request (SUB-S02, S04, S05)."""
    form: Form = [
        ("hub.mode", mode),
        ("hub.topic", topic),
        ("hub.callback", callback),
    ]
    if mode == Subscription.Mode.SUBSCRIBE:
        if lease_seconds is not None:
            form.append(("hub.lease_seconds", str(lease_seconds)))
        if secret:
            form.append(("hub.secret", secret))
    return form


def _reason(response: requests.Response) -> str:
    text = response.content[:REASON_CHARS].decode("utf-8", "replace").strip()
    return " ".join(text.split())


def post_form(
    hub: str, form: Form, *, session: requests.Session | None = None
) -> HubAnswer:
    """POST *form* to *hub*, re-POSTing it on 307/308 (WebSub 5.1.2).

    Returns the 2xx answer; raises :class:`SubscriptionError` carrying the
    response on any other answer, chained from the network error if any.
    """
    url, moved = hub, False
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = http.request(
                "POST",
                url,
                data=form,
                allow_redirects=False,
                max_bytes=MAX_ANSWER_BYTES,
                use_credentials=True,
                session=session,
            )
        except RequestError as exc:
            raise SubscriptionError(str(exc), None, exc.response) from exc
        status = response.status_code
        location = response.headers.get("Location")
        if status in (307, 308) and location:
            url = urljoin(url, location)
            moved = moved or status == 308
            continue
        if 200 <= status < 300:
            return HubAnswer(response, url, moved)
        mode = dict(form).get("hub.mode", "")
        raise SubscriptionError(
            f"{url} answered {status} to {mode}: {_reason(response)}", None, response
        )
    raise SubscriptionError(f"{hub} redirected more than {MAX_REDIRECTS} times")


def send_intent(
    subscription: Subscription,
    mode: str,
    lease_seconds: int | None,
    *,
    created: bool = False,
    session: requests.Session | None = None,
) -> HubAnswer:
    """Record a pending *mode* intent, commit it, then ask the hub.

    On failure the previous intent is restored (a row created for this
    request is deleted), ``last_error`` is set and :class:`SubscriptionError`
    is raised: nothing is half-saved and a live subscription stays live.
    """
    if lease_seconds is None:
        lease_seconds = settings.PUSH_LEASE_SECONDS
    if transaction.get_connection().in_atomic_block:
        logger.warning(
            "intent_inside_transaction pk=%s mode=%s: a hub verifying "
            "synchronously will not see the pending intent",
            subscription.pk,
            mode,
        )
    secret = subscription.secret if may_send_secret(subscription.hub) else ""
    # Built first: a misconfigured callback URL must fail before any write.
    form = build_form(
        mode=mode,
        callback=subscription.callback_url,
        topic=subscription.topic,
        secret=secret,
        lease_seconds=lease_seconds,
    )
    previous = (subscription.pending_mode, subscription.requested_at)
    now = timezone.now()
    changes: dict[str, object] = {"pending_mode": mode, "requested_at": now}
    if subscription.secret and not secret:
        # A secret the hub never receives would make us refuse its deliveries.
        changes["secret"] = ""
    Subscription.objects.filter(pk=subscription.pk).update(**changes)
    for name, value in changes.items():
        setattr(subscription, name, value)

    try:
        answer = post_form(subscription.hub, form, session=session)
    except SubscriptionError as exc:
        exc.subscription = subscription
        forget_intent(subscription, mode, now, previous, str(exc), created=created)
        logger.warning(
            "intent_failed pk=%s mode=%s hub=%s status=%s",
            subscription.pk,
            mode,
            subscription.hub,
            getattr(exc.response, "status_code", None),
        )
        raise
    logger.info(
        "intent_sent pk=%s mode=%s hub=%s status=%s",
        subscription.pk,
        mode,
        answer.hub,
        answer.response.status_code,
    )
    record_success(subscription, answer)
    return answer


def forget_intent(
    subscription: Subscription,
    mode: str,
    requested_at: datetime,
    previous: tuple[str, datetime | None],
    error: str,
    *,
    created: bool = False,
) -> None:
    """Undo our pending intent unless the hub already acted on it."""
    ours = Subscription.objects.filter(
        pk=subscription.pk, pending_mode=mode, requested_at=requested_at
    )
    if created and ours.filter(state=Subscription.State.UNVERIFIED).delete()[0]:
        return
    ours.update(pending_mode=previous[0], requested_at=previous[1], last_error=error)
    subscription.pending_mode, subscription.requested_at = previous
    subscription.last_error = error


def record_success(subscription: Subscription, answer: HubAnswer) -> None:
    """Clear the last error; follow a 308 by storing the hub's new URL."""
    changes: dict[str, object] = {"last_error": ""}
    if (
        answer.moved
        and answer.hub != subscription.hub
        and urlsplit(answer.hub).scheme in ("http", "https")
    ):
        changes["hub"] = answer.hub
    try:
        with transaction.atomic():
            Subscription.objects.filter(pk=subscription.pk).update(**changes)
    except IntegrityError:
        # Another row already holds (new hub, topic); keep ours as it is.
        changes.pop("hub")
        Subscription.objects.filter(pk=subscription.pk).update(**changes)
    for name, value in changes.items():
        setattr(subscription, name, value)
