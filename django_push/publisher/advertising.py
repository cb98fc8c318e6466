"""``Link`` headers that advertise hubs and the canonical topic URL.

WebSub 4 (PUB-02): at least one ``rel="hub"`` and exactly one
``rel="self"``, both absolute (PUB-06), on GET and HEAD. Any view can use
:func:`advertise_hub` or :class:`HubLinkMixin`; feeds send them on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

from ..conf import settings
from ..links import format_link_header, parse_link_header, urls_for

ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponseBase])

#: How a view names its topic URL: one URL (absolute or a path), a mapping of
#: response media type to URL (one self per representation, WebSub 4.1), or
#: a callable ``(request, response) -> URL``.
SelfURL = str | Mapping[str, str] | Callable[[HttpRequest, HttpResponseBase], str]


def hub_list(value: str | Iterable[str] | None) -> list[str]:
    """Hub URL(s) as a list: *value* if given, else ``PUSH_HUB``."""
    if value is None:
        return settings.PUSH_HUB
    if isinstance(value, str):
        return [value]
    return list(value)


def _media_type(response: HttpResponseBase) -> str:
    return response.get("Content-Type", "").split(";")[0].strip().lower()


def resolve_self_url(
    self_url: SelfURL | None, request: HttpRequest, response: HttpResponseBase
) -> str | None:
    """The absolute ``rel=self`` URL of *response*, or None if none applies."""
    if self_url is None:
        url: str | None = request.build_absolute_uri()
    elif isinstance(self_url, str):
        url = self_url
    elif isinstance(self_url, Mapping):
        url = self_url.get(_media_type(response))
    else:
        url = self_url(request, response)
    return None if url is None else request.build_absolute_uri(url)


def add_hub_links(
    response: HttpResponseBase,
    request: HttpRequest,
    self_url: str | None,
    hubs: Iterable[str],
) -> HttpResponseBase:
    """Add ``rel=self`` and ``rel=hub`` to *response*'s ``Link`` header.

    Links already present are kept, and a ``rel=self`` is added only if
    there is none yet, so the response always has exactly one.
    """
    existing = response.get("Link", "")
    links = parse_link_header(existing)
    known_hubs = urls_for(links, "hub")
    hubs = [
        request.build_absolute_uri(hub)
        for hub in dict.fromkeys(hubs)
        if request.build_absolute_uri(hub) not in known_hubs
    ]
    if urls_for(links, "self"):
        self_url = None
    value = format_link_header(hubs, self_url)
    if value:
        response["Link"] = f"{existing}, {value}" if existing else value
    return response


def advertise(
    request: HttpRequest,
    response: HttpResponseBase,
    self_url: SelfURL | None = None,
    hubs: str | Iterable[str] | None = None,
) -> HttpResponseBase:
    """Advertise on a successful GET/HEAD *response*; leave others alone."""
    if request.method not in ("GET", "HEAD") or not 200 <= response.status_code < 300:
        return response
    hub_urls = hub_list(hubs)
    if not hub_urls:
        return response
    if isinstance(self_url, Mapping) or callable(self_url):
        # The self URL depends on the representation chosen (WebSub 4.1).
        patch_vary_headers(response, ("Accept",))
    return add_hub_links(
        response, request, resolve_self_url(self_url, request, response), hub_urls
    )


def advertise_hub(
    self_url: SelfURL | None = None, hubs: str | Iterable[str] | None = None
) -> Callable[[ViewT], ViewT]:
    """View decorator adding ``Link`` rel=hub and rel=self headers.

    *self_url* defaults to the absolute URL of the request; see
    :data:`SelfURL` for the other forms. *hubs* defaults to ``PUSH_HUB``,
    read at each request.
    """

    def decorator(view: ViewT) -> ViewT:
        @wraps(view)
        def wrapped(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
            return advertise(request, response, self_url, hubs)

        return cast(ViewT, wrapped)

    return decorator


class HubLinkMixin:
    """Class-based view mixin adding ``Link`` rel=hub and rel=self headers.

    Set :attr:`hub_self_url` and :attr:`hubs`, or override
    :meth:`get_hub_self_url` and :meth:`get_hubs`.
    """

    hub_self_url: SelfURL | None = None
    hubs: str | Iterable[str] | None = None
    request: HttpRequest

    def get_hub_self_url(self) -> SelfURL | None:
        return self.hub_self_url

    def get_hubs(self) -> str | Iterable[str] | None:
        return self.hubs

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        return advertise(request, response, self.get_hub_self_url(), self.get_hubs())
