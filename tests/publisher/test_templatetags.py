"""{% hub_links %} puts hub and self links in the HTML head."""

from __future__ import annotations

from html.parser import HTMLParser

from django.template.loader import render_to_string
from django.test import override_settings

HUB = "https://hub.example.com/"


class HeadLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_head = False
        self.links: list[tuple[str, str]] = []
        self.body_links = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self.in_head = True
        elif tag == "link":
            found = dict(attrs)
            if self.in_head:
                self.links.append((found["rel"] or "", found["href"] or ""))
            else:
                self.body_links += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False


def head_links(html: str, rel: str) -> list[str]:
    parser = HeadLinks()
    parser.feed(html)
    assert parser.body_links == 0
    return [href for found, href in parser.links if found == rel]


def render(rf, path: str = "/entries/?page=2", **context) -> str:
    request = rf.get(path)
    return render_to_string("testapp/entries.html", context, request=request)


@override_settings(PUSH_HUB=[HUB, "/hub/"])
def test_defaults_to_push_hub_and_the_current_url(rf):
    html = render(rf)
    assert head_links(html, "hub") == [HUB, "http://testserver/hub/"]
    assert head_links(html, "self") == ["http://testserver/entries/?page=2"]


def test_explicit_self_and_hubs_are_made_absolute(rf):
    html = render(rf, self_url="/entries/", hubs="https://h.example/?a=1&b=2")
    assert "?a=1&amp;b=2" in html
    assert head_links(html, "hub") == ["https://h.example/?a=1&b=2"]
    assert head_links(html, "self") == ["http://testserver/entries/"]


@override_settings(PUSH_HUB=None)
def test_renders_nothing_without_a_hub(rf):
    html = render(rf)
    assert head_links(html, "hub") == []
    assert head_links(html, "self") == []
