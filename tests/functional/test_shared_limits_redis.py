"""The shared-limits script on a real redis-server: exact counts across clients, and Redis going away."""

from __future__ import annotations

import asyncio
import logging

import pytest

from oci_genai_gateway.core.access.limits import Limiter
from oci_genai_gateway.core.access.policy import KeyPolicy, Quota
from oci_genai_gateway.core.access.shared_limits import LimiterUnavailable, SharedLimiter, connect
from oci_genai_gateway.core.errors import RateLimited
from tests.fixtures.redis import RedisServer


def instance(server: RedisServer, *, fail_closed: bool = False) -> SharedLimiter:
    """One gateway process's limiter: its own client, its own fallback counters."""
    return connect(server.url, timeout=0.5, fallback=Limiter(), fail_closed=fail_closed, retry_seconds=0.2)


async def admitted(limiters: list[SharedLimiter], policy: KeyPolicy, requests: int) -> int:
    async def one(i: int) -> bool:
        try:
            await limiters[i % len(limiters)].admit(policy)
        except RateLimited:
            return False
        return True

    return sum(await asyncio.gather(*(one(i) for i in range(requests))))


async def test_a_quota_is_exact_across_three_instances_under_concurrency(redis_server: RedisServer) -> None:
    limiters = [instance(redis_server) for _ in range(3)]
    try:
        assert await admitted(limiters, KeyPolicy("team", quota=Quota(25, "day")), 120) == 25
        # Another key has its own count.
        assert await admitted(limiters, KeyPolicy("other", quota=Quota(5, "day")), 9) == 5
    finally:
        for limiter in limiters:
            await limiter.aclose()
    with redis_server.client() as client:
        [key] = client.keys("oci-genai-gateway:{team}:quota:day:*")
        assert int(client.get(key) or 0) == 25
        assert 0 < client.ttl(key) <= 86400 + 60


async def test_the_rate_is_one_bucket_across_instances(redis_server: RedisServer) -> None:
    limiters = [instance(redis_server) for _ in range(3)]
    try:
        # A burst of 60 at 4 per second: the bucket holds 4; refills during the burst add few.
        got = await admitted(limiters, KeyPolicy("team", rps=4), 60)
        assert 4 <= got < 12
        with pytest.raises(RateLimited) as caught:
            await limiters[0].admit(KeyPolicy("team", rps=4))
        assert caught.value.headers["Retry-After"] == "1"
    finally:
        for limiter in limiters:
            await limiter.aclose()


async def test_redis_stopped_fails_open_logs_once_and_reconnects_by_itself(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = instance(redis_server)
    policy = KeyPolicy("team", quota=Quota(1000, "day"))
    try:
        await limiter.admit(policy)
        redis_server.stop()
        with caplog.at_level(logging.WARNING):
            for _ in range(20):
                await limiter.admit(policy)  # served: counted in this process
            assert limiter.down
            redis_server.start()
            while limiter.down:  # tried again at most every 0.2 s
                await asyncio.sleep(0.05)
                await limiter.admit(policy)
        events = [r.__dict__.get("event") for r in caplog.records]
        assert events == ["redis_unavailable", "redis_restored"]
        # Counted in Redis again (the restarted server kept nothing).
        with redis_server.client() as client:
            [key] = client.keys("oci-genai-gateway:{team}:quota:day:*")
            assert int(client.get(key) or 0) >= 1
    finally:
        await limiter.aclose()


async def test_redis_stopped_fails_closed_with_a_503_when_so_configured(redis_server: RedisServer) -> None:
    limiter = instance(redis_server, fail_closed=True)
    try:
        await limiter.admit(KeyPolicy("team", rps=100))
        redis_server.stop()
        with pytest.raises(LimiterUnavailable):
            await limiter.admit(KeyPolicy("team", rps=100))
        await limiter.admit(KeyPolicy("free"))  # no limits: nothing to count, served
    finally:
        await limiter.aclose()
