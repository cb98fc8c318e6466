"""The SSRF guard."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from django.test import override_settings

from django_push.hub.ssrf import HostGuard, UnsafeURL, check_url, is_public_address


@pytest.fixture
def dns(monkeypatch):
    answers: dict[str, list[str]] = {}
    calls: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        calls.append(host)
        if host not in answers:
            raise socket.gaierror("unknown")
        return [(2, 1, 6, "", (a, 0)) for a in answers[host]]

    monkeypatch.setattr("django_push.hub.ssrf.socket.getaddrinfo", getaddrinfo)
    answers["calls"] = calls  # type: ignore[assignment]
    return answers


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.100.100.200",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
    ],
)
def test_non_public_addresses(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1"])
def test_public_addresses(address):
    assert is_public_address(ipaddress.ip_address(address))


@override_settings(PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False)
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/cb", "private"),
        ("http://[::1]:8000/cb", "private"),
        ("http://internal.example/cb", "private"),
        ("http://mixed.example/cb", "private"),
        ("http://nowhere.example/cb", "does not resolve"),
        ("gopher://public.example/", "http or https"),
        ("http://public.example/#x", "fragment"),
        ("http:///path", "no host"),
    ],
)
def test_refused_urls(dns, url, reason):
    dns["internal.example"] = ["10.0.0.5"]
    dns["mixed.example"] = ["93.184.216.34", "192.168.0.2"]
    with pytest.raises(UnsafeURL, match=reason):
        check_url(url)


@override_settings(PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False)
def test_public_host_is_allowed(dns):
    dns["public.example"] = ["93.184.216.34"]
    check_url("https://public.example/cb?x=1")


def test_private_addresses_allowed_by_setting_without_lookup(dns):
    check_url("http://internal.example/cb")
    assert dns["calls"] == []


@override_settings(PUSH_HUB_ALLOW_PRIVATE_ADDRESSES=False)
def test_guard_resolves_each_host_once(dns):
    dns["public.example"] = ["93.184.216.34"]
    dns["internal.example"] = ["10.0.0.5"]
    guard = HostGuard()
    for _ in range(3):
        guard.check("http://public.example/a")
        with pytest.raises(UnsafeURL):
            guard.check("http://internal.example/a")
    assert sorted(dns["calls"]) == ["internal.example", "public.example"]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://sub.example:8443/cb/secret-token?k=v", "sub.example:8443"),
        ("http://user:pw@sub.example/cb", "sub.example"),
        ("http://[::1/", "?"),
    ],
)
def test_callback_host_hides_the_capability_part(url, host):
    from django_push.hub.ssrf import callback_host

    assert callback_host(url) == host
