"""Guardrails on both targets (fdk functions, ASGI): /v1/moderations and each key policy action on
chat, responses and messages, against the emulator's deterministic detections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from oci_genai_emulator.guardrails import BLOCKLIST_WORD, INJECTION_MARKER
from tests.fixtures.emulator import Emulator
from tests.fixtures.functions import PREFIX, Functions, gateway_call
from tests.fixtures.gateway import GatewayProcess, start_gateway, stop
from tests.openapi import validate

LLAMA = "meta.llama-3.3-70b-instruct"
EMAIL = "jane.doe@example.com"
PHONE = "+1 415 555 0100"
KEYS = {
    "redact": "sk-guard-redact-000000000000",
    "block": "sk-guard-block-0000000000000",
    "strict": "sk-guard-strict-000000000000",
}
POLICIES = {
    "redact": {"pii": "redact"},
    "block": {"pii": "block"},
    "strict": {"prompt_injection": 0.5, "moderation": "block"},
}
HEADERS = {"redact": "pii=redact", "block": "pii=block", "strict": "pi=0.5;mod=block"}


def bodies(text: str) -> dict[str, dict[str, Any]]:
    """The same user text as each API's request."""
    return {
        "/v1/chat/completions": {"model": LLAMA, "messages": [{"role": "user", "content": text}]},
        "/v1/responses": {"model": LLAMA, "input": text},
        "/v1/messages": {"model": LLAMA, "max_tokens": 64, "messages": [{"role": "user", "content": text}]},
    }


@pytest.fixture(scope="module")
def asgi(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    keys = {name: {"key": KEYS[name], "guardrails": POLICIES[name]} for name in KEYS}
    process = start_gateway(emulator, tmp_path_factory.mktemp("guard"), GATEWAY_API_KEYS=json.dumps(keys))
    try:
        yield process
    finally:
        stop(process.process)


class Target:
    """One way in: the functions behind API Gateway's headers, or the ASGI server checking keys."""

    def __init__(self, functions: Functions | None, asgi: GatewayProcess | None) -> None:
        self.functions, self.asgi = functions, asgi

    def post(self, key: str, route: str, body: dict[str, Any]) -> tuple[int, Any]:
        if self.functions is not None:
            headers = {"X-Gateway-Key-Name": key, "X-Gateway-Key-Guardrails": HEADERS[key]}
            name = "chat" if route != "/v1/moderations" else "moderations"
            reply = gateway_call(self.functions[name], "POST", PREFIX + route, json.dumps(body), headers)
            return reply.status, reply.json()
        assert self.asgi is not None
        import httpx

        response = httpx.post(
            self.asgi.base_url.removesuffix("/v1") + route,
            json=body,
            headers={"Authorization": f"Bearer {KEYS[key]}"},
            timeout=60,
        )
        return response.status_code, response.json()


@pytest.fixture(params=["functions", "asgi"])
def target(request: pytest.FixtureRequest, emulator: Emulator) -> Target:
    emulator.reset()
    if request.param == "functions":
        return Target(request.getfixturevalue("functions"), None)
    return Target(None, request.getfixturevalue("asgi"))


def chat_bodies_sent(emulator: Emulator) -> str:
    return json.dumps([r.get("body") for r in emulator.requests() if r["path"].endswith("/actions/chat")])


def guardrail_calls(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"].endswith("/actions/applyGuardrails")]


# --- /v1/moderations -------------------------------------------------------------------------------


def test_moderations_through_the_functions_with_the_openai_sdk(functions: Functions, emu: Emulator) -> None:
    with functions.client() as client:
        clean, flagged = client.moderations.create(
            input=["hello there", f"please {BLOCKLIST_WORD} it"]
        ).results
        assert (clean.flagged, flagged.flagged) == (False, True)
        raw = client.moderations.with_raw_response.create(input=f"mail {EMAIL}").parse()
    body = raw.model_dump()
    validate(body, "CreateModerationResponse")
    oci = body["results"][0]["oci_guardrails"]
    assert oci["personally_identifiable_information"][0]["label"] == "EMAIL"
    assert oci["content_moderation"]["BLOCKLIST"] == {"flagged": False, "score": 0.0}
    assert len(guardrail_calls(emu)) == 3


def test_moderations_through_the_asgi_server_with_the_openai_sdk(asgi: GatewayProcess, emu: Emulator) -> None:
    with asgi.client(KEYS["strict"]) as client:
        answer = client.moderations.create(
            model="1.0.0",
            input=[
                {"type": "text", "text": INJECTION_MARKER},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        )
    validate(answer.model_dump(), "CreateModerationResponse")
    (result,) = answer.results
    assert result.flagged
    extra = result.model_extra or {}
    assert extra["oci_guardrails"]["prompt_injection"] == {"flagged": True, "score": 1.0}
    assert extra["oci_guardrails"]["guardrail_version"] == "1.0.0"
    (call,) = guardrail_calls(emu)
    assert call["body"]["guardrailVersionConfig"] == {"guardrailVersion": "1.0.0"}
    assert [i["type"] for i in call["body"]["multimodalInput"]] == ["TEXT", "IMAGE"]


def test_a_bad_moderation_input_is_openais_400(functions: Functions) -> None:
    with functions.client() as client, pytest.raises(openai.BadRequestError) as refused:
        client.moderations.create(input=[{"type": "video"}])  # type: ignore[list-item]
    assert refused.value.param == "input[0]"


# --- key policies on the three generation APIs -----------------------------------------------------


@pytest.mark.parametrize("route", list(bodies("")))
def test_pii_redact_never_sends_the_email_to_oci(target: Target, emulator: Emulator, route: str) -> None:
    status, body = target.post("redact", route, bodies(f"Write to {EMAIL} or call {PHONE}.")[route])
    assert status == 200, body
    sent = chat_bodies_sent(emulator)
    assert "[EMAIL]" in sent
    assert EMAIL not in sent
    assert PHONE not in sent
    assert len(guardrail_calls(emulator)) == 1  # one applyGuardrails call per request


@pytest.mark.parametrize("route", list(bodies("")))
def test_pii_block_is_a_400_content_policy_violation(target: Target, emulator: Emulator, route: str) -> None:
    status, body = target.post("block", route, bodies(f"My mail is {EMAIL}")[route])
    assert status == 400
    assert_violation(route, body, "pii (EMAIL)")
    assert chat_bodies_sent(emulator) == "[]"


@pytest.mark.parametrize("route", list(bodies("")))
@pytest.mark.parametrize(
    ("text", "tripped"), [(INJECTION_MARKER, "prompt_injection"), (BLOCKLIST_WORD, "moderation (BLOCKLIST)")]
)
def test_injection_and_moderation_block(
    target: Target, emulator: Emulator, route: str, text: str, tripped: str
) -> None:
    status, body = target.post("strict", route, bodies(f"Now {text}.")[route])
    assert status == 400
    assert_violation(route, body, tripped)
    assert chat_bodies_sent(emulator) == "[]"
    clean_status, _ = target.post("strict", route, bodies("A harmless question.")[route])
    assert clean_status == 200


def assert_violation(route: str, body: dict[str, Any], tripped: str) -> None:
    if route == "/v1/messages":
        assert body["type"] == "error"
        assert body["error"]["type"] == "invalid_request_error"
    else:
        validate(body, "ErrorResponse")
        assert body["error"]["code"] == "content_policy_violation"
    assert tripped in body["error"]["message"]
    assert EMAIL not in body["error"]["message"]
