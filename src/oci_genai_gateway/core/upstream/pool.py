"""The connection pools of the gateway's OCI calls: small httpcore pools, filled in order."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

KEEPALIVE_SECONDS = 4.0


class PooledTransport(httpx.AsyncBaseTransport):
    """Connections in small httpcore pools, each holding at most `pool_size` calls, filled in order.

    httpcore walks every connection of its pool on each request and each closed response, polling
    every idle socket (its keep-alive check): one pool of 200 connections cost ~3 ms of CPU per call
    at 200 concurrent calls (bench/profile.py). Small pools bound that walk; the first pool takes
    the calls while it has room, so light traffic keeps reusing the same warm connections.
    """

    def __init__(self, pool_size: int = 16) -> None:
        self._size = pool_size
        self._pools: list[httpx.AsyncHTTPTransport] = []
        self._busy: list[int] = []
        # One TLS context for every pool: each new one would load the CA bundle again (~29 ms CPU).
        self._tls: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send on the first pool with room (a new pool when all are full)."""
        index = next((i for i, busy in enumerate(self._busy) if busy < self._size), len(self._pools))
        if index == len(self._pools):
            # Idle connections retire before 5 s, the shortest server keep-alive seen upstream (uvicorn's
            # default, the emulator's): reusing one the server is closing at that instant fails the call.
            limits = httpx.Limits(
                max_connections=None, max_keepalive_connections=self._size, keepalive_expiry=KEEPALIVE_SECONDS
            )
            self._tls = self._tls or httpx.create_ssl_context()
            self._pools.append(httpx.AsyncHTTPTransport(verify=self._tls, limits=limits))
            self._busy.append(0)
        self._busy[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        response.stream = _Released(response.stream, lambda: self._release(index))
        return response

    def _release(self, index: int) -> None:
        self._busy[index] -= 1

    async def aclose(self) -> None:
        """Close every pool."""
        for pool in self._pools:
            await pool.aclose()


class _Released(httpx.AsyncByteStream):
    """A response body that tells its pool, once, that the call is over when it is closed."""

    def __init__(self, stream: Any, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
