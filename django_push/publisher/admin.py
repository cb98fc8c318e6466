"""Admin for failed publish pings waiting for a retry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .models import PendingPing

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[PendingPing]
else:
    _ModelAdmin = admin.ModelAdmin


@admin.register(PendingPing)
class PendingPingAdmin(_ModelAdmin):
    list_display = ("topic", "hub", "attempts", "next_attempt_at", "last_error")
    list_filter = ("hub",)
    search_fields = ("topic",)
    ordering = ("next_attempt_at",)
    readonly_fields = ("created_at",)
    actions = ("retry_now",)

    @admin.action(description="Make the selected pings due now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[PendingPing]) -> None:
        count = queryset.update(next_attempt_at=timezone.now())
        self.message_user(
            request,
            f"{count} ping(s) are due; push_publish_retry or the next retry "
            f"task sends them.",
            messages.SUCCESS,
        )
