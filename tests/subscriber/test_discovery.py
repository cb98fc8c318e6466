from __future__ import annotations

import pytest
import requests
from django.test import override_settings

from django_push.exceptions import DiscoveryError, RequestError
from django_push.subscriber.discovery import Discovery, discover

URL = "https://site.example/feed"
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>t</title>
  <link rel="hub" href="https://atomhub.example/"/>
  <link rel="self" href="https://site.example/atom-self"/>
</feed>"""
RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
  <title>t</title>
  <atom:link rel="hub" href="https://rsshub.example/"/>
  <atom:link rel="self" href="/rss-self"/>
</channel></rss>"""
HTML = b"""<!doctype html><html><head>
  <base href="https://cdn.example/base/">
  <link rel="stylesheet" href="x.css">
  <link rel="HUB alternate" href="https://htmlhub.example/">
  <link rel="self" href="page">
</head><body>
  <link rel="hub" href="https://evil.example/">
</body></html>"""


def test_link_headers_win_over_body(mocked):
    mocked.get(
        URL,
        body=ATOM,
        content_type="application/atom+xml",
        headers={"Link": '<https://headerhub.example/>; rel="hub", </self>; rel=self'},
    )
    found = discover(URL)
    assert found.hubs == ["https://headerhub.example/"]
    assert found.topic == "https://site.example/self"


def test_redirects_are_followed_and_final_self_is_topic(mocked):
    mocked.get(URL, status=301, headers={"Location": "https://moved.example/feed"})
    mocked.get(
        "https://moved.example/feed",
        body=b"",
        headers={"Link": '<https://hub.example/>; rel="hub", <new-self>; rel="self"'},
    )
    found = discover(URL)
    assert found.topic == "https://moved.example/new-self"
    assert found.hubs == ["https://hub.example/"]


def test_body_fills_in_what_headers_lack(mocked):
    mocked.get(
        URL,
        body=ATOM,
        content_type="application/atom+xml",
        headers={"Link": '<https://headerhub.example/>; rel="hub"'},
    )
    found = discover(URL)
    assert found.hubs == ["https://headerhub.example/"]
    assert found.topic == "https://site.example/atom-self"


def test_atom_links(mocked):
    mocked.get(URL, body=ATOM, content_type="application/atom+xml")
    found = discover(URL)
    assert found.hubs == ["https://atomhub.example/"]
    assert found.topic == "https://site.example/atom-self"


def test_rss_atom_links_resolved_against_the_feed(mocked):
    mocked.get(URL, body=RSS, content_type="application/rss+xml")
    found = discover(URL)
    assert found.hubs == ["https://rsshub.example/"]
    assert found.topic == "https://site.example/rss-self"


def test_html_head_links_only(mocked):
    mocked.get(URL, body=HTML, content_type="text/html; charset=utf-8")
    found = discover(URL)
    assert found.hubs == ["https://htmlhub.example/"]
    assert found.topic == "https://cdn.example/base/page"


def test_html_served_without_html_content_type(mocked):
    mocked.get(URL, body=HTML, content_type="application/octet-stream")
    assert discover(URL).hubs == ["https://htmlhub.example/"]


def test_no_hub_is_an_error_carrying_the_response(mocked):
    mocked.get(URL, body=b"<feed xmlns='http://www.w3.org/2005/Atom'/>")
    with pytest.raises(DiscoveryError) as info:
        discover(URL)
    assert info.value.response is not None
    assert info.value.response.status_code == 200


def test_no_self_is_an_error_by_default(mocked):
    mocked.get(URL, headers={"Link": '<https://hub.example/>; rel="hub"'})
    with pytest.raises(DiscoveryError, match="rel=self"):
        discover(URL)


@override_settings(PUSH_SELF_FALLBACK=True)
def test_self_fallback_uses_final_url(mocked):
    mocked.get(URL, headers={"Link": '<https://hub.example/>; rel="hub"'})
    assert discover(URL).topic == URL


def test_error_status_is_a_discovery_error(mocked):
    mocked.get(URL, status=404)
    with pytest.raises(DiscoveryError) as info:
        discover(URL)
    assert info.value.response.status_code == 404


def test_network_error_is_a_discovery_error(mocked):
    mocked.get(URL, body=requests.ConnectionError("down"))
    with pytest.raises(DiscoveryError) as info:
        discover(URL)
    assert isinstance(info.value.__cause__, RequestError)


def test_preferred_hub_is_a_configured_one():
    found = Discovery(topic=URL, hubs=["https://a.example/", "https://b.example/"])
    assert found.preferred_hub(["https://b.example/"]) == "https://b.example/"
    assert found.preferred_hub([]) == "https://a.example/"
