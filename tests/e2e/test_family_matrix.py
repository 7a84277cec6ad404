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
from tests.matrix import (
    APIS,
    CITY,
    FAMILIES,
    NO_TOOL_CHOICE,
    PATHS,
    body,
    calls,
    choice,
    reasoning,
    reasoning_options,
    streamed_text,
    structured,
    text,
    tools,
)

# The family's model for images and for reasoning text, where it has one (emulator catalog).
VISION = {
    "meta": FAMILIES["meta"],
    "xai": "xai.grok-4",
    "google": "google.gemini-2.5-flash",
    "cohere-v2": "command-a-vision",
}
REASONING = {"xai": "xai.grok-3-mini", "cohere-v2": "command-a-reasoning"}


@pytest.fixture
def http(gateway: GatewayProcess, emulator: Emulator) -> Iterator[httpx.Client]:
    emulator.reset()
    headers = {"authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=gateway.url, headers=headers, timeout=60) as client:
        yield client


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
    reply = http.post(
        PATHS[api], json=body(api, FAMILIES[family], "Where is Oslo", **structured(api, schema))
    )
    assert reply.status_code == 200, reply.text
    assert set(json.loads(text(api, reply.json()))) == {"city"}


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", sorted(VISION))
def test_images(http: httpx.Client, family: str, api: str) -> None:
    reply = http.post(PATHS[api], json=body(api, VISION[family], "What is this", image=True))
    assert reply.status_code == 200, reply.text
    assert "I see 1 image" in text(api, reply.json())


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", sorted(REASONING))
def test_reasoning_text_out(http: httpx.Client, family: str, api: str) -> None:
    reply = http.post(
        PATHS[api], json=body(api, REASONING[family], "Why is the sky blue", **reasoning_options(api))
    )
    assert reply.status_code == 200, reply.text
    assert reasoning(api, reply.json()).startswith("The user said")


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
