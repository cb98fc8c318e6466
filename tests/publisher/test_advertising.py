"""Link headers added to any view by the decorator and the mixin."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_push.links import parse_link_header, urls_for
from django_push.publisher.advertising import advertise_hub
from tests.testapp.feeds import HUB, OTHER_HUB


def links(response, rel: str) -> list[str]:
    return urls_for(parse_link_header(response.headers.get("Link")), rel)


@pytest.mark.parametrize("method", ["get", "head"])
def test_decorator_advertises_hub_and_current_url_as_self(client, method):
    response = getattr(client, method)("/publisher/entries.json?page=2")
    assert response["Content-Type"] == "application/json"
    assert links(response, "hub") == [HUB]
    assert links(response, "self") == [
        "http://testserver/publisher/entries.json?page=2"
    ]


def test_relative_self_url_is_made_absolute(client):
    response = client.get("/publisher/canonical/", secure=True)
    assert links(response, "self") == ["https://testserver/entries.json"]
    assert links(response, "hub") == [HUB, OTHER_HUB]


def test_both_relations_share_one_header_with_self_first(client):
    response = client.get("/publisher/canonical/")
    parsed = parse_link_header(response["Link"])
    assert [sorted(link.rels) for link in parsed] == [["self"], ["hub"], ["hub"]]


@pytest.mark.parametrize(
    ("accept", "self_path"),
    [("application/json", "/entries.json"), ("text/html", "/entries.html")],
)
def test_each_representation_gets_its_own_self(client, accept, self_path):
    response = client.get("/publisher/negotiated/", headers={"Accept": accept})
    assert links(response, "self") == [f"http://testserver{self_path}"]
    assert "Accept" in response["Vary"]


def test_error_responses_advertise_nothing(client):
    response = client.get("/publisher/missing/")
    assert response.status_code == 404
    assert "Link" not in response.headers


def test_an_existing_self_is_kept_and_not_doubled(client):
    response = client.get("/publisher/already-linked/")
    assert links(response, "self") == ["https://canonical.example/x"]
    assert links(response, "hub") == [HUB]


@pytest.mark.parametrize("method", ["get", "head"])
def test_mixin_adds_links_to_class_based_views(client, method):
    response = getattr(client, method)("/publisher/entries/")
    assert links(response, "hub") == [HUB, OTHER_HUB]
    assert links(response, "self") == ["http://testserver/entries/"]


def test_mixin_leaves_non_get_responses_alone(client):
    response = client.post("/publisher/entries/")
    assert response.status_code == 200
    assert "Link" not in response.headers


def test_decorator_reads_push_hub_at_request_time(rf):
    @advertise_hub()
    def view(request):
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = rf.get("/x/")
    assert "Link" not in view(request).headers
    with override_settings(PUSH_HUB=OTHER_HUB):
        response = view(rf.get("/x/"))
    assert links(response, "hub") == [OTHER_HUB]
    assert links(response, "self") == ["http://testserver/x/"]


def test_callable_self_url_sees_request_and_response(rf):
    from django.http import HttpResponse

    @advertise_hub(self_url=lambda req, resp: f"/v/{resp['X-Version']}", hubs=HUB)
    def view(request):
        response = HttpResponse("ok")
        response["X-Version"] = "7"
        return response

    response = view(rf.get("/x/"))
    assert links(response, "self") == ["http://testserver/v/7"]
    assert "Accept" in response["Vary"]


def test_mapping_without_the_media_type_sends_hubs_only(rf):
    from django.http import HttpResponse

    @advertise_hub(self_url={"application/json": "/x.json"}, hubs=HUB)
    def view(request):
        return HttpResponse("ok", content_type="text/plain")

    response = view(rf.get("/x/"))
    assert links(response, "self") == []
    assert links(response, "hub") == [HUB]


def test_links_already_complete_are_left_as_they_are(rf):
    from django.http import HttpResponse

    header = f'<https://canonical.example/x>; rel="self", <{HUB}>; rel="hub"'

    @advertise_hub(hubs=HUB)
    def view(request):
        response = HttpResponse("ok")
        response["Link"] = header
        return response

    assert view(rf.get("/x/"))["Link"] == header
