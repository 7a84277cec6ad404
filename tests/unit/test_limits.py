"""In-process rate, quota and budget: calendar periods, Retry-After, workers, Monitoring totals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oci_genai_gateway.core.access.limits import Budget, InsufficientQuota, Limiter, period_bounds
from oci_genai_gateway.core.access.policy import KeyPolicy, Quota
from oci_genai_gateway.core.errors import RateLimited

# Wednesday 2026-07-15 10:20:30 UTC
T0 = datetime(2026, 7, 15, 10, 20, 30, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("per", "start", "end"),
    [
        ("minute", "2026-07-15T10:20:00", "2026-07-15T10:21:00"),
        ("hour", "2026-07-15T10:00:00", "2026-07-15T11:00:00"),
        ("day", "2026-07-15T00:00:00", "2026-07-16T00:00:00"),
        ("week", "2026-07-13T00:00:00", "2026-07-20T00:00:00"),  # ISO weeks start on Monday
        ("month", "2026-07-01T00:00:00", "2026-08-01T00:00:00"),
    ],
)
def test_quota_periods_are_calendar_periods_in_utc(per: str, start: str, end: str) -> None:
    got = period_bounds(per, T0)
    assert [t.isoformat(timespec="seconds") for t in got] == [start + "+00:00", end + "+00:00"]


def test_december_rolls_into_the_next_year() -> None:
    december = datetime(2026, 12, 31, 23, 59, tzinfo=UTC).timestamp()
    assert period_bounds("month", december)[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_the_rate_is_a_token_bucket_per_key_with_retry_after() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    team_a, team_b = KeyPolicy("a", rps=2), KeyPolicy("b", rps=2)
    limiter.admit(team_a)
    limiter.admit(team_a)
    with pytest.raises(RateLimited) as refused:
        limiter.admit(team_a)
    assert refused.value.headers == {"Retry-After": "1"}
    assert "'a'" in refused.value.message
    assert "2 requests per second" in refused.value.message
    limiter.admit(team_b)  # another key has its own bucket
    clock.now += 0.5
    limiter.admit(team_a)  # half a second refills one request at 2 per second


def test_the_quota_resets_with_the_calendar_and_says_when() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    policy = KeyPolicy("a", quota=Quota(2, "minute"))
    limiter.admit(policy)
    limiter.admit(policy)
    with pytest.raises(RateLimited) as refused:
        limiter.admit(policy)
    assert refused.value.headers == {"Retry-After": "30"}  # 10:20:30 -> 10:21:00
    assert "resets at 2026-07-15T10:21:00+00:00" in refused.value.message
    clock.now += 30
    limiter.admit(policy)


def test_a_request_refused_by_the_rate_does_not_count_against_the_quota() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    policy = KeyPolicy("a", rps=1, quota=Quota(2, "hour"))
    limiter.admit(policy)
    for _ in range(3):
        with pytest.raises(RateLimited, match="per second"):
            limiter.admit(policy)
    clock.now += 1
    limiter.admit(policy)
    clock.now += 1
    with pytest.raises(RateLimited, match="quota of 2 requests per hour"):
        limiter.admit(policy)


def test_each_of_several_workers_enforces_its_share() -> None:
    limiter = Limiter(clock=Clock(), workers=4)
    policy = KeyPolicy("a", quota=Quota(10, "day"))
    limiter.admit(policy)
    limiter.admit(policy)
    with pytest.raises(RateLimited):
        limiter.admit(policy)  # 10 // 4 = 2 here; the other workers have theirs


async def test_the_budget_reads_monitoring_once_per_ttl_and_adds_what_was_metered_since() -> None:
    clock = Clock()
    reads: list[tuple[str, datetime, datetime]] = []
    totals = {"a": 900.0}

    async def spent(team: str, start: datetime, end: datetime) -> float:
        reads.append((team, start, end))
        return totals.get(team, 0.0)

    budget = Budget(spent, ttl=60, clock=clock)
    policy = KeyPolicy("a", monthly_tokens=1000)
    await budget.check(policy)
    assert reads == [("a", datetime(2026, 7, 1, tzinfo=UTC), datetime.fromtimestamp(T0, UTC))]
    budget.add("a", 100)
    with pytest.raises(InsufficientQuota) as refused:
        await budget.check(policy)
    assert len(reads) == 1  # cached
    error = refused.value
    assert (error.status, error.error_type, error.code) == (429, "insufficient_quota", "insufficient_quota")
    assert error.headers == {"x-should-retry": "false"}
    assert "resets at 2026-08-01T00:00:00+00:00" in error.message
    # After the TTL Monitoring is asked again; a lagging total never forgets what was counted here.
    clock.now += 60
    with pytest.raises(InsufficientQuota):
        await budget.check(policy)
    assert len(reads) == 2
    # A new month starts from Monitoring's (empty) total.
    clock.now = datetime(2026, 8, 1, 0, 0, 1, tzinfo=UTC).timestamp()
    totals["a"] = 0.0
    await budget.check(policy)


async def test_an_unreadable_total_fails_open_and_keeps_what_it_knew() -> None:
    clock = Clock()
    answers: list[float | Exception] = [500.0, RuntimeError("down"), RuntimeError("down")]

    async def spent(team: str, start: datetime, end: datetime) -> float:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    budget = Budget(spent, ttl=10, clock=clock)
    assert await budget.spent("a") == 500.0
    clock.now += 10
    assert await budget.spent("a") == 500.0  # Monitoring down: the last known total stands
    fresh = Budget(spent, ttl=10, clock=clock)
    await fresh.check(KeyPolicy("b", monthly_tokens=1))  # nothing known: the request goes on
