"""The CORS and rate-limiting request policies."""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from oci_genai_devstack.localgw.http import Headers, Response, gateway_error
from oci_genai_devstack.localgw.spec import CorsPolicy, RateLimit

Clock = Callable[[], float]
# Buckets that have refilled completely carry no state; drop them once there are this many.
_PRUNE_AT = 10_000


def is_preflight(method: str, headers: Headers) -> bool:
    """A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method."""
    return (
        method == "OPTIONS"
        and headers.get("origin") is not None
        and headers.get("access-control-request-method") is not None
    )


def preflight_response(cors: CorsPolicy, headers: Headers) -> Response | None:
    """The policy's answer to a preflight, or None when the origin is not allowed (no CORS headers)."""
    origin = headers.get("origin") or ""
    if not cors.allows(origin):
        return None
    out = _origin_headers(cors, origin)
    requested_method = (headers.get("access-control-request-method") or "").upper()
    methods = [requested_method] if "*" in cors.methods else list(cors.methods)
    out.set("access-control-allow-methods", ", ".join(methods))
    requested = headers.get("access-control-request-headers")
    if "*" in cors.headers and requested:
        out.set("access-control-allow-headers", requested)
    elif cors.headers:
        out.set("access-control-allow-headers", ", ".join(cors.headers))
    if cors.max_age:
        out.set("access-control-max-age", str(cors.max_age))
    return Response(204, b"", out)


def add_cors_headers(cors: CorsPolicy | None, request: Headers, response: Response) -> None:
    """Mark an actual response readable by an allowed origin (errors included, so browsers see them)."""
    origin = request.get("origin")
    if cors is None or origin is None or not cors.allows(origin):
        return
    for name, value in _origin_headers(cors, origin):
        response.headers.set(name, value)
    if cors.exposed:
        response.headers.set("access-control-expose-headers", ", ".join(cors.exposed))


def _origin_headers(cors: CorsPolicy, origin: str) -> Headers:
    wildcard = "*" in cors.origins and not cors.credentials
    out = Headers([("access-control-allow-origin", "*" if wildcard else origin)])
    if not wildcard:
        # The answer depends on Origin: caches must not hand it to another origin.
        out.append("vary", "Origin")
    if cors.credentials:
        out.append("access-control-allow-credentials", "true")
    return out


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per client (IPv4 address or IPv6 /64, as OCI groups them) or for everyone."""

    def __init__(self, limit: RateLimit, clock: Clock = time.monotonic) -> None:
        self._rate = float(limit.per_second)
        self._per_client = limit.per_client
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def admit(self, client_ip: str) -> float | None:
        """None when the request may pass, else the seconds until it may be retried."""
        key = client_key(client_ip) if self._per_client else "TOTAL"
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _PRUNE_AT:
                self._prune(now)
            # The bucket holds one second of requests: a burst up to the rate is fine.
            bucket = self._buckets[key] = _Bucket(self._rate, now)
        bucket.tokens = min(self._rate, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self._rate

    def _prune(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self._rate >= self._rate]
        for key in full:
            del self._buckets[key]


def client_key(client_ip: str) -> str:
    """The rate-limit key of one client address."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def too_many_requests(retry_after: float) -> Response:
    """OCI's 429, telling when to retry."""
    return gateway_error(429, Headers([("retry-after", str(max(1, math.ceil(retry_after))))]))
