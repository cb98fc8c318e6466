"""Hub and topic discovery (WebSub 4; SUB-D01..D12).

The topic URL is fetched with redirects followed. The final response's
``Link`` headers are checked first; only what they lack is looked for in
the body: ``<link>`` elements of an Atom or RSS feed (through feedparser) or
of an HTML ``<head>``. The canonical topic is the ``rel=self`` found there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import feedparser
import requests

from .. import http
from ..conf import settings
from ..exceptions import DiscoveryError, RequestError
from ..links import parse_link_header, urls_for

logger = logging.getLogger(__name__)

ACCEPT = (
    "application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, "
    "text/html;q=0.7, */*;q=0.5"
)


@dataclass(frozen=True)
class Discovery:
    """What discovery found: the canonical topic and the advertised hubs."""

    topic: str
    hubs: list[str]
    response: requests.Response | None = field(default=None, compare=False)

    def preferred_hub(self, configured: Sequence[str] = ()) -> str:
        """The first advertised hub that is also configured, else the first one."""
        for hub in self.hubs:
            if hub in configured:
                return hub
        return self.hubs[0]


class _HeadLinks(HTMLParser):
    """Collects ``<link rel href>`` of an HTML ``<head>`` (WebSub 8.1)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.links: list[tuple[frozenset[str], str]] = []
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self.done = True
            return
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and values.get("href"):
            self.base_url = urljoin(self.base_url, values["href"])
        elif tag == "link" and values.get("href"):
            rels = frozenset(values.get("rel", "").lower().split())
            self.links.append((rels, values["href"].strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.done = True

    def urls_for(self, rel: str) -> list[str]:
        seen: dict[str, None] = {}
        for rels, href in self.links:
            if rel in rels:
                seen.setdefault(urljoin(self.base_url, href), None)
        return list(seen)


def html_links(
    body: bytes, base_url: str, encoding: str | None
) -> dict[str, list[str]]:
    """``{"hub": [...], "self": [...]}`` from the ``<head>`` of an HTML page."""
    parser = _HeadLinks(base_url)
    parser.feed(body.decode(encoding or "utf-8", "replace"))
    parser.close()
    return {"hub": parser.urls_for("hub"), "self": parser.urls_for("self")}


def feed_links(body: bytes, base_url: str, content_type: str) -> dict[str, list[str]]:
    """``{"hub": [...], "self": [...]}`` from an Atom or RSS feed's own links."""
    parsed = feedparser.parse(
        body,
        response_headers={"content-location": base_url, "content-type": content_type},
    )
    found: dict[str, list[str]] = {"hub": [], "self": []}
    for link in parsed.feed.get("links", []):
        rels = str(link.get("rel", "")).lower().split()
        href = link.get("href")
        for rel in ("hub", "self"):
            if rel in rels and href:
                url = urljoin(base_url, str(href))
                if url not in found[rel]:
                    found[rel].append(url)
    return found


def body_links(response: requests.Response) -> dict[str, list[str]]:
    """Links embedded in the body, by the kind of document (SUB-D02)."""
    content_type = response.headers.get("Content-Type", "")
    base_url = response.url
    body = response.content
    if "html" in content_type.lower():
        return html_links(body, base_url, response.encoding)
    found = feed_links(body, base_url, content_type)
    if not found["hub"] and not found["self"] and b"<html" in body[:4096].lower():
        return html_links(body, base_url, response.encoding)
    return found


def discover(url: str) -> Discovery:
    """Fetch *url* and return its canonical topic and hubs.

    Raises :class:`DiscoveryError` (carrying the response) when the fetch
    fails, when no hub is advertised, or when no ``rel=self`` is advertised
    and ``PUSH_SELF_FALLBACK`` is off.
    """
    try:
        response = http.request(
            "GET",
            url,
            headers={"Accept": ACCEPT},
            max_bytes=settings.PUSH_MAX_BODY_SIZE,
        )
    except RequestError as exc:
        raise DiscoveryError(
            f"Fetching {url} for discovery failed: {exc}", None, exc.response
        ) from exc
    if not 200 <= response.status_code < 300:
        raise DiscoveryError(
            f"Fetching {url} for discovery answered {response.status_code}",
            None,
            response,
        )
    # Link headers first; the body only fills in what they lack (SUB-D03).
    links = parse_link_header(response.headers.get("Link"), base_url=response.url)
    hubs, selves = urls_for(links, "hub"), urls_for(links, "self")
    if not hubs or not selves:
        embedded = body_links(response)
        hubs = hubs or embedded["hub"]
        selves = selves or embedded["self"]
    if not hubs:
        raise DiscoveryError(f"{response.url} advertises no hub", None, response)
    if selves:
        topic = selves[0]
    elif settings.PUSH_SELF_FALLBACK:
        topic = response.url
    else:
        raise DiscoveryError(
            f"{response.url} advertises no rel=self topic URL", None, response
        )
    logger.info("discovered url=%s topic=%s hubs=%s", url, topic, len(hubs))
    return Discovery(topic=topic, hubs=hubs, response=response)
