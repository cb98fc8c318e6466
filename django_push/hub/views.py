"""The hub endpoint: subscribe, unsubscribe and publish (WebSub 5, 6).

One URL serves every mode (HUB-G01). Requests are validated completely
before anything is stored; bad ones get a short ``text/plain`` 4xx. Valid
subscription requests are answered ``202`` at once and verified in the
background (WebSub 5.1.2); publish pings are answered ``204`` and fetched
in the background.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..conf import settings
from . import api, engine
from .models import VerificationRequest
from .policy import is_publisher_allowed, topic_refusal
from .protocol import (
    BadRequest,
    parse_form,
    parse_legacy,
    parse_publish,
    parse_subscription,
    single,
)
from .ssrf import callback_host
from .tasks import kick_verifications

logger = logging.getLogger(__name__)

FORM_TYPE = "application/x-www-form-urlencoded"

INFO = (
    "This is a WebSub hub. POST application/x-www-form-urlencoded with "
    "hub.mode=subscribe, unsubscribe or publish.\n"
)


def text_response(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@method_decorator(csrf_exempt, name="dispatch")
class HubView(View):
    """The WebSub hub endpoint."""

    http_method_names = ["get", "head", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return text_response(INFO, 200)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            params = self.read_params(request)
            mode = single(params, "hub.mode", required=True)
            if mode in ("subscribe", "unsubscribe"):
                return self.subscription(request, mode, params)
            if mode == "publish":
                return self.publish(request, params)
            raise BadRequest("hub.mode must be subscribe, unsubscribe or publish.")
        except BadRequest as exc:
            logger.info(
                "hub_request_refused status=%s reason=%s remote=%s",
                exc.status,
                exc.reason,
                request.META.get("REMOTE_ADDR", ""),
            )
            return text_response(exc.reason + "\n", exc.status)

    def read_params(self, request: HttpRequest) -> list[tuple[str, str]]:
        if (request.content_type or "").lower() != FORM_TYPE:
            raise BadRequest(f"The request body must be {FORM_TYPE}.", status=415)
        charset = (request.content_params or {}).get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise BadRequest("The request body must be UTF-8.", status=415)
        try:
            body = request.body
        except RequestDataTooBig as exc:
            raise BadRequest("The request body is too large.", status=413) from exc
        return parse_form(body)

    def hub_url(self, request: HttpRequest) -> str:
        return settings.PUSH_HUB_URL or request.build_absolute_uri(request.path)

    def subscription(
        self, request: HttpRequest, mode: str, params: list[tuple[str, str]]
    ) -> HttpResponse:
        parsed = parse_subscription(mode, params)
        verify, verify_token = "async", ""
        if settings.PUSH_HUB_LEGACY_03:
            verify, verify_token = parse_legacy(params)
        refusal = topic_refusal(parsed.topic) if mode == "subscribe" else None
        with transaction.atomic():
            row = VerificationRequest.objects.create(
                mode=VerificationRequest.Mode.DENIED if refusal else mode,
                topic=parsed.topic,
                callback=parsed.callback,
                topic_as_sent=parsed.topic_as_sent,
                secret="" if refusal else parsed.secret,
                lease_seconds=None if refusal else parsed.lease_seconds,
                hub_url=self.hub_url(request),
                reason=refusal or "",
                verify_token=verify_token,
            )
            if verify != "sync" or refusal:
                kick_verifications([row.pk])
        logger.info(
            "subscription_request id=%s mode=%s topic=%s callback_host=%s denied=%s",
            row.pk,
            mode,
            parsed.topic,
            callback_host(parsed.callback),
            bool(refusal),
        )
        if verify == "sync" and not refusal:
            return self.verify_now(row)
        # WebSub 5.1.2: 202 whatever verification will find.
        return text_response("Accepted; verification follows.\n", 202)

    def verify_now(self, row: VerificationRequest) -> HttpResponse:
        """PubSubHubbub 0.3 synchronous verification: 204 or 409, no retry."""
        engine.process_verifications(pk=row.pk)
        row.refresh_from_db()
        if row.status == VerificationRequest.Status.COMPLETED:
            return HttpResponse(status=204)
        if row.status == VerificationRequest.Status.PENDING:
            VerificationRequest.objects.filter(pk=row.pk).update(
                status=VerificationRequest.Status.FAILED
            )
        return text_response("Verification of intent failed.\n", 409)

    def publish(
        self, request: HttpRequest, params: list[tuple[str, str]]
    ) -> HttpResponse:
        if not is_publisher_allowed(request):
            raise BadRequest("Publishing needs valid credentials.", status=403)
        topics = parse_publish(params)
        for topic in topics:
            refusal = topic_refusal(topic)
            if refusal:
                raise BadRequest(f"{topic}: {refusal}", status=400)
        api.publish(topics, hub_url=self.hub_url(request))
        return HttpResponse(status=204)
