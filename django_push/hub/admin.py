"""The hub's admin console: subscriptions and deliveries.

Protocol fields are read-only: subscriptions change through the protocol
or through the actions here, which queue their work (deliveries, ``denied``
notices) as background tasks instead of making requests from the admin.
Bodies and error messages are shown escaped and truncated, never rendered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from . import engine
from .models import Delivery, HubSubscription

#: Characters of a body shown on a delivery's page.
BODY_EXCERPT_CHARS = 2000

#: Characters of an error shown in the delivery list.
ERROR_EXCERPT_CHARS = 80

#: Reason sent with the ``denied`` notice when an operator suspends.
SUSPEND_REASON = "The subscription was suspended by the hub's operator."

if TYPE_CHECKING:
    SubscriptionAdminBase = admin.ModelAdmin[HubSubscription]
    DeliveryAdminBase = admin.ModelAdmin[Delivery]
else:
    # ModelAdmin is generic for the type checker only.
    SubscriptionAdminBase = DeliveryAdminBase = admin.ModelAdmin


class BucketFilter(admin.SimpleListFilter):
    """A filter whose choices map to fixed query conditions (no lookups)."""

    buckets: dict[str, tuple[str, Q]] = {}

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.buckets.items()]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Any]
    ) -> QuerySet[Any] | None:
        value = self.value()
        if value not in self.buckets:
            return queryset
        return queryset.filter(self.buckets[value][1])


class AttemptsFilter(BucketFilter):
    title = "attempts"
    parameter_name = "attempts"
    buckets = {
        "0": ("none", Q(attempts=0)),
        "1": ("one", Q(attempts=1)),
        "2-4": ("2 to 4", Q(attempts__gte=2, attempts__lte=4)),
        "5+": ("5 or more", Q(attempts__gte=5)),
    }


class StatusCodeFilter(BucketFilter):
    title = "last status code"
    parameter_name = "code"
    buckets = {
        "2xx": ("2xx", Q(last_status_code__gte=200, last_status_code__lt=300)),
        "3xx": ("3xx (redirects, not followed)", Q(last_status_code__range=(300, 399))),
        "4xx": ("4xx", Q(last_status_code__gte=400, last_status_code__lt=500)),
        "410": ("410 Gone", Q(last_status_code=410)),
        "5xx": ("5xx", Q(last_status_code__gte=500)),
        "none": (
            "no response (network error)",
            Q(last_status_code__isnull=True, attempts__gt=0),
        ),
    }


class LatencyFilter(BucketFilter):
    title = "latency"
    parameter_name = "latency"
    buckets = {
        "fast": ("under 100 ms", Q(latency_ms__lt=100)),
        "medium": ("100 ms to 1 s", Q(latency_ms__gte=100, latency_ms__lt=1000)),
        "slow": ("1 s to 10 s", Q(latency_ms__gte=1000, latency_ms__lt=10_000)),
        "timeout": ("10 s or more", Q(latency_ms__gte=10_000)),
    }


class ErrorFilter(BucketFilter):
    title = "error"
    parameter_name = "error"
    buckets = {
        "yes": ("with an error", ~Q(error="")),
        "no": ("without an error", Q(error="")),
    }


class FailingFilter(BucketFilter):
    title = "failures"
    parameter_name = "failing"
    buckets = {
        "yes": ("failing now", Q(consecutive_failures__gt=0)),
        "no": ("not failing", Q(consecutive_failures=0)),
    }


class LeaseFilter(admin.SimpleListFilter):
    title = "lease"
    parameter_name = "lease"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [
            ("over", "over"),
            ("day", "ends within a day"),
            ("later", "ends later"),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Any]
    ) -> QuerySet[Any] | None:
        now = timezone.now()
        tomorrow = now + timedelta(days=1)
        conditions = {
            "over": Q(lease_expires_at__lte=now) | Q(lease_expires_at__isnull=True),
            "day": Q(lease_expires_at__gt=now, lease_expires_at__lte=tomorrow),
            "later": Q(lease_expires_at__gt=tomorrow),
        }
        value = self.value()
        if value not in conditions:
            return queryset
        return queryset.filter(conditions[value])


@admin.register(HubSubscription)
class HubSubscriptionAdmin(SubscriptionAdminBase):
    list_display = (
        "callback",
        "topic",
        "state",
        "lease_expires_at",
        "consecutive_failures",
        "last_success_at",
        "last_failure_at",
    )
    list_filter = ("state", LeaseFilter, FailingFilter)
    search_fields = ("callback", "topic")
    ordering = ("-pk",)
    show_full_result_count = False
    # The secret is never shown; whether there is one is.
    fields = (
        "topic",
        "callback",
        "state",
        "has_secret",
        "hub_url",
        "lease_seconds",
        "lease_expires_at",
        "created_at",
        "updated_at",
        "verified_at",
        "last_success_at",
        "last_failure_at",
        "failing_since",
        "consecutive_failures",
    )
    readonly_fields = fields
    actions = ("send_test_delivery", "suspend", "resume", "replay_failed")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(boolean=True, description="secret")
    def has_secret(self, obj: HubSubscription) -> bool:
        return bool(obj.secret)

    @admin.action(
        description="Send a test delivery (latest body of the topic)",
        permissions=["change"],
    )
    def send_test_delivery(
        self, request: HttpRequest, queryset: QuerySet[HubSubscription]
    ) -> None:
        queued = skipped = 0
        for subscription in queryset:
            if not subscription.is_deliverable():
                skipped += 1
                continue
            try:
                engine.send_test_delivery(subscription)
            except ValueError:
                skipped += 1
            else:
                queued += 1
        if queued:
            self.message_user(
                request, f"Queued {queued} test deliveries.", messages.SUCCESS
            )
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} subscriptions that are not active "
                "or whose topic has no body yet.",
                messages.WARNING,
            )

    @admin.action(
        description="Suspend (stop deliveries, send denied)", permissions=["change"]
    )
    def suspend(
        self, request: HttpRequest, queryset: QuerySet[HubSubscription]
    ) -> None:
        chosen = list(queryset.filter(state=HubSubscription.State.ACTIVE))
        for subscription in chosen:
            engine.deny(subscription, SUSPEND_REASON, HubSubscription.State.SUSPENDED)
        self.message_user(
            request, f"Suspended {len(chosen)} active subscriptions.", messages.SUCCESS
        )

    @admin.action(description="Resume suspended subscriptions", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[HubSubscription]) -> None:
        chosen = list(queryset.filter(state=HubSubscription.State.SUSPENDED))
        for subscription in chosen:
            engine.resume(subscription)
        self.message_user(
            request, f"Resumed {len(chosen)} suspended subscriptions.", messages.SUCCESS
        )

    @admin.action(description="Replay failed deliveries", permissions=["change"])
    def replay_failed(
        self, request: HttpRequest, queryset: QuerySet[HubSubscription]
    ) -> None:
        failed = Delivery.objects.filter(
            subscription__in=queryset, status=Delivery.Status.FAILED
        ).values_list("pk", flat=True)
        count = engine.replay(list(failed))
        self.message_user(
            request, f"Queued {count} failed deliveries again.", messages.SUCCESS
        )


@admin.register(Delivery)
class DeliveryAdmin(DeliveryAdminBase):
    list_display = (
        "pk",
        "status",
        "callback",
        "topic",
        "attempts",
        "last_status_code",
        "latency",
        "error_excerpt",
        "next_attempt_at",
        "last_attempt_at",
    )
    list_filter = (
        "status",
        AttemptsFilter,
        StatusCodeFilter,
        LatencyFilter,
        ErrorFilter,
    )
    list_select_related = ("subscription",)
    search_fields = ("subscription__callback", "subscription__topic", "error")
    ordering = ("-pk",)
    show_full_result_count = False
    fields = (
        "subscription",
        "publish",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "last_attempt_at",
        "delivered_at",
        "last_status_code",
        "latency_ms",
        "error",
        "created_at",
        "content_type",
        "content_size",
        "body_excerpt",
    )
    readonly_fields = fields
    actions = ("replay",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="callback", ordering="subscription__callback")
    def callback(self, obj: Delivery) -> str:
        return obj.subscription.callback

    @admin.display(description="topic", ordering="subscription__topic")
    def topic(self, obj: Delivery) -> str:
        return obj.subscription.topic

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, obj: Delivery) -> str | None:
        return None if obj.latency_ms is None else f"{obj.latency_ms} ms"

    @admin.display(description="error")
    def error_excerpt(self, obj: Delivery) -> str:
        return Truncator(obj.error).chars(ERROR_EXCERPT_CHARS)

    @admin.display(description="content type")
    def content_type(self, obj: Delivery) -> str:
        return obj.content.content_type

    @admin.display(description="body size (bytes)")
    def content_size(self, obj: Delivery) -> int:
        return obj.content.size

    @admin.display(description="body")
    def body_excerpt(self, obj: Delivery) -> SafeString:
        # Four bytes per character at most: enough for the excerpt.
        head = bytes(obj.content.body[: BODY_EXCERPT_CHARS * 4])
        text = head.decode("utf-8", errors="replace")
        # format_html escapes the text: a body is never rendered as HTML.
        return format_html("<pre>{}</pre>", Truncator(text).chars(BODY_EXCERPT_CHARS))

    @admin.action(
        description="Replay (failed or cancelled only)", permissions=["change"]
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        count = engine.replay(chosen)
        self.message_user(
            request, f"Queued {count} deliveries again.", messages.SUCCESS
        )
        if count < len(chosen):
            self.message_user(
                request,
                f"Skipped {len(chosen) - count} deliveries that had not failed "
                "or been cancelled.",
                messages.WARNING,
            )
