"""The hub's guard against server-side request forgery (HUB-G03).

A hub fetches topics and calls callbacks that strangers name, so it must not
become a way into the network it runs in. Every URL the hub requests is
checked here first: http(s) only, no fragment, no credentials, and unless
``PUSH_HUB_ALLOW_PRIVATE_ADDRESSES`` is set, every address the host resolves
to must be public (not private, loopback, link-local, multicast, reserved or
a cloud metadata address).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ..conf import settings
from ..exceptions import PushError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud metadata endpoints that are not already link-local.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)


class UnsafeURL(PushError):
    """A URL the hub refuses to request; the message says why."""


def check_syntax(url: str) -> None:
    """Refuse anything but an absolute http(s) URL without fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("is not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("must be an absolute http or https URL")
    if not parts.hostname:
        raise UnsafeURL("has no host")
    if "#" in url:
        raise UnsafeURL("must not contain a fragment")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("must not contain credentials")
    if port == 0:
        raise UnsafeURL("has an invalid port")
    if any(ord(char) <= 32 or ord(char) == 127 for char in url):
        raise UnsafeURL("contains whitespace or control characters")


def is_public_address(address: IPAddress) -> bool:
    """Whether *address* is a public unicast address the hub may contact."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in METADATA_ADDRESSES
    ) and bool(address.is_global)


def resolve(host: str) -> list[IPAddress]:
    """Every address *host* resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL("has a host name that does not resolve") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]
        addresses.append(ipaddress.ip_address(raw))
    return addresses


def check_host(host: str) -> None:
    """Refuse *host* if any of its addresses is not public (unless allowed)."""
    if settings.PUSH_HUB_ALLOW_PRIVATE_ADDRESSES:
        return
    addresses = resolve(host)
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise UnsafeURL("points to a private or reserved address")


def check_url(url: str) -> None:
    """Refuse *url* unless the hub may request it; raises :class:`UnsafeURL`."""
    check_syntax(url)
    check_host(urlsplit(url).hostname or "")


class HostGuard:
    """:func:`check_url` with each host's answer remembered for one batch.

    A fan-out to many callbacks on the same host resolves the host once.
    """

    def __init__(self) -> None:
        self._answers: dict[str, str | None] = {}

    def check(self, url: str) -> None:
        check_syntax(url)
        host = urlsplit(url).hostname or ""
        if host not in self._answers:
            try:
                check_host(host)
            except UnsafeURL as exc:
                self._answers[host] = str(exc)
            else:
                self._answers[host] = None
        reason = self._answers[host]
        if reason is not None:
            raise UnsafeURL(reason)


def callback_host(url: str) -> str:
    """The host of a callback URL, for logs: callbacks are capability URLs
    (WebSub 5.1) and are not logged whole."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2]
    except ValueError:
        return "?"
