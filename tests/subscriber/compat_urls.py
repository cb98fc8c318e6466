"""A URLconf written the way django-push 1.x documented it."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path, re_path

from django_push.subscriber.views import CallbackView

handled: list[tuple[int, bytes, object]] = []


class MyCallback(CallbackView):
    def handle_subscription(self) -> None:
        payload = self.request.body
        handled.append((self.subscription.pk, payload, self.links))


callback = MyCallback.as_view()

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^subscriber/(?P<pk>\d+)/$", callback, name="subscriber_callback"),
]
