"""``{% hub_links %}``: hub and self ``<link>`` elements for HTML pages (PUB-04)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..advertising import hub_list

register = template.Library()


@register.simple_tag(takes_context=True)
def hub_links(
    context: dict[str, Any],
    self_url: str | None = None,
    hubs: str | Iterable[str] | None = None,
) -> SafeString:
    """One ``<link rel="hub">`` per hub and one ``<link rel="self">``.

    Put it in ``<head>``: subscribers may ignore links in ``<body>`` (WebSub
    8.1). *self_url* defaults to the current URL and *hubs* to ``PUSH_HUB``;
    both are made absolute with the request (an empty or missing variable
    counts as not given). Renders nothing without hubs.
    """
    request = context["request"]
    hub_urls = [
        request.build_absolute_uri(hub) for hub in hub_list(hubs or None) if hub
    ]
    if not hub_urls:
        return SafeString("")
    links = format_html_join(
        "", '<link rel="hub" href="{}">', ((hub,) for hub in dict.fromkeys(hub_urls))
    )
    return format_html(
        '{}<link rel="self" href="{}">',
        links,
        request.build_absolute_uri(self_url)
        if self_url
        else request.build_absolute_uri(),
    )
