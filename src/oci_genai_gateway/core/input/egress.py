"""Outbound connections on a client's behalf, only to addresses that pass a check (SSRF guard)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses to try, as getaddrinfo would answer (injectable for tests).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
AddressCheck = Callable[[IPAddress], bool]

NON_PUBLIC = "the host resolves to a non-public address"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# Refused on top of `is_global`, which misses some of these (e.g. on 3.11 it calls the deprecated
# IPv4-compatible ::a00:1 and the 6to4 2002:a00:1:: "global"). Sources: the IANA special-purpose
# registries, https://www.iana.org/assignments/iana-ipv4-special-registry/ and
# https://www.iana.org/assignments/iana-ipv6-special-registry/
_FORBIDDEN_V4 = _networks(
    (
        "0.0.0.0/8",  # "this network", incl. the unspecified 0.0.0.0 (RFC 791)
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # shared address space / CGNAT (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, incl. the 169.254.169.254 instance metadata service
        "172.16.0.0/12",  # private (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890)
        "192.0.2.0/24",  # documentation TEST-NET-1 (RFC 5737)
        "192.88.99.0/24",  # 6to4 relay anycast, deprecated (RFC 7526)
        "192.168.0.0/16",  # private (RFC 1918)
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "198.51.100.0/24",  # documentation TEST-NET-2 (RFC 5737)
        "203.0.113.0/24",  # documentation TEST-NET-3 (RFC 5737)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, incl. the broadcast 255.255.255.255
    )
)
_FORBIDDEN_V6 = _networks(
    (
        "::/96",  # unspecified ::, loopback ::1 and the deprecated IPv4-compatible ::a.b.c.d (RFC 4291)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",  # discard-only (RFC 6666)
        "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32 (RFC 2928, RFC 4380)
        "2001:db8::/32",  # documentation (RFC 3849)
        "2002::/16",  # 6to4, deprecated (RFC 7526): it tunnels to any embedded IPv4 address
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs (RFC 9602)
        "fc00::/7",  # unique local addresses (RFC 4193)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local, deprecated (RFC 3879)
        "ff00::/8",  # multicast
    )
)
# The well-known NAT64 prefix reaches the IPv4 address in its last 32 bits (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public(address: IPAddress) -> bool:
    """True only for a globally reachable unicast address (IPv6 forms of IPv4 judged by their IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address in _NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        forbidden = _FORBIDDEN_V6
    else:
        forbidden = _FORBIDDEN_V4
    return address.is_global and not address.is_multicast and not any(address in net for net in forbidden)


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for `host` (IPv4 and IPv6), as address strings."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


class Refused(Exception):
    """A fetch refused for a reason safe to show the client (never an internal address)."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses `allow` accepts.

    httpcore hands `connect_tcp` the URL's host name and later starts TLS on the stream it gets back
    with that same name as SNI and for certificate verification, and the Host header comes from the
    URL, so the name is only used here. We resolve it ourselves (once), refuse unless every address
    passes, and connect to the checked IP literal: the OS never resolves the name again, so a DNS
    answer that changes between check and connect (rebinding) cannot redirect us. Then the peer of
    the socket actually opened is checked again (`getpeername`), so whatever sits below (an inner
    backend, a future proxy setting) cannot make us talk to an address that was not allowed.
    """

    def __init__(
        self,
        allow: AddressCheck,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow = allow
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, check every address, connect to a checked one, and check the connected peer."""
        addresses = await self._addresses(host, port)
        if not all(self._allow(address) for address in addresses):
            raise Refused(NON_PUBLIC)
        error: Exception = Refused("the host could not be reached")
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address), port, timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            peer = _peer(stream)
            if peer is None or not self._allow(peer):
                await stream.aclose()
                raise Refused(NON_PUBLIC)
            return stream
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: only TCP to a checked address."""
        raise Refused("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """httpcore's retry back-off; delegated."""
        await self._inner.sleep(seconds)

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass  # a name, not an IP literal
        try:
            answers = await self._resolver(host, port)
        except OSError:
            raise Refused("the host name could not be resolved") from None
        try:
            addresses = [ipaddress.ip_address(answer) for answer in answers]
        except ValueError:
            raise Refused("the host name could not be resolved") from None
        if not addresses:
            raise Refused("the host name could not be resolved")
        return addresses


def _peer(stream: httpcore.AsyncNetworkStream) -> IPAddress | None:
    """The remote address of the socket under `stream`; None when it cannot be known (refused then)."""
    sock = stream.get_extra_info("socket")  # a socket.socket, or asyncio's TransportSocket wrapping one
    try:
        return ipaddress.ip_address(sock.getpeername()[0])
    except (AttributeError, OSError, TypeError, ValueError):
        return None
