"""Shared limits: the Redis script's input and verdicts, and the outage (fail open or closed, log once)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from oci_genai_gateway.core.access.limits import Limiter, Limits
from oci_genai_gateway.core.access.policy import KeyPolicy, Quota
from oci_genai_gateway.core.access.shared_limits import LimiterUnavailable, SharedLimiter
from oci_genai_gateway.core.errors import ConfigError, RateLimited
from oci_genai_gateway.core.settings import Settings

# Wednesday 2026-07-15 10:20:30 UTC
T0 = datetime(2026, 7, 15, 10, 20, 30, tzinfo=UTC).timestamp()
QUOTA = KeyPolicy("team-a", quota=Quota(2, "hour"))
RATE = KeyPolicy("team-a", rps=5)


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Script:
    """Stands in for Redis: records each call, answers from `replies`, or raises `error`."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[list[str], list[Any]]] = []
        self.error: BaseException | None = None

    async def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        self.calls.append((list(keys), list(args)))
        if self.error is not None:
            raise self.error
        return self.replies.pop(0) if self.replies else [0, b""]


def limiter(script: Script, *, fail_closed: bool = False, mono: Clock | None = None) -> SharedLimiter:
    return SharedLimiter(
        script,
        fallback=Limiter(clock=Clock()),
        fail_closed=fail_closed,
        retry_seconds=1.0,
        clock=Clock(),
        monotonic=mono or Clock(0.0),
    )


async def test_a_key_without_rate_or_quota_costs_no_round_trip() -> None:
    script = Script()
    await limiter(script).admit(KeyPolicy("free"))
    assert script.calls == []


async def test_the_script_gets_the_teams_keys_with_one_hash_tag_and_the_quota_period() -> None:
    script = Script()
    await limiter(script).admit(KeyPolicy("team-a", rps=5, quota=Quota(100, "hour")))
    [(keys, args)] = script.calls
    start = int(datetime(2026, 7, 15, 10, tzinfo=UTC).timestamp())
    # Both keys hash to one slot ({team-a}): a script may only touch one shard's keys.
    assert keys == ["oci-genai-gateway:{team-a}:rps", f"oci-genai-gateway:{{team-a}}:quota:hour:{start}"]
    # The count lives to the end of the hour (39 min 30 s) plus a minute of clock skew.
    assert args == [5, 100, 39 * 60 + 30 + 60]


async def test_a_spent_quota_is_a_429_with_the_reset_time() -> None:
    with pytest.raises(RateLimited) as caught:
        await limiter(Script([1, b""])).admit(QUOTA)
    assert "quota of 2 requests per hour" in caught.value.message
    assert "2026-07-15T11:00:00+00:00" in caught.value.message
    assert caught.value.headers["Retry-After"] == str(39 * 60 + 30)


async def test_over_the_rate_is_a_429_with_the_scripts_wait_rounded_up() -> None:
    with pytest.raises(RateLimited) as caught:
        await limiter(Script([2, b"0.2"])).admit(RATE)
    assert "5 requests per second" in caught.value.message
    assert caught.value.headers["Retry-After"] == "1"


async def test_fail_open_counts_in_this_process_and_logs_the_outage_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = Script()
    script.error = ConnectionRefusedError()
    mono = Clock(0.0)
    shared = limiter(script, mono=mono)
    with caplog.at_level(logging.WARNING):
        await shared.admit(QUOTA)
        await shared.admit(QUOTA)  # within the retry window: not sent to Redis
        with pytest.raises(RateLimited):  # the fallback's own quota of 2
            await shared.admit(QUOTA)
    assert shared.down
    assert len(script.calls) == 1
    events = [r.__dict__.get("event") for r in caplog.records]
    assert events == ["redis_unavailable"]
    assert "counting in this process" in caplog.records[0].getMessage()


async def test_redis_is_tried_again_after_the_window_and_its_return_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = Script()
    script.error = ConnectionRefusedError()
    mono = Clock(0.0)
    shared = limiter(script, mono=mono)
    await shared.admit(RATE)
    mono.now = 1.5
    await shared.admit(RATE)  # tried again, still down: no second log line
    assert len(script.calls) == 2
    script.error = None
    mono.now = 3.0
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await shared.admit(RATE)
        await shared.admit(RATE)
    assert not shared.down
    assert len(script.calls) == 4
    assert [r.__dict__.get("event") for r in caplog.records] == ["redis_restored"]


async def test_fail_closed_refuses_limited_keys_with_a_503_and_retry_after() -> None:
    script = Script()
    script.error = TimeoutError()
    shared = limiter(script, fail_closed=True)
    with pytest.raises(LimiterUnavailable) as caught:
        await shared.admit(RATE)
    assert caught.value.status == 503
    assert caught.value.headers["Retry-After"] == "1"
    await shared.admit(KeyPolicy("free"))  # a key without limits needs no counter


async def test_errors_outside_the_outage_kinds_propagate() -> None:
    script = Script()
    script.error = ValueError("a bug")
    with pytest.raises(ValueError, match="a bug"):
        await limiter(script).admit(RATE)


async def test_limits_use_the_shared_counter_in_place_of_the_process_limiter() -> None:
    script = Script([1, b""])
    local = Limiter(clock=Clock())
    limits = Limits(local, None, Clock(), limiter(script))
    with pytest.raises(RateLimited):
        await limits.enforce(QUOTA, "POST")
    local.admit(QUOTA)  # the process limiter counted nothing
    local.admit(QUOTA)


def _settings(**env: str) -> Settings:
    base = {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..x"}
    return Settings.from_env({**base, **env})


def test_settings_default_to_per_process_counting_and_fail_open() -> None:
    settings = _settings()
    assert settings.redis_url is None
    assert not settings.redis_fail_closed
    closed = _settings(GATEWAY_REDIS_URL="rediss://:pw@cache.example:6379", GATEWAY_REDIS_FAIL="closed")
    assert closed.redis_fail_closed
    assert "pw" not in repr(closed)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_REDIS_URL": "http://:secret@host"}, "GATEWAY_REDIS_URL must start with"),
        ({"GATEWAY_REDIS_FAIL": "maybe"}, "GATEWAY_REDIS_FAIL must be open or closed"),
    ],
)
def test_bad_redis_settings_are_named_without_echoing_the_url(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(**env)
    assert message in str(caught.value)
    assert "secret" not in str(caught.value)
