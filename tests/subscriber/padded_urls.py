"""A URLconf whose callback writes the primary key zero-padded."""

from __future__ import annotations

from django.urls import path, register_converter

from django_push.subscriber.views import callback


class PaddedConverter:
    regex = "[0-9]{8,}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{value:08d}"


register_converter(PaddedConverter, "padded")

urlpatterns = [
    path("hooks/<padded:pk>/", callback, name="subscriber_callback"),
]
