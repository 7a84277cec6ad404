"""Issue 21's matrix: model families (meta, xai, google, openai, cohere v1, cohere v2) x APIs (chat,
responses, messages) x features (forced and named tool choice, images, reasoning text out,
structured output, streaming), through the ASGI gateway to the emulator. Each cell states what the
family gets (README, "What each model family gets"): an answer, or the 400 a format cannot honour."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import KEY, GatewayProcess

FAMILIES = {
    "meta": "meta.llama-4-maverick-17b-128e-instruct-fp8",
    "xai": "xai.grok-4",
    "google": "google.gemini-2.5-flash",
    "openai": "openai.gpt-oss-120b",
    "cohere-v1": "cohere.command-r-08-2024",
    "cohere-v2": "cohere.command-a-03-2025",
}
# The family's model for images and for reasoning text, where it has one (emulator catalog).
VISION = {
    "meta": FAMILIES["meta"],
    "xai": "xai.grok-4",
    "google": "google.gemini-2.5-flash",
    "cohere-v2": "command-a-vision",
}
REASONING = {"xai": "xai.grok-3-mini", "cohere-v2": "command-a-reasoning"}
NO_TOOL_CHOICE = {"cohere-v1"}  # COHERE v1 has no tool choice: required or a named tool is a 400
APIS = ["chat", "responses", "messages"]
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
NAMES = ("get_weather", "get_time")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses", "messages": "/v1/messages"}


@pytest.fixture
def http(gateway: GatewayProcess, emulator: Emulator) -> Iterator[httpx.Client]:
    emulator.reset()
    headers = {"authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=gateway.url, headers=headers, timeout=60) as client:
        yield client


def body(api: str, model: str, prompt: str, image: bool = False, **extra: Any) -> dict[str, Any]:
    """A request of `api` with one user turn (text, and an image if asked)."""
    url = f"data:image/png;base64,{PNG}"
    if api == "chat":
        parts: Any = [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": url}}]
        return {
            "model": model,
            "messages": [{"role": "user", "content": parts if image else prompt}],
            **extra,
        }
    if api == "responses":
        content: Any = [{"type": "input_text", "text": prompt}, {"type": "input_image", "image_url": url}]
        return {"model": model, "input": [{"role": "user", "content": content if image else prompt}], **extra}
    source = {"type": "base64", "media_type": "image/png", "data": PNG}
    blocks: Any = [{"type": "text", "text": prompt}, {"type": "image", "source": source}]
    turn = {"role": "user", "content": blocks if image else prompt}
    return {"model": model, "max_tokens": 1000, "messages": [turn], **extra}


def tools(api: str) -> list[dict[str, Any]]:
    if api == "chat":
        return [{"type": "function", "function": {"name": n, "parameters": CITY}} for n in NAMES]
    if api == "responses":
        return [{"type": "function", "name": n, "parameters": CITY} for n in NAMES]
    return [{"name": n, "input_schema": CITY} for n in NAMES]


def choice(api: str, name: str | None) -> Any:
    """Forced (`name` None) or named tool choice in the API's words."""
    if api == "chat":
        return "required" if name is None else {"type": "function", "function": {"name": name}}
    if api == "responses":
        return "required" if name is None else {"type": "function", "name": name}
    return {"type": "any"} if name is None else {"type": "tool", "name": name}


def calls(api: str, answer: dict[str, Any]) -> list[str]:
    if api == "chat":
        return [c["function"]["name"] for c in answer["choices"][0]["message"].get("tool_calls") or []]
    if api == "responses":
        return [o["name"] for o in answer["output"] if o["type"] == "function_call"]
    return [b["name"] for b in answer["content"] if b["type"] == "tool_use"]


def text(api: str, answer: dict[str, Any]) -> str:
    if api == "chat":
        return str(answer["choices"][0]["message"]["content"] or "")
    if api == "responses":
        return "".join(p["text"] for o in answer["output"] if o["type"] == "message" for p in o["content"])
    return "".join(b["text"] for b in answer["content"] if b["type"] == "text")


def reasoning(api: str, answer: dict[str, Any]) -> str:
    if api == "chat":
        return str(answer["choices"][0]["message"].get("reasoning_content") or "")
    if api == "responses":
        items = [o for o in answer["output"] if o["type"] == "reasoning"]
        return "".join(s["text"] for o in items for s in o.get("summary") or [])
    return "".join(b["thinking"] for b in answer["content"] if b["type"] == "thinking")


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("named", [None, "get_time"], ids=["forced", "named"])
def test_tool_choice(http: httpx.Client, family: str, api: str, named: str | None) -> None:
    request = body(api, FAMILIES[family], "Hello there", tools=tools(api), tool_choice=choice(api, named))
    reply = http.post(PATHS[api], json=request)
    if family in NO_TOOL_CHOICE:
        assert reply.status_code == 400, reply.text
        assert "tool_choice" in reply.text
        return
    assert reply.status_code == 200, reply.text
    called = calls(api, reply.json())
    assert called
    if named:
        assert called == [named]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", FAMILIES)
def test_structured_output(http: httpx.Client, family: str, api: str) -> None:
    schema: dict[str, Any] = {**CITY, "additionalProperties": False}
    fmt: dict[str, Any] = {
        "chat": {
            "response_format": {"type": "json_schema", "json_schema": {"name": "City", "schema": schema}}
        },
        "responses": {"text": {"format": {"type": "json_schema", "name": "City", "schema": schema}}},
        "messages": {"output_config": {"format": {"type": "json_schema", "schema": schema}}},
    }[api]
    reply = http.post(PATHS[api], json=body(api, FAMILIES[family], "Where is Oslo", **fmt))
    assert reply.status_code == 200, reply.text
    assert set(json.loads(text(api, reply.json()))) == {"city"}


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", sorted(VISION))
def test_images(http: httpx.Client, family: str, api: str) -> None:
    reply = http.post(PATHS[api], json=body(api, VISION[family], "What is this", image=True))
    assert reply.status_code == 200, reply.text
    assert "I see 1 image" in text(api, reply.json())


def reasoning_options(api: str) -> dict[str, Any]:
    if api == "chat":
        return {"reasoning_effort": "low"}
    if api == "responses":
        return {"reasoning": {"effort": "low", "summary": "auto"}}
    return {"thinking": {"type": "enabled", "budget_tokens": 1024}}


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", sorted(REASONING))
def test_reasoning_text_out(http: httpx.Client, family: str, api: str) -> None:
    reply = http.post(
        PATHS[api], json=body(api, REASONING[family], "Why is the sky blue", **reasoning_options(api))
    )
    assert reply.status_code == 200, reply.text
    assert reasoning(api, reply.json()).startswith("The user said")


def streamed_text(api: str, events: list[dict[str, Any]]) -> str:
    if api == "chat":
        return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices"))
    if api == "responses":
        return "".join(e["delta"] for e in events if e.get("type") == "response.output_text.delta")
    return "".join(
        e["delta"]["text"]
        for e in events
        if e.get("type") == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", FAMILIES)
def test_streaming(http: httpx.Client, family: str, api: str) -> None:
    events = []
    with http.stream("POST", PATHS[api], json=body(api, FAMILIES[family], "Stream it", stream=True)) as reply:
        assert reply.status_code == 200
        for line in reply.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line[len("data: ") :]))
    assert f"from {FAMILIES[family]}" in streamed_text(api, events)
