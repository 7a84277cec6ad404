"""The grant a request carries: which models its key may use, its limits, and whose usage it meters."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

import pytest

from oci_genai_gateway.core.access.admission import Admission
from oci_genai_gateway.core.access.grant import Grant, ModelNotAllowed
from oci_genai_gateway.core.access.limits import Limiter, Limits
from oci_genai_gateway.core.access.metering import Meter
from oci_genai_gateway.core.access.policy import BUDGET_HEADER, KEY_NAME_HEADER, MODELS_HEADER, KeyPolicy
from oci_genai_gateway.core.errors import RateLimited, Unauthorized
from oci_genai_gateway.core.targets import Target, target_of
from tests.fakes import (
    Events,
    FakeMonitoring,
    ScriptedOci,
    gateway,
    generic_answer,
    read_stream,
    send,
    text_event,
)

ALIASES = {"fast": Target("xai.grok-3-mini")}
T0 = datetime(2026, 7, 15, 10, 20, 30, tzinfo=UTC).timestamp()
KEY_A = "sk-team-a-000000000000000"
KEY_B = "sk-team-b-000000000000000"


def resolve(model: str) -> Target:
    return target_of(ALIASES, model)


def grant(policy: KeyPolicy | None, limits: Limits | None = None) -> Grant:
    name = policy.team if policy else None
    return Grant(name, policy, Meter(), resolve, limits or Limits(clock=lambda: T0))


def test_a_grant_resolves_the_models_its_key_may_use_and_refuses_the_others() -> None:
    limited = grant(KeyPolicy("team-b", models=("meta.*", "fast")))
    assert limited.resolve("meta.llama-3.3-70b-instruct") == Target("meta.llama-3.3-70b-instruct")
    assert limited.resolve("fast") == Target("xai.grok-3-mini")
    # The alias on the list allows what it names, under its OCI name too.
    assert limited.resolve("xai.grok-3-mini") == Target("xai.grok-3-mini")
    with pytest.raises(ModelNotAllowed) as refused:
        limited.resolve("xai.grok-4")
    assert (refused.value.status, refused.value.param) == (403, "model")
    assert "team-b" in refused.value.message
    assert [m for m in ("meta.x", "xai.grok-4", "fast") if limited.allows(m)] == ["meta.x", "fast"]


def test_a_grant_without_a_key_resolves_every_model() -> None:
    anonymous = grant(None)
    assert anonymous.team is None
    assert anonymous.resolve("xai.grok-4") == Target("xai.grok-4")
    assert anonymous.allows("anything")


async def test_enforce_holds_the_key_to_its_rotation_and_rate() -> None:
    rotated = KeyPolicy("team-b", until=datetime.fromtimestamp(T0 - 1, UTC))
    with pytest.raises(Unauthorized):
        await grant(rotated).enforce("POST")
    limiter = Limiter(clock=lambda: T0)
    limited = grant(KeyPolicy("team-a", rps=1), Limits(limiter, None, lambda: T0))
    await limited.enforce("POST")
    with pytest.raises(RateLimited):
        await limited.enforce("POST")
    await grant(None, Limits(limiter, None, lambda: T0)).enforce("POST")  # no key: nothing to hold


def test_a_grant_meters_its_own_team(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "oci_genai_gateway.usage")
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    grant(KeyPolicy("team-a")).record("chat", "fast", resolve("fast"), usage)
    grant(None).record("chat", "fast", resolve("fast"), usage)
    assert [(r.key_name, r.oci_model) for r in caplog.records] == [  # type: ignore[attr-defined]
        ("team-a", "xai.grok-3-mini"),
        (None, "xai.grok-3-mini"),
    ]


def test_admission_trusts_api_gateways_headers_only_where_it_checks_no_keys() -> None:
    headers = {KEY_NAME_HEADER: "team-b", MODELS_HEADER: "meta.*", BUDGET_HEADER: "1000"}
    functions = Admission(None, {}, resolve, Meter(), Limits())
    behind_api_gateway = functions.admit(headers)
    assert behind_api_gateway.key_name == "team-b"
    assert behind_api_gateway.policy == KeyPolicy("team-b", models=("meta.*",), monthly_tokens=1000)
    assert functions.admit({}).policy is None  # a plain `fn invoke`
    server = Admission({"team-a": KEY_A}, {}, resolve, Meter(), Limits())
    with pytest.raises(Unauthorized):
        server.admit(headers)  # a client's own headers are no key
    own = server.admit({**headers, "authorization": f"Bearer {KEY_A}"})
    assert (own.key_name, own.policy) == ("team-a", KeyPolicy("team-a"))
    assert server.admit({}, public=True).policy is None  # health checks carry no key


async def test_usage_is_metered_to_the_key_whose_request_made_it_whatever_ran_in_between() -> None:
    # Team B's stream is read only after team A's request ran in the same task: with request state in
    # context variables, B's usage was counted for whoever was admitted last.
    stream = Events([text_event("hi"), {"index": 0, "finishReason": "stop"}, {"usage": _USAGE}])
    oci = ScriptedOci().enqueue(stream, generic_answer())
    monitoring = FakeMonitoring()
    keys = json.dumps({"team-a": KEY_A, "team-b": KEY_B})
    gw, _ = gateway(oci, monitoring, GATEWAY_API_KEYS=keys)
    body = {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}]}
    streamed = await send(gw, "POST", "/v1/chat/completions", _json({**body, "stream": True}), _auth(KEY_B))
    plain = await send(gw, "POST", "/v1/chat/completions", _json(body), _auth(KEY_A))
    assert (streamed.status, plain.status) == (200, 200)
    await asyncio.wait_for(read_stream(streamed), 10)
    await gw.aclose()
    metered = {dims["key"]: value for name, dims, value in monitoring.datapoints() if name == "total_tokens"}
    assert metered == {"team-a": 5, "team-b": 15}


_USAGE = {"promptTokens": 9, "completionTokens": 6, "totalTokens": 15}


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


def _auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}
