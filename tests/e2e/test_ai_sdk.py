"""The Vercel AI SDK (`ai` 6 with `@ai-sdk/openai` 3, tests/node/ai_sdk.mjs) against the gateway.

Its OpenAI provider speaks the Responses API by default and Chat Completions on request, so one
script drives both of the gateway's OpenAI chat APIs the way a TypeScript app does: text, a stream,
a tool loop the SDK runs itself, and embeddings; through the ASGI server and `make run`'s stack.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.fixtures.gateway import KEY
from tests.fixtures.node import Node

MODELS = ["xai.grok-4", "meta.llama-3.3-70b-instruct", "cohere.command-a-03-2025"]
EMBEDDING_MODEL = "cohere.embed-english-v3.0"
PROMPT = "hello from the ai sdk"  # what tests/node/ai_sdk.mjs sends

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("model", MODELS)
def test_the_ai_sdk_on_responses_and_chat_completions(api_base_url: str, model: str, node: Node) -> None:
    env = {
        **os.environ,
        "OPENAI_BASE_URL": api_base_url,
        "OPENAI_API_KEY": KEY,
        "CHAT_MODEL": model,
        "EMBEDDING_MODEL": EMBEDDING_MODEL,
    }
    result = node.run("ai_sdk.mjs", env=env, timeout=180)
    for api in ("responses", "chat"):
        check_api(result[api], model)
    # Both APIs carry the same answer and the same accounting for the same prompt.
    assert result["responses"]["generate"]["text"] == result["chat"]["generate"]["text"]
    responses_usage = result["responses"]["generate"]["usage"]
    chat_usage = result["chat"]["generate"]["usage"]
    for field in ("inputTokens", "outputTokens", "totalTokens", "reasoningTokens"):
        assert responses_usage.get(field) == chat_usage.get(field), field
    assert result["embeddings"][0] > 0
    assert result["embeddings"][0] == result["embeddings"][1]
    assert result["distinct"] is True

    # With the SDK's default (store unset) it refers to the first step's text or reasoning item by id,
    # which a gateway that stores nothing cannot resolve: a 400 that says what to set, never a wrong
    # answer. A reasoning model's first step always has a reasoning item (the gateway returns OCI's).
    default = result["responses"]["toolsDefaultStore"]
    first = result["responses"]["tools"]
    referenced = bool(first["firstText"]) or first["firstReasoning"]
    assert default["ok"] is (not referenced), default
    if not default["ok"]:
        assert default["status"] == 400
        assert "item_reference" in default["message"]
        assert "store: false" in default["message"]


def check_api(api: dict[str, Any], model: str) -> None:
    """One API's text, stream and tool loop, as the SDK reports them."""
    generated, streamed, tools = api["generate"], api["stream"], api["tools"]
    assert f"from {model}" in generated["text"]
    assert PROMPT in generated["text"]
    assert generated["finish"] == "stop"
    usage = generated["usage"]
    assert usage["outputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]

    assert len(streamed["parts"]) > 1, "the stream came in pieces"
    assert streamed["text"] == generated["text"]
    assert streamed["finish"] == "stop"
    assert streamed["usage"]["totalTokens"] == usage["totalTokens"]

    (call,) = tools["calls"]
    assert call["name"] == "get_weather"
    assert set(call["input"]) == {"city"}
    assert tools["results"] == [f"Sunny in {call['input']['city']}"]
    assert tools["steps"] == 2, "a tool call, then the answer from its result"
    assert tools["results"][0] in tools["text"]
