"""Three ASGI gateways behind a real load balancer (Caddy) sharing a real redis-server.

One key's quota holds across the instances; an instance killed mid-run loses no request that had
not started streaming; Redis stopped and started again degrades and recovers as documented.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import KEY, GatewayProcess
from tests.fixtures.scaled import CAPPED_KEY, Stack, start_stack

MODEL = "xai.grok-3-mini"
PATH = "/v1/chat/completions"


@pytest.fixture
def stack(emulator: Emulator, tmp_path: Path) -> Iterator[Stack]:
    emulator.reset()
    running = start_stack(emulator, tmp_path, instances=3)
    try:
        yield running
    finally:
        running.stop()
        emulator.reset()


def ask(client: openai.OpenAI, text: str = "hi") -> int:
    try:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": text}], max_tokens=8
        )
    except openai.APIStatusError as exc:
        return exc.status_code
    return 200


def served_by(gateway: GatewayProcess, key_name: str) -> int:
    """How many chat requests of `key_name` this instance answered or refused (its access log)."""
    return sum(
        1
        for line in gateway.logs()
        if line.get("event") == "request" and line.get("key_name") == key_name and line.get("path") == PATH
    )


def logged(count: Callable[[], int], expected: int, limit: float = 20.0) -> int:
    """`count()` once it reaches `expected` (log lines land after the answer), or after `limit` s."""
    deadline = time.monotonic() + limit
    while (value := count()) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_one_keys_quota_holds_across_the_instances(stack: Stack) -> None:
    with stack.client(CAPPED_KEY) as client:
        statuses = [ask(client) for _ in range(30)]
    # 12 per day in all, not 12 per instance (36): the instances count in one Redis.
    assert statuses.count(200) == 12
    assert statuses.count(429) == 18
    # The load balancer spread the key's requests over every instance.
    # Each instance logs a request after its answer is sent: wait for the last lines, then count.
    assert logged(lambda: sum(served_by(g, "capped") for g in stack.gateways), 30) == 30
    assert all(served_by(g, "capped") >= 5 for g in stack.gateways)


def _stream(stack: Stack, index: int, results: dict[str, str]) -> None:
    name = f"stream-{index}"
    try:
        with stack.client() as client:
            stream = client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": name}], max_tokens=16, stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        results[name] = "ok" if name in text else f"bad: {text!r}"
    except Exception as exc:
        results[name] = type(exc).__name__


def _request(stack: Stack, index: int, results: dict[str, str]) -> None:
    with stack.client() as client:
        results[f"request-{index}"] = str(ask(client, f"request-{index}"))


def test_killing_an_instance_loses_no_request_that_had_not_started_streaming(
    stack: Stack, emulator: Emulator
) -> None:
    results: dict[str, str] = {}
    threads: list[threading.Thread] = []
    # Three streams that have begun (one event sent), then six requests OCI has not answered yet.
    emulator.inject_fault("hold=1", count=3)
    for i in range(3):
        threads.append(threading.Thread(target=_stream, args=(stack, i, results)))
        threads[-1].start()
        emulator.wait_held(i + 1)
    emulator.inject_fault("hold=0", count=6)
    for i in range(6):
        threads.append(threading.Thread(target=_request, args=(stack, i, results)))
        threads[-1].start()
    emulator.wait_held(9)
    victim = stack.gateways[0]
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.wait(timeout=10)
    emulator.release()
    for thread in threads:
        thread.join(timeout=60)
    # Every request that had not started answering was sent again to a live instance.
    assert [results[f"request-{i}"] for i in range(6)] == ["200"] * 6
    # The streams on the live instances finished; at most the killed instance's stream was lost.
    streams = [results[f"stream-{i}"] for i in range(3)]
    assert streams.count("ok") >= 2
    # New requests go to the live instances only.
    with stack.client() as client:
        assert [ask(client) for _ in range(6)] == [200] * 6


def test_redis_stopped_fails_open_logs_once_per_instance_and_recovers(stack: Stack) -> None:
    with stack.client(CAPPED_KEY) as client:
        assert ask(client) == 200
        stack.redis.stop()
        # Fail open (the default): served, counted in each process until Redis is back.
        assert [ask(client) for _ in range(9)] == [200] * 9
        for gateway in stack.gateways:
            gateway.wait_for_log("redis_unavailable")
        stack.redis.start()
        # Each instance tries Redis again within a second of its outage and logs its return once.
        for gateway in stack.gateways:
            while "redis_restored" not in gateway.log_path.read_text():
                assert ask(client) in (200, 429)
    for gateway in stack.gateways:
        events = [line.get("event") for line in gateway.logs()]
        assert events.count("redis_unavailable") == 1
        assert events.count("redis_restored") == 1
    # The probes that went to the restarted Redis are counted there.
    with stack.redis.client() as redis:
        assert redis.keys("oci-genai-gateway:{capped}:quota:day:*")


def test_redis_stopped_fails_closed_with_a_503_in_openais_envelope(
    emulator: Emulator, tmp_path: Path
) -> None:
    stack = start_stack(emulator, tmp_path, instances=1, GATEWAY_REDIS_FAIL="closed")
    try:
        stack.redis.stop()
        response = httpx.post(
            f"{stack.base_url}/chat/completions",
            headers={"Authorization": f"Bearer {CAPPED_KEY}"},
            json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "rate_limiter_unavailable"
        # A key without limits needs no counter: served.
        with stack.client(KEY) as client:
            assert ask(client) == 200
    finally:
        stack.stop()
