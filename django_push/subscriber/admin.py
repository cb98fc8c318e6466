"""Admin for subscriptions: actions enqueue tasks instead of blocking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..tasks import enqueue_on_commit
from .models import Subscription, may_send_secret, new_secret
from .tasks import subscribe_subscription, unsubscribe_subscription

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Subscription]
else:
    _ModelAdmin = admin.ModelAdmin

#: Fields only the protocol changes; never edited by hand.
PROTOCOL_FIELDS = (
    "state",
    "verified",
    "pending_mode",
    "requested_at",
    "lease_seconds",
    "lease_expiration",
    "denied_reason",
    "last_notification_at",
    "last_error",
)


class ExpiredFilter(admin.SimpleListFilter):
    title = _("expired")
    parameter_name = "expired"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("yes", str(_("Yes"))), ("no", str(_("No")))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Any]
    ) -> QuerySet[Any] | None:
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(lease_expiration__lte=now)
        if self.value() == "no":
            return queryset.exclude(lease_expiration__lte=now)
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(_ModelAdmin):
    list_display = ("topic", "hub", "state", "lease_expiration", "expired")
    list_filter = ("state", ExpiredFilter, "hub")
    search_fields = ("topic", "hub")
    actions = ["renew", "unsubscribe"]
    # The secret is never shown; verify_token is a 1.x leftover.
    exclude = ("secret", "verify_token")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(
        self, request: HttpRequest, obj: Subscription | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return PROTOCOL_FIELDS
        # Changing the hub or topic of a live subscription would orphan it.
        return ("hub", "topic", *PROTOCOL_FIELDS)

    @admin.display(boolean=True, description=_("expired"))
    def expired(self, obj: Subscription) -> bool:
        return obj.has_expired()

    def save_model(
        self,
        request: HttpRequest,
        obj: Subscription,
        form: ModelForm[Any],
        change: bool,
    ) -> None:
        if not change:
            obj.secret = new_secret() if may_send_secret(obj.hub) else ""
        super().save_model(request, obj, form, change)
        if not change:
            enqueue_on_commit(subscribe_subscription, obj.pk)
            self.message_user(
                request, _("The subscription request is being sent to the hub.")
            )

    @admin.action(description=_("Subscribe or renew selected subscriptions"))
    def renew(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        for pk in pks:
            enqueue_on_commit(subscribe_subscription, pk)
        self.message_user(
            request,
            ngettext(
                "%(count)d subscription request is being sent.",
                "%(count)d subscription requests are being sent.",
                len(pks),
            )
            % {"count": len(pks)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unsubscribe from selected topics"))
    def unsubscribe(
        self, request: HttpRequest, queryset: QuerySet[Subscription]
    ) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        for pk in pks:
            enqueue_on_commit(unsubscribe_subscription, pk)
        self.message_user(
            request,
            ngettext(
                "%(count)d unsubscription request is being sent.",
                "%(count)d unsubscription requests are being sent.",
                len(pks),
            )
            % {"count": len(pks)},
            messages.SUCCESS,
        )
