"""The demo page, its form and the JSON it polls."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from example import publishing
from example import state as demo_state
from example.models import Entry, feed_url


class EntryForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Entry
        fields = ("title", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "example/index.html", _context(EntryForm()))


@require_POST
def add_entry(request: HttpRequest) -> HttpResponse:
    form = EntryForm(request.POST)
    if not form.is_valid():
        return render(request, "example/index.html", _context(form), status=400)
    publishing.add_entry(form.cleaned_data["title"], form.cleaned_data["body"])
    return redirect("index")


@require_GET
def state(request: HttpRequest) -> JsonResponse:
    return JsonResponse(demo_state.snapshot())


def _context(form: EntryForm) -> dict[str, Any]:
    return {"form": form, "feed_url": feed_url()}
