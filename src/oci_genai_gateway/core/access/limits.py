"""Per-key limits: rate and quota (the HTTP server) and monthly token budgets (every target).

Rate and quota are counted in this process, or in Redis across processes and instances when
GATEWAY_REDIS_URL is set (shared_limits.py). On Functions each function instance is its own
process, so rates and quotas are API Gateway's usage plans there; budgets come from the metered
totals in OCI Monitoring on both targets.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from oci_genai_gateway.core.access.policy import KeyPolicy
from oci_genai_gateway.core.errors import GatewayError, RateLimited, Unauthorized

log = logging.getLogger(__name__)

Clock = Callable[[], float]
# (team, month start, now) -> tokens metered so far this month
TokensSpent = Callable[[str, datetime, datetime], Awaitable[float]]


class InsufficientQuota(GatewayError):
    """The key's monthly token budget is spent (429, as OpenAI answers an exhausted quota)."""

    status = 429
    error_type = "insufficient_quota"
    default_code = "insufficient_quota"

    def __init__(self, team: str, budget: int, resets: datetime) -> None:
        super().__init__(
            f"API key '{team}' has used its monthly budget of {budget} tokens; "
            f"it resets at {resets.isoformat(timespec='seconds')}.",
            # Retrying cannot help before the month ends; the OpenAI SDKs honour this header.
            headers={"x-should-retry": "false"},
        )


def period_bounds(per: str, now: float) -> tuple[datetime, datetime]:
    """The calendar period (UTC) holding `now`: API Gateway quotas reset on the calendar."""
    t = datetime.fromtimestamp(now, UTC)
    if per == "month":
        start = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    if per == "week":  # ISO weeks start on Monday
        start = (t - timedelta(days=t.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=7)
    start = t.replace(second=0, microsecond=0)
    if per == "minute":
        return start, start + timedelta(minutes=1)
    start = start.replace(minute=0)
    if per == "hour":
        return start, start + timedelta(hours=1)
    start = start.replace(hour=0)
    return start, start + timedelta(days=1)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class _Count:
    period_end: float
    used: int


class Limiter:
    """Token bucket per key (`rps`) and a calendar quota per key, in this process.

    With several worker processes each enforces 1/workers of every limit: the total holds when the
    load is spread evenly, and one worker may refuse a little early when it is not.
    """

    def __init__(self, *, clock: Clock = time.time, workers: int = 1) -> None:
        self._clock = clock
        self._workers = workers
        self._buckets: dict[str, _Bucket] = {}
        self._counts: dict[str, _Count] = {}

    def admit(self, policy: KeyPolicy) -> None:
        """Count one request, or raise RateLimited (429 with Retry-After) without counting it."""
        now = self._clock()
        bucket = self._bucket(policy, now)
        count = self._count(policy, now)
        if policy.quota is not None and count is not None:
            allowed = max(1, policy.quota.requests // self._workers)
            if count.used >= allowed:
                resets = datetime.fromtimestamp(count.period_end, UTC).isoformat(timespec="seconds")
                raise RateLimited(
                    f"API key '{policy.team}' has used its quota of {policy.quota.requests} requests "
                    f"per {policy.quota.per}; it resets at {resets}.",
                    retry_after=str(max(1, math.ceil(count.period_end - now))),
                )
        if bucket is not None and policy.rps is not None:
            rate = policy.rps / self._workers
            if bucket.tokens < 1.0:
                wait = (1.0 - bucket.tokens) / rate
                raise RateLimited(
                    f"Rate limit reached for API key '{policy.team}': {policy.rps} requests per second.",
                    retry_after=str(max(1, math.ceil(wait))),
                )
            bucket.tokens -= 1.0
        if count is not None:
            count.used += 1

    def _bucket(self, policy: KeyPolicy, now: float) -> _Bucket | None:
        if policy.rps is None:
            return None
        rate = policy.rps / self._workers
        capacity = max(1.0, rate)  # one second of requests: a burst up to the rate passes
        bucket = self._buckets.setdefault(policy.team, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        return bucket

    def _count(self, policy: KeyPolicy, now: float) -> _Count | None:
        if policy.quota is None:
            return None
        count = self._counts.get(policy.team)
        if count is None or now >= count.period_end:
            _, end = period_bounds(policy.quota.per, now)
            count = self._counts[policy.team] = _Count(end.timestamp(), 0)
        return count


class SharedCounter(Protocol):
    """Rate and quota counted outside this process (shared_limits.SharedLimiter)."""

    async def admit(self, policy: KeyPolicy) -> None: ...

    async def aclose(self) -> None: ...


@dataclass
class _Spent:
    month: datetime
    fetched_at: float
    total: float
    local: float = 0.0


class Budget:
    """Tokens a key spent this month: Monitoring's total (cached) plus what this process metered since."""

    def __init__(self, spent: TokensSpent, *, ttl: float = 60.0, clock: Clock = time.time) -> None:
        self._read = spent
        self._ttl = ttl
        self._clock = clock
        self._spent: dict[str, _Spent] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check(self, policy: KeyPolicy) -> None:
        """Raise InsufficientQuota once the key's monthly budget is spent."""
        budget = policy.monthly_tokens
        if budget is None:
            return
        if await self.spent(policy.team) >= budget:
            raise InsufficientQuota(policy.team, budget, period_bounds("month", self._clock())[1])

    async def spent(self, team: str) -> float:
        """This month's tokens so far; a failed read keeps the last total (or none): budgets fail open."""
        async with self._locks.setdefault(team, asyncio.Lock()):
            now = self._clock()
            month, _ = period_bounds("month", now)
            entry = self._spent.get(team)
            if entry is None or entry.month != month or now >= entry.fetched_at + self._ttl:
                previous = entry.total + entry.local if entry is not None and entry.month == month else 0.0
                try:
                    total = await self._read(team, month, datetime.fromtimestamp(now, UTC))
                except Exception as exc:
                    log.warning(
                        "cannot read the token total from Monitoring: %s",
                        type(exc).__name__,
                        extra={"event": "budget_unreadable", "key_name": team},
                    )
                    total = previous
                # Monitoring lags ingestion by up to a minute: never go below what was counted here.
                entry = self._spent[team] = _Spent(month, now, max(total, previous))
            return entry.total + entry.local

    def add(self, team: str, tokens: float) -> None:
        """Count tokens this process just metered (until the next read from Monitoring)."""
        entry = self._spent.get(team)
        if entry is not None:
            entry.local += tokens


@dataclass(frozen=True)
class Limits:
    """The counters a key is held to: rate and quota (the HTTP server; shared when set), its budget."""

    limiter: Limiter | None = None
    budget: Budget | None = None
    clock: Clock = time.time
    shared: SharedCounter | None = None  # counts in place of `limiter` (which it falls back to)

    async def enforce(self, policy: KeyPolicy, method: str) -> None:
        """Raise 401 for a rotated-out key past its grace period, 429 past its rate, quota or budget."""
        if policy.expired(self.clock()):
            raise Unauthorized("This API key was rotated out and its grace period has ended.")
        if self.shared is not None:
            await self.shared.admit(policy)
        elif self.limiter is not None:
            self.limiter.admit(policy)
        if self.budget is not None and method == "POST":  # only generations spend tokens
            await self.budget.check(policy)

    async def aclose(self) -> None:
        """Close the shared counters' connections (on shutdown)."""
        if self.shared is not None:
            await self.shared.aclose()
