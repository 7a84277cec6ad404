"""PooledTransport: calls fill small pools in order and give their place back when the body is closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from oci_genai_gateway.core.upstream import pool as oci_pool
from oci_genai_gateway.core.upstream.pool import PooledTransport


class _Body(httpx.AsyncByteStream):
    """A body still to be read, as a real pool returns it (in-memory bodies come closed)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"x" * 10


class _Pool(httpx.MockTransport):
    """Stands in for one httpcore pool; remembers which pool served each call."""

    made: list[_Pool] = []

    def __init__(self, **options: object) -> None:  # the options of httpx.AsyncHTTPTransport
        super().__init__(lambda request: httpx.Response(200, stream=_Body()))
        self.calls = 0
        self.options = options
        _Pool.made.append(self)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await super().handle_async_request(request)


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[_Pool]:
    _Pool.made = []
    monkeypatch.setattr(oci_pool.httpx, "AsyncHTTPTransport", _Pool)
    return _Pool.made


async def test_open_calls_fill_pools_in_order_and_closing_frees_them(pools: list[_Pool]) -> None:
    transport = PooledTransport(pool_size=4)
    async with httpx.AsyncClient(transport=transport) as client:
        open_responses = [
            await client.send(client.build_request("GET", "http://oci/"), stream=True) for _ in range(10)
        ]
        assert [p.calls for p in pools] == [4, 4, 2]
        for response in open_responses:
            await response.aread()
            await response.aclose()
            await response.aclose()  # a second close must not give the place back twice
        for _ in range(3):
            assert (await client.get("http://oci/")).content == b"x" * 10
        assert [p.calls for p in pools] == [7, 4, 2]  # light traffic stays on the first pool


async def test_a_failed_call_gives_its_place_back(pools: list[_Pool]) -> None:
    transport = PooledTransport(pool_size=1)
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("http://oci/")

        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused")

        pools[0].handler = refuse
        for _ in range(3):
            with pytest.raises(httpx.ConnectError):
                await client.get("http://oci/")
    assert len(pools) == 1  # each failure freed the pool's only place


async def test_idle_connections_retire_before_a_uvicorn_server_closes_them(pools: list[_Pool]) -> None:
    # The emulator (and any stock uvicorn upstream) closes idle connections after its keep-alive;
    # a client that keeps one as long may reuse it as the server closes it, and that call fails.
    server_keep_alive = uvicorn.Config(app=None).timeout_keep_alive
    async with httpx.AsyncClient(transport=PooledTransport()) as client:
        await client.get("http://oci/")
    limits = pools[0].options["limits"]
    assert isinstance(limits, httpx.Limits)
    assert limits.keepalive_expiry is not None
    assert 0 < limits.keepalive_expiry < server_keep_alive
