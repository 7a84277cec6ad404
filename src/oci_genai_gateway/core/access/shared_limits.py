"""Per-key rate and quota counted in Redis (GATEWAY_REDIS_URL): one count across workers and instances.

One Lua script per request does the token bucket and the quota check-and-count together: Redis runs
a script atomically, so two instances can never both take the last token (no read-then-write race).
The bucket is timed by Redis's own clock (`TIME`), so the instances' clocks need not agree; the
quota's calendar period is in the key's name, so a new period starts a new count.

Unreachable Redis never stops the gateway: the request is admitted by this process's own counters
(fail open, the default) or refused with a 503 (fail closed, GATEWAY_REDIS_FAIL=closed). The outage
is logged once, Redis is tried again at most every `retry_seconds` (only one request pays for the
attempt), and its return is logged once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from oci_genai_gateway.core.access.limits import Clock, Limiter, period_bounds
from oci_genai_gateway.core.access.policy import KeyPolicy
from oci_genai_gateway.core.errors import GatewayError, RateLimited

log = logging.getLogger(__name__)

# (keys, args) -> the script's reply; redis-py's AsyncScript, or a test's stand-in.
RunScript = Callable[[Sequence[str], Sequence[str | int | float]], Awaitable[Any]]

PREFIX = "oci-genai-gateway"
MAX_CONNECTIONS = 32  # per process

# KEYS[1] the bucket (hash: tokens, at), KEYS[2] the quota count of this period.
# ARGV[1] rate per second or "" (none), ARGV[2] quota or "" (none), ARGV[3] seconds the count lives.
# Reply: {0, ""} admitted and counted; {1, ""} quota spent; {2, "<seconds to wait>"} over the rate.
# Floats are returned as strings: Redis truncates a Lua number to an integer.
SCRIPT = """
local rate = tonumber(ARGV[1])
local quota = tonumber(ARGV[2])
if quota then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= quota then return {1, ''} end
end
if rate then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  local capacity = math.max(1, rate)
  local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = tonumber(b[1]) or capacity
  local at = tonumber(b[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  if tokens < 1 then return {2, tostring((1 - tokens) / rate)} end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
end
if quota then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
end
return {0, ''}
"""


class LimiterUnavailable(GatewayError):
    """Fail closed: the shared counters cannot be reached, so no limited key is admitted (503)."""

    status = 503
    error_type = "api_error"
    default_code = "rate_limiter_unavailable"

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            "The gateway cannot count this key's rate limit right now; retry shortly.",
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
        )


class SharedLimiter:
    """The key's token bucket and quota in Redis; this process's Limiter while Redis is away."""

    def __init__(
        self,
        run: RunScript,
        *,
        fallback: Limiter,
        fail_closed: bool = False,
        retry_seconds: float = 1.0,
        clock: Clock = time.time,
        monotonic: Clock = time.monotonic,
        errors: tuple[type[BaseException], ...] = (OSError,),
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._run = run
        self._fallback = fallback
        self._fail_closed = fail_closed
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._errors = errors
        self._close = close
        self._down = False
        self._retry_at = 0.0

    @property
    def down(self) -> bool:
        """True while Redis is taken to be unreachable."""
        return self._down

    async def admit(self, policy: KeyPolicy) -> None:
        """Count one request in Redis, or raise RateLimited (429) without counting it."""
        if policy.rps is None and policy.quota is None:
            return  # nothing to count: no round trip
        if self._down and self._monotonic() < self._retry_at:
            self._degraded(policy)
            return
        # Concurrent requests skip Redis while this one tries it.
        self._retry_at = self._monotonic() + self._retry_seconds
        now = self._clock()
        keys, args, period_end = _script_input(policy, now)
        try:
            reply = await self._run(keys, args)
        except self._errors as exc:
            if not self._down:
                self._down = True
                log.warning(
                    "shared rate limits unavailable (%s): %s until Redis answers again",
                    type(exc).__name__,
                    "refusing limited keys" if self._fail_closed else "counting in this process",
                    extra={"event": "redis_unavailable"},
                )
            self._degraded(policy)
            return
        if self._down:
            self._down = False
            log.warning("shared rate limits restored", extra={"event": "redis_restored"})
        _verdict(policy, reply, now, period_end)

    async def aclose(self) -> None:
        """Close the connections to Redis."""
        if self._close is not None:
            await self._close()

    def _degraded(self, policy: KeyPolicy) -> None:
        if self._fail_closed:
            raise LimiterUnavailable(self._retry_seconds)
        self._fallback.admit(policy)


def connect(
    url: str,
    *,
    timeout: float,
    fallback: Limiter,
    fail_closed: bool,
    retry_seconds: float = 1.0,
    clock: Clock = time.time,
) -> SharedLimiter:
    """A SharedLimiter on redis-py's asyncio client; connects on its first request, not here."""
    # Imported here: only a gateway configured with Redis loads the client (Functions never do).
    from redis.asyncio import BlockingConnectionPool, Redis
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
    from redis.retry import Retry

    # A bounded pool that queues: the plain pool opens one connection per concurrent request and
    # raises past 100 (measured: a burst of 200 streams failed open). One script call takes ~0.1 ms,
    # so 32 connections carry far more than a process serves. Waiting for a free connection is not
    # an outage (no timeout: a process busy with 1000 streams waited over 2 s and failed open);
    # Redis is unreachable when connecting or an answer takes over `timeout`. No client-side
    # retries: that costs one attempt, then the limiter's own back-off keeps requests away from it.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    client = Redis(connection_pool=pool)
    script = client.register_script(SCRIPT)

    async def run(keys: Sequence[str], args: Sequence[str | int | float]) -> Any:
        return await script(keys=list(keys), args=list(args))

    return SharedLimiter(
        run,
        fallback=fallback,
        fail_closed=fail_closed,
        retry_seconds=retry_seconds,
        clock=clock,
        errors=(RedisError, OSError),
        close=_closer(client, pool),
    )


def _closer(client: Any, pool: Any) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await client.aclose()
        await pool.disconnect()

    return close


def _script_input(policy: KeyPolicy, now: float) -> tuple[list[str], list[str | int | float], float]:
    # `{team}` is the keys' hash tag: on a sharded cluster both keys live on one shard, as a script needs.
    base = f"{PREFIX}:{{{policy.team}}}"
    rate: str | int = "" if policy.rps is None else policy.rps
    if policy.quota is None:
        return [f"{base}:rps", f"{base}:quota"], [rate, "", 1], 0.0
    start, end = period_bounds(policy.quota.per, now)
    ttl = max(1, math.ceil(end.timestamp() - now)) + 60  # a minute past the period: clock skew
    quota_key = f"{base}:quota:{policy.quota.per}:{int(start.timestamp())}"
    return [f"{base}:rps", quota_key], [rate, policy.quota.requests, ttl], end.timestamp()


def _verdict(policy: KeyPolicy, reply: Any, now: float, period_end: float) -> None:
    code = int(reply[0])
    if code == 1 and policy.quota is not None:
        resets = datetime.fromtimestamp(period_end, UTC).isoformat(timespec="seconds")
        raise RateLimited(
            f"API key '{policy.team}' has used its quota of {policy.quota.requests} requests "
            f"per {policy.quota.per}; it resets at {resets}.",
            retry_after=str(max(1, math.ceil(period_end - now))),
        )
    if code == 2:
        wait = float(reply[1].decode() if isinstance(reply[1], bytes) else reply[1])
        raise RateLimited(
            f"Rate limit reached for API key '{policy.team}': {policy.rps} requests per second.",
            retry_after=str(max(1, math.ceil(wait))),
        )
