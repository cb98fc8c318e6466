"""RFC 8288 ``Link`` header parsing and formatting.

Parsing follows the grammar closely enough for WebSub discovery (SUB-D08):
several headers, several comma-separated link-values per header, quoted or
bare parameter values (commas and semicolons inside quotes or ``<...>`` are
data), several relation types in one ``rel``, matched case-insensitively.
Relative targets are resolved against the URL of the response (RFC 8288 3.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin


@dataclass(frozen=True)
class Link:
    """One link-value: a target URL, its relation types and other parameters."""

    url: str
    rels: frozenset[str]
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    """Split *text* on *separator*, ignoring it inside quotes and ``<...>``."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = in_angle = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif in_quotes and char == "\\":
            escaped = True
        elif char == '"' and not in_angle:
            in_quotes = not in_quotes
        elif char == "<" and not in_quotes:
            in_angle = True
        elif char == ">" and not in_quotes:
            in_angle = False
        elif char == separator and not in_quotes and not in_angle:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        out: list[str] = []
        chars = iter(inner)
        for char in chars:
            out.append(next(chars, "") if char == "\\" else char)
        return "".join(out)
    return value


def _parse_link_value(text: str, base_url: str | None) -> Link | None:
    text = text.strip()
    if not text.startswith("<") or ">" not in text:
        return None
    target, _, rest = text[1:].partition(">")
    params: dict[str, str] = {}
    for raw in _split_outside_quotes(rest, ";")[1:]:
        name, sep, value = raw.partition("=")
        name = name.strip().lower()
        # RFC 8288 3.3: only the first occurrence of "rel" counts.
        if name and name not in params:
            params[name] = _unquote(value) if sep else ""
    rels = frozenset(r.lower() for r in params.get("rel", "").split() if r)
    url = urljoin(base_url, target.strip()) if base_url else target.strip()
    return Link(url=url, rels=rels, params=params)


def parse_link_header(
    values: str | Iterable[str] | None, base_url: str | None = None
) -> list[Link]:
    """Parse one or several ``Link`` header values into :class:`Link` objects.

    Malformed link-values are skipped; this never raises on hostile input.
    """
    if not values:
        return []
    if isinstance(values, str):
        values = [values]
    links: list[Link] = []
    for value in values:
        for part in _split_outside_quotes(value, ","):
            link = _parse_link_value(part, base_url)
            if link is not None:
                links.append(link)
    return links


def urls_for(links: Iterable[Link], rel: str) -> list[str]:
    """The target URLs of *links* having relation *rel*, in order, deduplicated."""
    rel = rel.lower()
    seen: dict[str, None] = {}
    for link in links:
        if rel in link.rels:
            seen.setdefault(link.url, None)
    return list(seen)


def format_link_header(hubs: Iterable[str], self_url: str | None) -> str:
    """One ``Link`` value with ``rel="self"`` first, then each ``rel="hub"``.

    WebSub 7 asks for both relations in a single header.
    """
    parts: list[str] = []
    if self_url:
        parts.append(f'<{self_url}>; rel="self"')
    parts.extend(f'<{hub}>; rel="hub"' for hub in hubs)
    return ", ".join(parts)
