"""Every route of the three functions, in both call forms, under the real fdk server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.functions import PREFIX, FnReply, Functions, gateway_call, plain_call
from tests.openapi import validate

LLAMA = "meta.llama-3.3-70b-instruct"
COHERE = "cohere.command-r-08-2024"
EMBED = "cohere.embed-english-v3.0"
CHAT_URL = f"{PREFIX}/v1/chat/completions"
CHAT = {"model": LLAMA, "messages": [{"role": "user", "content": "Hello function"}]}


def sse_events(reply: FnReply) -> list[Any]:
    """Parse a buffered SSE body: every `data:` payload, `[DONE]` kept as the string."""
    assert reply.headers["content-type"] == "text/event-stream"
    text = reply.body.decode()
    assert text.endswith("\n\n"), "the body must end on an event boundary"
    events: list[Any] = []
    for block in text.split("\n\n")[:-1]:
        assert block.startswith("data: "), block
        payload = block.removeprefix("data: ")
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def chunks_of(reply: FnReply) -> list[dict[str, Any]]:
    """The chunks of a complete stream, each valid per OpenAI's schema, `[DONE]` last."""
    events = sse_events(reply)
    assert events[-1] == "[DONE]"
    assert "[DONE]" not in events[:-1]
    for chunk in events[:-1]:
        validate(chunk, "CreateChatCompletionStreamResponse")
    return events[:-1]


def text_of(chunks: list[dict[str, Any]]) -> str:
    """The streamed content, joined."""
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    """A chat body without what differs between two identical requests."""
    return {k: v for k, v in body.items() if k not in ("id", "created")}


@pytest.fixture(autouse=True)
def _clean(emu: Emulator) -> None:
    """Every test starts with no queued faults and an empty OCI request log."""


def test_chat_through_api_gateway_has_real_status_and_headers(functions: Functions) -> None:
    reply = gateway_call(functions["chat"], "POST", CHAT_URL, json.dumps(CHAT), {"X-Request-Id": "req-abc.1"})
    assert (reply.fdk_status, reply.status) == (200, 200)
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-request-id"] == "req-abc.1"
    body = reply.json()
    validate(body, "CreateChatCompletionResponse")
    assert LLAMA in body["choices"][0]["message"]["content"]


def test_plain_invoke_answers_the_same_json(functions: Functions) -> None:
    through_gateway = gateway_call(functions["chat"], "POST", CHAT_URL, json.dumps(CHAT)).json()
    plain = plain_call(functions["chat"], json.dumps(CHAT))
    assert plain.status == 200
    assert plain.headers["content-type"] == "application/json"
    assert plain.headers["x-request-id"]
    assert without_ids(plain.json()) == without_ids(through_gateway)


@pytest.mark.parametrize("form", ["gateway", "plain"])
@pytest.mark.parametrize("model", [LLAMA, COHERE])
def test_stream_is_one_complete_sse_body(functions: Functions, form: str, model: str) -> None:
    request = {**CHAT, "model": model, "stream": True, "stream_options": {"include_usage": True}}
    if form == "gateway":
        reply = gateway_call(functions["chat"], "POST", CHAT_URL, json.dumps(request))
    else:
        reply = plain_call(functions["chat"], json.dumps(request))
    assert reply.status == 200
    chunks = chunks_of(reply)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len({c["id"] for c in chunks}) == 1
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    usage = chunks[-1]
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] > 0
    whole = plain_call(functions["chat"], json.dumps({**CHAT, "model": model})).json()
    assert text_of(chunks) == whole["choices"][0]["message"]["content"]


def test_stream_without_include_usage_has_no_usage_chunk(functions: Functions) -> None:
    reply = gateway_call(functions["chat"], "POST", CHAT_URL, json.dumps({**CHAT, "stream": True}))
    chunks = chunks_of(reply)
    assert all(c["choices"] for c in chunks)
    assert all(c.get("usage") is None for c in chunks)


def test_openai_sdk_through_api_gateway(functions: Functions) -> None:
    with functions.client() as sdk:
        answer = sdk.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "SDK hi"}])
        assert LLAMA in (answer.choices[0].message.content or "")
        raw = sdk.chat.completions.with_raw_response.create(model=LLAMA, messages=CHAT["messages"])  # type: ignore[arg-type]
        assert raw.headers["x-request-id"]


def test_openai_sdk_streams_through_the_buffered_body(functions: Functions) -> None:
    with functions.client() as sdk:
        stream = sdk.chat.completions.create(
            model=COHERE,
            messages=[{"role": "user", "content": "SDK stream"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = []
        for chunk in stream:
            body = json.loads(chunk.model_dump_json(exclude_unset=True))
            validate(body, "CreateChatCompletionStreamResponse")
            chunks.append(body)
    assert COHERE in text_of(chunks)
    assert chunks[-1]["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("form", ["gateway", "plain"])
def test_embeddings(functions: Functions, form: str) -> None:
    request = json.dumps({"model": EMBED, "input": ["one", "two"]})
    if form == "gateway":
        reply = gateway_call(functions["embeddings"], "POST", f"{PREFIX}/v1/embeddings", request)
    else:
        reply = plain_call(functions["embeddings"], request)
    assert reply.status == 200
    body = reply.json()
    validate(body, "CreateEmbeddingResponse")
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert len(body["data"][0]["embedding"]) == 1024


def test_openai_sdk_embeddings(functions: Functions) -> None:
    with functions.client() as sdk:
        result = sdk.embeddings.create(model="cohere.embed-v4.0", input="hello", dimensions=256)
    assert len(result.data[0].embedding) == 256


@pytest.mark.parametrize("form", ["gateway", "plain"])
def test_models_list(functions: Functions, form: str) -> None:
    if form == "gateway":
        reply = gateway_call(functions["models"], "GET", f"{PREFIX}/v1/models")
    else:
        reply = plain_call(functions["models"])
    assert reply.status == 200
    body = reply.json()
    validate(body, "ListModelsResponse")
    ids = {m["id"] for m in body["data"]}
    assert {LLAMA, EMBED, "fast", "tuned"} <= ids
    assert plain_call(functions["models"], "{}").json() == body


def test_models_retrieve_in_both_forms(functions: Functions) -> None:
    through_gateway = gateway_call(functions["models"], "GET", f"{PREFIX}/v1/models/xai.grok-4?x=1")
    assert through_gateway.status == 200
    validate(through_gateway.json(), "Model")
    plain = plain_call(functions["models"], json.dumps({"model": "xai.grok-4"}))
    assert (
        plain.json()
        == through_gateway.json()
        == {
            "id": "xai.grok-4",
            "object": "model",
            "created": through_gateway.json()["created"],
            "owned_by": "xai",
        }
    )


def test_openai_sdk_models(functions: Functions) -> None:
    with functions.client() as sdk:
        listed = [m.id for m in sdk.models.list()]
        assert LLAMA in listed
        assert sdk.models.retrieve("fast").id == "fast"
