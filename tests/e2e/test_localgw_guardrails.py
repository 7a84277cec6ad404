"""Guardrails on `make run`'s stack: /v1/moderations with the openai SDK, and a key's guardrails carried
from the authorizer's context through the spec's headers to the chat function."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from oci_genai_devstack.localgw.functions import FunctionProcess, start_function
from oci_genai_devstack.localgw.server import ThreadedServer
from oci_genai_devstack.localgw.usage_plans import UsagePlans
from oci_genai_emulator.guardrails import BLOCKLIST_WORD
from tests.fixtures.localgw import GatewayFactory, LocalGw
from tests.openapi import validate
from tests.paths import FUNCTIONS_DIR

LLAMA = "meta.llama-3.3-70b-instruct"
REDACT_KEY = "sk-guard-e2e-redact-00000000"
BLOCK_KEY = "sk-guard-e2e-block-000000000"
EMAIL = "alice@example.org"


@pytest.fixture
def guarded(localgw: LocalGw, extra_gateway: GatewayFactory) -> Iterator[ThreadedServer]:
    raw = json.dumps(
        {
            "redactor": {"key": REDACT_KEY, "guardrails": {"pii": "redact"}},
            "blocker": {"key": BLOCK_KEY, "guardrails": {"moderation": "block", "prompt_injection": 0.5}},
        }
    )
    authorizer: FunctionProcess = start_function(
        "authorizer", {"GATEWAY_API_KEYS": raw}, FUNCTIONS_DIR / "authorizer"
    )
    try:
        authorizer.wait_listening()
        plans = UsagePlans.from_api_keys(raw)
        yield extra_gateway(functions={"authorizer": authorizer.target}, usage_plans=plans)
    finally:
        authorizer.stop()


def client(server: ThreadedServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def test_moderations_with_the_openai_sdk_through_the_local_stack(guarded: ThreadedServer) -> None:
    with client(guarded, REDACT_KEY) as sdk:
        answer = sdk.moderations.create(input=["good morning", f"{BLOCKLIST_WORD} now"])
    validate(answer.model_dump(), "CreateModerationResponse")
    assert [r.flagged for r in answer.results] == [False, True]


def test_a_redacting_key_never_sends_the_email_and_a_blocking_key_gets_a_400(
    guarded: ThreadedServer, localgw: LocalGw
) -> None:
    emulator = localgw.emulator
    emulator.reset()
    with client(guarded, REDACT_KEY) as sdk:
        sdk.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": f"mail {EMAIL}"}])
    sent = json.dumps([r.get("body") for r in emulator.requests() if r["path"].endswith("/actions/chat")])
    assert "[EMAIL]" in sent
    assert EMAIL not in sent
    with client(guarded, BLOCK_KEY) as sdk, pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(model=LLAMA, input=f"please {BLOCKLIST_WORD}")
    assert refused.value.code == "content_policy_violation"
    assert "moderation (BLOCKLIST)" in refused.value.message
