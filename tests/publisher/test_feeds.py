"""Feeds advertise hub and self in the XML and in Link headers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import pytest
from django.test import override_settings

from django_push.links import parse_link_header, urls_for
from tests.testapp.feeds import HUB, OTHER_HUB
from tests.testapp.models import Entry

ATOM = "{http://www.w3.org/2005/Atom}"

pytestmark = pytest.mark.django_db


def parse(body: bytes) -> ET.Element:
    # The feeds under test are our own output, not untrusted XML.
    return ET.fromstring(body)  # noqa: S314


def atom_links(body: bytes, rel: str) -> list[str]:
    root = parse(body)
    assert root.tag == f"{ATOM}feed"
    return [
        link.get("href", "")
        for link in root.findall(f"{ATOM}link")
        if link.get("rel") == rel
    ]


def rss_links(body: bytes, rel: str) -> list[str]:
    root = parse(body)
    assert root.tag == "rss"
    channel = root.find("channel")
    assert channel is not None
    return [
        link.get("href", "")
        for link in channel.findall(f"{ATOM}link")
        if link.get("rel") == rel
    ]


def header_links(response, rel: str) -> list[str]:
    return urls_for(parse_link_header(response.headers.get("Link")), rel)


def test_atom_feed_has_one_hub_link_and_one_absolute_self(client):
    Entry.objects.create(title="One", slug="one")
    response = client.get("/publisher/feed/")
    assert response.status_code == 200
    assert atom_links(response.content, "hub") == [HUB]
    assert atom_links(response.content, "self") == ["http://testserver/publisher/feed/"]


def test_atom_feed_lists_every_hub(client):
    response = client.get("/publisher/feed/two-hubs/")
    assert atom_links(response.content, "hub") == [HUB, OTHER_HUB]
    assert len(atom_links(response.content, "self")) == 1


def test_atom_links_are_children_of_feed_not_entries(client):
    Entry.objects.create(title="One", slug="one")
    response = client.get("/publisher/feed/")
    root = parse(response.content)
    entry = root.find(f"{ATOM}entry")
    assert entry is not None
    assert [link.get("rel") for link in entry.findall(f"{ATOM}link")] == ["alternate"]


def test_feedparser_finds_the_hub_and_self(client):
    response = client.get("/publisher/feed/two-hubs/", secure=True)
    parsed = feedparser.parse(response.content)
    rels = [(link["rel"], link["href"]) for link in parsed.feed.links]
    assert ("self", "https://testserver/publisher/feed/two-hubs/") in rels
    assert [href for rel, href in rels if rel == "hub"] == [HUB, OTHER_HUB]


def test_rss_feed_has_atom_links_in_channel(client):
    Entry.objects.create(title="One", slug="one")
    response = client.get("/publisher/feed/rss/")
    assert response["Content-Type"].startswith("application/rss+xml")
    assert b'xmlns:atom="http://www.w3.org/2005/Atom"' in response.content
    assert rss_links(response.content, "hub") == [HUB, OTHER_HUB]
    assert rss_links(response.content, "self") == [
        "http://testserver/publisher/feed/rss/"
    ]
    item = parse(response.content).find("channel/item")
    assert item is not None
    assert item.findall(f"{ATOM}link") == []


@pytest.mark.parametrize("method", ["get", "head"])
@pytest.mark.parametrize("url", ["/publisher/feed/two-hubs/", "/publisher/feed/rss/"])
def test_feeds_send_link_headers_on_get_and_head(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 200
    assert header_links(response, "hub") == [HUB, OTHER_HUB]
    assert header_links(response, "self") == [f"http://testserver{url}"]


def test_link_header_matches_the_xml(client):
    response = client.get("/publisher/feed/")
    assert header_links(response, "hub") == atom_links(response.content, "hub")
    assert header_links(response, "self") == atom_links(response.content, "self")


def test_get_hub_of_the_old_api_chooses_per_object(client):
    response = client.get("/publisher/feed/blue/")
    assert atom_links(response.content, "hub") == ["https://blue.hub.example.com/"]
    assert header_links(response, "hub") == ["https://blue.hub.example.com/"]


@pytest.mark.urls("tests.testapp.urls_default_hub")
@override_settings(PUSH_HUB=["https://a.example/hub", "/hub/"])
@pytest.mark.parametrize(
    ("url", "find"), [("/feed/", atom_links), ("/rss/", rss_links)]
)
def test_feeds_default_to_push_hub_made_absolute(client, url, find):
    response = client.get(url)
    expected = ["https://a.example/hub", "http://testserver/hub/"]
    assert find(response.content, "hub") == expected
    assert header_links(response, "hub") == expected


@pytest.mark.urls("tests.testapp.urls_default_hub")
def test_feed_without_any_hub_has_no_hub_link_and_no_header(client):
    response = client.get("/feed/")
    assert atom_links(response.content, "hub") == []
    assert "Link" not in response.headers
