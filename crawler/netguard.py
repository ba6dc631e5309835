"""Which addresses a crawl may connect to when it must stay on the public internet.

A self-check started from the web crawls a URL a user typed in. Checking that URL's host before the
crawl is not enough: a page can redirect to http://169.254.169.254/ or http://localhost:8080/, and
a host name can resolve elsewhere by the time the crawler connects. With `PATUH_PUBLIC_ONLY` on,
`PublicOnlyResolver` answers every name Scrapy connects to (start pages, links, redirects, robots.txt;
IP literals too) and refuses an address that is not globally routable, so no request ever reaches
one. Chromium only opens pages of the unit's own host, which Scrapy fetched first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def blocked(ip: Address) -> bool:
    """Whether `ip` is private, loopback, link-local, shared, reserved, multicast or unspecified
    (also as the IPv4 address inside an IPv6 one)."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None and blocked(mapped):
            return True
    return (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's resolver, refusing names that resolve to an address `blocked` names."""

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        d: defer.Deferred[str] = super().getHostByName(name, timeout)
        d.addCallback(_public, name)
        return d


_refused: dict[str, str] = {}  # host name -> why it was refused (Twisted reports only "no results")


def refusal(host: str | None) -> str | None:
    """Why connections to `host` were refused by `PublicOnlyResolver`, if they were."""
    return _refused.get(host or "")


def _public(address: Any, name: str) -> Any:
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        raise DNSLookupError(f"{name}: alamat {address!r} tidak dikenali") from None
    if blocked(ip):
        why = f"alamat privat/lokal ditolak: {name} mengarah ke {ip} (hanya situs publik)"
        if len(_refused) >= 10_000:
            _refused.clear()
        _refused[name] = why
        raise DNSLookupError(why)
    return address
