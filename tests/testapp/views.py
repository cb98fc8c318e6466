"""Views advertising their hub with a Link header."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.generic import View

from django_push.publisher.advertising import HubLinkMixin, advertise_hub

from .feeds import HUB, OTHER_HUB


@advertise_hub(hubs=HUB)
def entries_json(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"entries": []})


@advertise_hub(self_url="/entries.json", hubs=[HUB, OTHER_HUB])
def canonical_json(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"entries": []})


@advertise_hub(
    self_url={"application/json": "/entries.json", "text/html": "/entries.html"},
    hubs=HUB,
)
def negotiated(request: HttpRequest) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"entries": []})
    return HttpResponse("<p>entries</p>")


@advertise_hub(hubs=HUB)
def missing(request: HttpRequest) -> HttpResponse:
    return HttpResponse("gone", status=404, content_type="text/plain")


@advertise_hub(hubs=HUB)
def already_linked(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok", content_type="text/plain")
    response["Link"] = '<https://canonical.example/x>; rel="self"'
    return response


class EntriesView(HubLinkMixin, View):
    hubs = [HUB, OTHER_HUB]
    hub_self_url = "/entries/"

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("<p>entries</p>")

    def post(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("posted")
