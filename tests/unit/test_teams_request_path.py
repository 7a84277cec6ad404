"""Keys with policy on the request path, in process: allow-lists, limits, budgets, and usage metering."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import oci
import pytest

from oci_genai_gateway.core.access.policy import BUDGET_HEADER, KEY_NAME_HEADER, MODELS_HEADER
from tests.fakes import (
    Events,
    FakeMonitoring,
    ScriptedOci,
    embedding_answer,
    gateway,
    generic_answer,
    model_summary,
    models_page,
    read_stream,
    send,
    text_event,
)
from tests.openapi import validate
from tests.unit.deploy.sdk_checks import assert_roundtrip

REGION = "us-chicago-1"  # the settings of tests/fakes.py:gateway

CHAT = "/v1/chat/completions"
KEY_A = "sk-team-a-000000000000000"
KEY_B = "sk-team-b-000000000000000"
OLD_B = "sk-team-b-old-0000000000"
T0 = datetime(2026, 7, 15, 10, 20, 30, tzinfo=UTC).timestamp()
ALIASES = json.dumps({"fast": "xai.grok-3-mini"})
USAGE = {"promptTokens": 5, "completionTokens": 2, "totalTokens": 7}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def keys(**team_b: Any) -> str:
    return json.dumps({"team-a": KEY_A, "team-b": {"key": KEY_B, **team_b}})


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def chat(model: str = "xai.grok-4", **extra: Any) -> bytes:
    return json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "secret prompt"}], **extra}
    ).encode()


def assert_error(body: dict[str, Any] | None, code: str) -> dict[str, Any]:
    assert body is not None
    validate(body, "ErrorResponse")
    assert body["error"]["code"] == code
    return dict(body["error"])


# --- model allow-lists ---------------------------------------------------------------------------


async def test_a_model_outside_the_keys_list_is_a_403_in_openais_envelope() -> None:
    oci = ScriptedOci().enqueue(generic_answer(), generic_answer())
    gw, _ = gateway(oci, GATEWAY_API_KEYS=keys(models=["meta.*", "fast"]), GATEWAY_MODEL_ALIASES=ALIASES)
    refused = await send(gw, "POST", CHAT, chat("xai.grok-4"), auth(KEY_B))
    assert refused.status == 403
    error = assert_error(refused.body, "model_not_allowed")
    assert (error["type"], error["param"]) == ("invalid_request_error", "model")
    assert "team-b" in error["message"]
    assert KEY_B not in error["message"]
    assert oci.sent == []  # refused before OCI is called
    assert (await send(gw, "POST", CHAT, chat("fast"), auth(KEY_B))).status == 200
    assert (await send(gw, "POST", CHAT, chat("meta.llama-3.3-70b-instruct"), auth(KEY_B))).status == 200
    # The unrestricted key is untouched.
    oci.enqueue(generic_answer())
    assert (await send(gw, "POST", CHAT, chat("xai.grok-4"), auth(KEY_A))).status == 200


async def test_embeddings_and_model_lookups_follow_the_same_list() -> None:
    gw, _ = gateway(ScriptedOci(), GATEWAY_API_KEYS=keys(models=["meta.*"]))
    body = json.dumps({"model": "cohere.embed-english-v3.0", "input": "x"}).encode()
    assert_error((await send(gw, "POST", "/v1/embeddings", body, auth(KEY_B))).body, "model_not_allowed")
    one = await send(gw, "GET", "/v1/models/xai.grok-4", b"", auth(KEY_B))
    assert one.status == 403


async def test_the_model_list_shows_a_limited_key_only_its_models() -> None:
    oci = ScriptedOci().enqueue(
        models_page(*map(model_summary, ("meta.llama-3.3-70b-instruct", "xai.grok-4")))
    )
    gw, _ = gateway(oci, GATEWAY_API_KEYS=keys(models=["meta.*"]), GATEWAY_MODEL_ALIASES=ALIASES)
    limited = await send(gw, "GET", "/v1/models", b"", auth(KEY_B))
    assert [m["id"] for m in limited.body["data"]] == ["meta.llama-3.3-70b-instruct"]  # type: ignore[index]
    everything = await send(gw, "GET", "/v1/models", b"", auth(KEY_A))
    assert {m["id"] for m in everything.body["data"]} == {  # type: ignore[index]
        "meta.llama-3.3-70b-instruct",
        "xai.grok-4",
        "fast",
    }


async def test_on_functions_the_list_comes_from_api_gateways_headers_and_only_there() -> None:
    oci = ScriptedOci().enqueue(generic_answer())
    gw, _ = gateway(oci)  # no keys: a function behind API Gateway
    headers = {KEY_NAME_HEADER: "team-b", MODELS_HEADER: "meta.*", BUDGET_HEADER: "none"}
    refused = await send(gw, "POST", CHAT, chat("xai.grok-4"), headers, buffered=True)
    assert_error(refused.body, "model_not_allowed")
    assert refused.principal == "team-b"  # the access log names the key
    assert (await send(gw, "POST", CHAT, chat("xai.grok-4"), buffered=True)).status == 200  # a plain invoke
    # The HTTP server checks keys itself: a client's own header means nothing there.
    oci.enqueue(generic_answer())
    server, _ = gateway(oci, GATEWAY_API_KEYS=keys())
    forged = await send(server, "POST", CHAT, chat("xai.grok-4"), {**auth(KEY_A), MODELS_HEADER: "none.*"})
    assert forged.status == 200


# --- rotation, rate, quota -----------------------------------------------------------------------


async def test_a_rotated_out_key_works_until_its_grace_period_ends() -> None:
    clock = Clock()
    previous = [{"key": OLD_B, "until": "2026-07-15T11:00:00Z"}]
    gw, _ = gateway(
        ScriptedOci().enqueue(generic_answer()), clock=clock, GATEWAY_API_KEYS=keys(previous=previous)
    )
    reply = await send(gw, "POST", CHAT, chat(), auth(OLD_B))
    assert (reply.status, reply.principal) == (200, "team-b~1")
    clock.now = datetime(2026, 7, 15, 11, 0, tzinfo=UTC).timestamp()
    late = await send(gw, "POST", CHAT, chat(), auth(OLD_B))
    assert late.status == 401
    assert "grace period" in assert_error(late.body, "invalid_api_key")["message"]


async def test_rate_and_quota_are_per_key_429s_with_retry_after() -> None:
    clock = Clock()
    oci = ScriptedOci().enqueue(*[generic_answer() for _ in range(4)])
    policy = keys(rps=1, quota={"requests": 2, "per": "minute"})
    gw, _ = gateway(oci, clock=clock, GATEWAY_API_KEYS=policy)
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_B))).status == 200
    fast = await send(gw, "POST", CHAT, chat(), auth(KEY_B))
    assert (fast.status, fast.headers["Retry-After"]) == (429, "1")
    assert_error(fast.body, "rate_limit_exceeded")
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_A))).status == 200  # another key, its own limits
    clock.now += 1
    assert (await send(gw, "GET", "/v1/unknown", b"", auth(KEY_B))).status == 404  # every route counts
    clock.now += 1
    over = await send(gw, "POST", CHAT, chat(), auth(KEY_B))
    assert (over.status, over.headers["Retry-After"]) == (429, "28")
    assert "quota of 2 requests per minute" in assert_error(over.body, "rate_limit_exceeded")["message"]
    clock.now += 28
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_B))).status == 200


# --- budgets -------------------------------------------------------------------------------------


async def test_a_spent_budget_is_openais_insufficient_quota() -> None:
    monitoring = FakeMonitoring({"team-b": 1000.0})
    gw, _ = gateway(ScriptedOci(), monitoring, GATEWAY_API_KEYS=keys(monthly_tokens=1000))
    reply = await send(gw, "POST", CHAT, chat(), auth(KEY_B))
    assert reply.status == 429
    assert reply.headers["x-should-retry"] == "false"
    error = assert_error(reply.body, "insufficient_quota")
    assert error["type"] == "insufficient_quota"
    (team, start, _end) = monitoring.queries[0]
    assert (team, start.day, start.hour) == ("team-b", 1, 0)


async def test_tokens_metered_here_count_before_monitoring_has_them() -> None:
    monitoring = FakeMonitoring({"team-b": 990.0})
    oci = ScriptedOci().enqueue(generic_answer(usage=USAGE), generic_answer(usage=USAGE))
    gw, _ = gateway(oci, monitoring, GATEWAY_API_KEYS=keys(monthly_tokens=1000))
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_B))).status == 200  # 990 + 7
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_B))).status == 200  # 997 < 1000
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_B))).status == 429  # 1004
    assert len(monitoring.queries) == 1  # cached for GATEWAY_BUDGET_CACHE_SECONDS


async def test_budgets_fail_open_when_monitoring_cannot_be_read(caplog: pytest.LogCaptureFixture) -> None:
    monitoring = FakeMonitoring()
    monitoring.fail = RuntimeError("unreachable")
    gw, _ = gateway(
        ScriptedOci().enqueue(generic_answer()), monitoring, GATEWAY_API_KEYS=keys(monthly_tokens=10)
    )
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_B))).status == 200
    assert [getattr(r, "event", None) for r in caplog.records] == ["budget_unreadable"]


# --- metering ------------------------------------------------------------------------------------


async def test_completions_streams_and_embeddings_are_metered_per_key_and_model(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "oci_genai_gateway.usage")
    monitoring = FakeMonitoring()
    stream = Events([text_event("Hi"), {"finishReason": "stop"}, {"usage": USAGE}])
    oci = ScriptedOci().enqueue(
        generic_answer(usage=USAGE), stream, embedding_answer([[0.1], [0.2]], tokens=4)
    )
    gw, _ = gateway(oci, monitoring, GATEWAY_API_KEYS=keys(), GATEWAY_MODEL_ALIASES=ALIASES)
    await send(gw, "POST", CHAT, chat("fast"), auth(KEY_B))
    # Metered without include_usage: the gateway always asks OCI for the stream's usage.
    streamed = await send(gw, "POST", CHAT, chat("xai.grok-4", stream=True), auth(KEY_A))
    await asyncio.wait_for(read_stream(streamed), 10)
    body = json.dumps({"model": "cohere.embed-english-v3.0", "input": ["a", "b"]}).encode()
    await send(gw, "POST", "/v1/embeddings", body, auth(KEY_B))
    await gw.aclose()
    points = monitoring.datapoints()
    dims = [
        {"key": "team-b", "model": "xai.grok-3-mini", "route": "chat", "region": REGION},
        {"key": "team-a", "model": "xai.grok-4", "route": "chat", "region": REGION},
        {"key": "team-b", "model": "cohere.embed-english-v3.0", "route": "embeddings", "region": REGION},
    ]
    expected = [(7, 5, 2), (7, 5, 2), (4, 4, 0)]
    for d, (total, prompt, completion) in zip(dims, expected, strict=True):
        got = {name: value for name, pd, value in points if pd == d}
        assert got == {
            "requests": 1,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": total,
        }
    for details in monitoring.posted:
        assert_roundtrip(details, "oci.monitoring.models.PostMetricDataDetails")
        assert details.batch_atomicity == "NON_ATOMIC"
        assert {m.namespace for m in details.metric_data} == {"genai_gateway"}
        assert {m.compartment_id for m in details.metric_data} == {"ocid1.compartment.oc1..fake"}
    lines = [r for r in caplog.records if getattr(r, "event", None) == "usage"]
    assert [(r.key_name, r.route, r.model, r.total_tokens, r.stream) for r in lines] == [  # type: ignore[attr-defined]
        ("team-b", "chat", "fast", 7, False),
        ("team-a", "chat", "xai.grok-4", 7, True),
        ("team-b", "embeddings", "cohere.embed-english-v3.0", 4, False),
    ]
    assert "secret prompt" not in caplog.text
    assert KEY_B not in caplog.text


async def test_metering_is_batched_off_the_request_path_and_a_failed_post_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    monitoring = FakeMonitoring()
    monitoring.fail = oci.exceptions.ServiceError(404, "NotAuthorizedOrNotFound", {}, "no policy")
    oci_answers = ScriptedOci().enqueue(generic_answer(usage=USAGE), generic_answer(usage=USAGE))
    gw, _ = gateway(oci_answers, monitoring, GATEWAY_API_KEYS=keys(), GATEWAY_METRICS_FLUSH_SECONDS="60")
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_B))).status == 200
    assert (await send(gw, "POST", CHAT, chat(), auth(KEY_A))).status == 200
    assert monitoring.posted == []  # nothing sent while answering
    await gw.aclose()
    (failure,) = [r for r in caplog.records if getattr(r, "event", None) == "metrics_error"]
    assert "ServiceError status=404; 8 datapoints dropped" in failure.getMessage()


async def test_metrics_can_be_turned_off_and_the_usage_line_stays(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "oci_genai_gateway.usage")
    monitoring = FakeMonitoring()
    gw, _ = gateway(ScriptedOci().enqueue(generic_answer(usage=USAGE)), monitoring, GATEWAY_METRICS="false")
    assert (await send(gw, "POST", CHAT, chat(), buffered=True)).status == 200
    await gw.aclose()
    assert monitoring.posted == []
    line = next(r for r in caplog.records if getattr(r, "event", None) == "usage")
    assert (line.key_name, line.total_tokens) == (None, 7)  # type: ignore[attr-defined]
