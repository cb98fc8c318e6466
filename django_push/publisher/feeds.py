"""Syndication feeds that advertise their hubs (WebSub 4, PUB-01..06).

:class:`Feed` (Atom) keeps the name and the ``hub`` / ``get_hub(obj)`` API of
django-push 1.x; :class:`RssFeed` is its RSS 2.0 twin. Both put one
``rel="hub"`` link per hub and exactly one absolute ``rel="self"`` inside
the feed, and send the same links as ``Link`` headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.sites.shortcuts import get_current_site
from django.contrib.syndication.views import Feed as BaseFeed
from django.contrib.syndication.views import add_domain
from django.http import HttpRequest, HttpResponse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.xmlutils import SimplerXMLGenerator

from ..conf import settings
from .advertising import add_hub_links, hub_list

_LINKS_ATTRIBUTE = "_django_push_feed_links"


class HubAtom1Feed(Atom1Feed):
    """Atom generator adding ``<link rel="hub">`` children of ``<feed>``."""

    def add_root_elements(self, handler: SimplerXMLGenerator) -> None:
        super().add_root_elements(handler)
        for hub in self.feed.get("hubs") or ():
            handler.addQuickElement("link", "", {"rel": "hub", "href": hub})


class HubRss201rev2Feed(Rss201rev2Feed):
    """RSS 2.0 generator adding ``<atom:link rel="hub">`` to ``<channel>``.

    Django already declares ``xmlns:atom`` and writes the ``atom:link``
    ``rel="self"``.
    """

    def add_root_elements(self, handler: SimplerXMLGenerator) -> None:
        super().add_root_elements(handler)
        for hub in self.feed.get("hubs") or ():
            handler.addQuickElement("atom:link", None, {"rel": "hub", "href": hub})


class Feed(BaseFeed):  # type: ignore[type-arg,unused-ignore]
    """An Atom feed advertising its hubs in the XML and in ``Link`` headers.

    ``hub`` is a hub URL or a list of them; ``None`` (the default) means
    ``PUSH_HUB``. Override ``get_hub(obj)`` to choose per object.
    """

    feed_type: type[SyndicationFeed] = HubAtom1Feed
    hub: str | Iterable[str] | None = None

    def get_hub(self, obj: Any) -> str | Iterable[str] | None:
        """The hub URL(s) of the feed for *obj*; ``PUSH_HUB`` by default."""
        return self.hub if self.hub is not None else settings.PUSH_HUB

    def feed_extra_kwargs(self, obj: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().feed_extra_kwargs(obj)
        kwargs["hubs"] = hub_list(self.get_hub(obj))
        return kwargs

    def get_feed(self, obj: Any, request: HttpRequest) -> SyndicationFeed:
        feed = super().get_feed(obj, request)
        domain = get_current_site(request).domain
        hubs = [
            add_domain(domain, hub, request.is_secure())
            for hub in dict.fromkeys(feed.feed.get("hubs") or ())
        ]
        feed.feed["hubs"] = hubs
        setattr(request, _LINKS_ATTRIBUTE, (feed.feed["feed_url"], hubs))
        return feed

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().__call__(request, *args, **kwargs)
        self_url, hubs = getattr(request, _LINKS_ATTRIBUTE, (None, []))
        if hubs:
            add_hub_links(response, request, self_url, hubs)
        return response


class RssFeed(Feed):
    """The RSS 2.0 variant of :class:`Feed`."""

    feed_type = HubRss201rev2Feed
