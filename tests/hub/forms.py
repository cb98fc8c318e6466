"""Posting form-encoded requests to the hub from the Django test client."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

FORM = "application/x-www-form-urlencoded"


def post_form(client: Client, data: Any, **headers: str) -> HttpResponse:
    """POST *data* (a dict or a list of pairs) form-encoded to the hub."""
    body = urlencode(data, doseq=True)
    response: HttpResponse = client.post(
        reverse("push_hub"), body, content_type=FORM, headers=headers
    )
    return response
