"""A key's guardrails in process: the policy's parsing, output checking, redaction offsets, and the
moderations request's validation (OCI scripted; the emulator's detections are in tests/functional)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oci_genai_gateway.core.access.guardrails import Guardrails, PiiAction, from_header, parse_guardrails
from oci_genai_gateway.core.apis import moderations
from oci_genai_gateway.core.errors import ConfigError, InvalidRequest
from tests.fakes import Json, ScriptedOci, gateway, generic_answer, send
from tests.openapi import validate

KEY = "sk-guard-unit-key-0000000000"
EMAIL = "bob@example.net"


def guard_answer(
    *, pii: list[dict[str, Any]] = (), flagged: str | None = None, injection: float = 0.0
) -> Json:  # type: ignore[assignment]
    categories = [{"name": n, "score": 1.0 if n == flagged else 0.0} for n in ("OVERALL", "BLOCKLIST")]
    results = {
        "contentModeration": {"categories": categories},
        "personallyIdentifiableInformation": list(pii),
        "promptInjection": {"score": injection},
    }
    return Json({"results": results, "guardrailVersion": {"version": "1.1.0"}})


def span(text: str, needle: str, label: str = "EMAIL") -> dict[str, Any]:
    return {"offset": text.index(needle), "length": len(needle), "text": needle, "label": label, "score": 0.9}


def keys(**guardrails: Any) -> str:
    return json.dumps({"team": {"key": KEY, "guardrails": guardrails}})


def chat(*messages: dict[str, Any]) -> bytes:
    return json.dumps({"model": "xai.grok-4", "messages": list(messages)}).encode()


AUTH = {"authorization": f"Bearer {KEY}"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"pii": "mask"}, "pii must be"),
        ({"prompt_injection": 1.5}, "threshold"),
        ({"prompt_injection": True}, "threshold"),
        ({"moderation": "warn"}, "moderation must be"),
        ({"toxicity": "block"}, "guardrails must be an object"),
        ("block", "guardrails must be an object"),
    ],
)
def test_a_bad_policy_is_a_config_error_naming_the_field(entry: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_guardrails(entry, "entry #1")


def test_the_header_form_round_trips_and_ignores_what_it_cannot_read() -> None:
    policy = Guardrails(0.25, PiiAction.BLOCK, moderation=True)
    assert from_header(policy.to_header()) == policy
    assert from_header("none") == Guardrails()
    assert from_header("pi=nan;pii=mask;mod=maybe") == Guardrails()


async def test_a_key_without_guardrails_makes_no_guardrail_call() -> None:
    oci = ScriptedOci().enqueue(generic_answer(f"write to {EMAIL}"))
    gw, _ = gateway(oci, GATEWAY_API_KEYS=f"team:{KEY}", GATEWAY_GUARDRAILS_OUTPUT="true")
    assert (
        await send(gw, "POST", "/v1/chat/completions", chat({"role": "user", "content": "hi"}), AUTH)
    ).status == 200
    assert [s.url.rsplit("/", 1)[-1] for s in oci.sent] == ["chat"]


async def test_redaction_maps_spans_back_into_each_message_and_part() -> None:
    system = "Support bot. Escalate to ops@example.com."
    user = f"I am {EMAIL}, call +1 415 555 0100"
    joined = f"{system}\n\n{user}"
    found = [
        span(joined, "ops@example.com"),
        span(joined, EMAIL),
        span(joined, "+1 415 555 0100", "TELEPHONE_NUMBER"),
    ]
    oci = ScriptedOci().enqueue(guard_answer(pii=found), generic_answer())
    gw, _ = gateway(oci, GATEWAY_API_KEYS=keys(pii="redact"))
    body = chat(
        {"role": "system", "content": system}, {"role": "user", "content": [{"type": "text", "text": user}]}
    )
    assert (await send(gw, "POST", "/v1/chat/completions", body, AUTH)).status == 200
    guard, sent = oci.sent
    assert guard.body["input"] == {"type": "TEXT", "content": joined}
    assert set(guard.body["guardrailConfigs"]) == {"personallyIdentifiableInformationConfig"}
    text = json.dumps(sent.body)
    assert "Escalate to [EMAIL]." in text
    assert "I am [EMAIL], call [TELEPHONE_NUMBER]" in text
    assert EMAIL not in text
    assert "ops@example.com" not in text


async def test_output_checking_redacts_a_non_streamed_answer() -> None:
    answer = f"Reach {EMAIL} today"
    oci = ScriptedOci().enqueue(
        guard_answer(), generic_answer(answer), guard_answer(pii=[span(answer, EMAIL)])
    )
    gw, _ = gateway(oci, GATEWAY_API_KEYS=keys(pii="redact"), GATEWAY_GUARDRAILS_OUTPUT="true")
    reply = await send(gw, "POST", "/v1/chat/completions", chat({"role": "user", "content": "hi"}), AUTH)
    assert reply.status == 200
    assert reply.body is not None
    validate(reply.body, "CreateChatCompletionResponse")
    assert reply.body["choices"][0]["message"]["content"] == "Reach [EMAIL] today"
    assert "promptInjectionConfig" not in oci.sent[2].body["guardrailConfigs"]


async def test_output_checking_blocks_a_flagged_answer_in_openais_envelope() -> None:
    oci = ScriptedOci().enqueue(guard_answer(), generic_answer("bad words"), guard_answer(flagged="OVERALL"))
    gw, _ = gateway(oci, GATEWAY_API_KEYS=keys(moderation="block"), GATEWAY_GUARDRAILS_OUTPUT="true")
    reply = await send(gw, "POST", "/v1/chat/completions", chat({"role": "user", "content": "hi"}), AUTH)
    assert reply.status == 400
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert reply.body["error"]["code"] == "content_policy_violation"
    assert reply.body["error"]["message"].startswith("The answer was blocked")
    assert "bad words" not in reply.body["error"]["message"]


async def test_injection_at_the_threshold_passes_and_above_it_blocks() -> None:
    oci = ScriptedOci().enqueue(guard_answer(injection=0.5), generic_answer(), guard_answer(injection=0.75))
    gw, _ = gateway(oci, GATEWAY_API_KEYS=keys(prompt_injection=0.5))
    body = chat({"role": "user", "content": "hello"})
    assert (await send(gw, "POST", "/v1/chat/completions", body, AUTH)).status == 200
    blocked = await send(gw, "POST", "/v1/chat/completions", body, AUTH)
    assert blocked.status == 400
    assert blocked.body is not None
    assert "prompt_injection (score 0.75 > 0.5)" in blocked.body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "input"),
        ({"input": []}, "input"),
        ({"input": [1, 2]}, "input"),
        ({"input": ["x"] * 33}, "input"),
        (
            {"input": [{"type": "image_url", "image_url": {"url": "http://insecure.example/a.png"}}]},
            "input[0]",
        ),
        ({"input": "x", "model": 7}, "model"),
    ],
)
def test_a_bad_moderation_request_names_its_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        moderations.parse(body)
    assert refused.value.param == param


def test_the_model_picks_a_guardrail_version_or_ocis_current_one() -> None:
    assert moderations.parse({"input": "x", "model": "1.0.0"}).version == "1.0.0"
    assert moderations.parse({"input": "x", "model": "oci-guardrails-1.1"}).version == "1.1"
    assert moderations.parse({"input": "x", "model": "omni-moderation-latest"}).version is None
    assert moderations.parse({"input": "x"}).model == "omni-moderation-latest"
