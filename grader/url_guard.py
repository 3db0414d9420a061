"""The one guard for every URL grader fetches or posts to: webhooks, LTI services, JWKS.

A registered LMS or an instructor chooses these URLs, so without a guard they could make
the server call its own loopback or private network (SSRF), with a bearer token attached.
A URL passes when it is absolute http(s) without credentials and, unless private addresses
are allowed (development, tests: ``GRADER_WEBHOOK_ALLOW_PRIVATE_URLS``), *every* address its
host resolves to is public. An IPv6 address that carries an IPv4 one (IPv4-mapped
``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96`` and
``64:ff9b:1::/48``, 6to4 ``2002::/16``, Teredo ``2001::/32``) is judged by that IPv4
address too, so ``http://[64:ff9b::7f00:1]/`` is loopback.

No Flask, no database: the protocol layer (``grader.lti``) and the services share it.
The check resolves names when it runs; a name that changes its answer between the check
and the request (DNS rebinding) is not caught here.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_TEREDO = ipaddress.ip_network("2001::/32")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class UnsafeUrl(ValueError):
    """A URL we refuse to call; the message says why, for the person who entered it."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (none for an ordinary one)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip in _TEREDO and ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_public_address(address: str) -> bool:
    """Globally routable unicast, and so is any IPv4 address embedded in it."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(v4.is_global and not v4.is_multicast for v4 in embedded_ipv4(ip))
    return True


def check_url(url: str, *, allow_private: bool, what: str = "URL") -> str:
    """``url`` trimmed, when grader may call it.

    Raises:
        UnsafeUrl: not absolute http(s), credentials in it, a host that does not resolve, or
            (unless ``allow_private``) one that is or resolves to a non-public address.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl(f"the {what} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl(f"the {what} must start with https:// (or http://) and name a host")
    if parts.username or parts.password:
        raise UnsafeUrl(f"put no credentials in the {what}")
    if allow_private:
        return url
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(f"the {what}'s host {host!r} does not resolve") from None
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise UnsafeUrl(
            f"the {what}'s host {host!r} is a loopback, private or reserved address; "
            "it must be reachable on the public internet"
        )
    return url
