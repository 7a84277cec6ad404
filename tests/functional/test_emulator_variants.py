"""The real OCI wire variants the emulator speaks, checked byte by byte on signed requests.

Every test reads the raw HTTP body itself (http.client, transfer decoding only) and parses the SSE
framing by hand, so what is asserted is exactly what a client of OCI receives: per-vendor stream
framing and endings, finish events, tool-call styles, reasoning usage, model-level errors, ListModels
entries, zstd frames per event, embedText.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import oci
import pytest
import zstandard
from oci.generative_ai_inference import models as m

from oci_genai_emulator import catalog
from tests.fixtures.emulator import COMPARTMENT, Emulator, inference_client, management_client, sign_request

CHAT = "/20231130/actions/chat"
EMBED = "/20231130/actions/embedText"
MODELS = "/20231130/models"
LLAMA = "meta.llama-3.3-70b-instruct"
GROK = "xai.grok-4"
GROK_MINI = "xai.grok-3-mini"
GEMINI = "google.gemini-2.5-flash"
GPT_OSS = "openai.gpt-oss-120b"
GPT5 = "openai.gpt-5"
COMMAND_A = "cohere.command-a-03-2025"
REASONING = [GROK_MINI, GROK, GPT_OSS, GPT5]
PAD = re.compile(r"a{1,11}")
WEATHER = {
    "type": "FUNCTION",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 2}},
        "required": ["city", "days"],
    },
}
CLOCK = {
    "type": "FUNCTION",
    "name": "get_time",
    "description": "Current time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}}},
}


def text_part(text: str) -> dict[str, Any]:
    return {"type": "TEXT", "text": text}


def generic(
    model: str,
    prompt: str = "Tell me about the harbour of Oslo",
    *,
    system: str | None = "Answer briefly and kindly",
    serving: dict[str, str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    messages = [{"role": "SYSTEM", "content": [text_part(system)]}] if system else []
    messages.append({"role": "USER", "content": [text_part(prompt)]})
    return {
        "compartmentId": COMPARTMENT,
        "servingMode": serving or {"servingType": "ON_DEMAND", "modelId": model},
        "chatRequest": {"apiFormat": "GENERIC", "messages": messages, **options},
    }


def cohere(prompt: str, **options: Any) -> dict[str, Any]:
    return {
        "compartmentId": COMPARTMENT,
        "servingMode": {"servingType": "ON_DEMAND", "modelId": COMMAND_A},
        "chatRequest": {"apiFormat": "COHERE", "message": prompt, **options},
    }


def streamed(body: dict[str, Any], *, usage: bool = False) -> dict[str, Any]:
    request = {**body["chatRequest"], "isStream": True}
    if usage:
        request["streamOptions"] = {"isIncludeUsage": True}
    return {**body, "chatRequest": request}


class Wire:
    """One signed request on a raw HTTP/1.1 connection; the body read incrementally, undecoded."""

    def __init__(
        self, emu: Emulator, signer: Any, method: str, path: str, body: Any, headers: dict[str, str]
    ):
        raw = None if body is None else json.dumps(body).encode()
        url = urlsplit(emu.url)
        signed = sign_request(signer, method, emu.url + path, raw)
        self.connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        self.connection.request(method, path, body=raw, headers={**signed, **headers})
        self.response = self.connection.getresponse()
        self.raw = b""

    @property
    def status(self) -> int:
        return self.response.status

    def header(self, name: str) -> str | None:
        return self.response.getheader(name)

    def read_until(self, done: Callable[[bytes], bool]) -> bytes:
        """Read until `done(body so far)`; fails if the server closes first."""
        while not done(self.raw):
            chunk = self.response.read1(65536)
            assert chunk, f"the connection closed early after {self.raw!r}"
            self.raw += chunk
        return self.raw

    def read_to_eof(self) -> bytes:
        while chunk := self.response.read1(65536):
            self.raw += chunk
        return self.raw

    def held_open(self) -> bool:
        """True if nothing more arrives and the server keeps the connection (a short read times out)."""
        assert self.connection.sock is not None
        self.connection.sock.settimeout(0.5)
        try:
            more = self.response.read1(65536)
        except TimeoutError:
            return True
        self.raw += more
        return False

    def close(self) -> None:
        self.connection.close()


@contextmanager
def wire(
    emu: Emulator,
    signer: Any,
    body: Any,
    *,
    path: str = CHAT,
    method: str = "POST",
    accept_encoding: str | None = "identity",
    fault: str | None = None,
) -> Iterator[Wire]:
    headers = {"accept-encoding": accept_encoding} if accept_encoding is not None else {}
    if fault:
        headers["x-emulator-fault"] = fault
    connection = Wire(emu, signer, method, path, body, headers)
    try:
        yield connection
    finally:
        connection.close()


def call(emu: Emulator, signer: Any, body: Any, **options: Any) -> tuple[int, Any]:
    """A JSON request: status and parsed body."""
    with wire(emu, signer, body, **options) as w:
        return w.status, json.loads(w.read_to_eof())


def blocks(raw: bytes, separator: str) -> list[str]:
    """The complete `data:` blocks of a raw SSE body framed with `separator`."""
    text = raw.decode()
    complete = text[: text.rfind(separator) + len(separator)] if separator in text else ""
    parts = complete.split(separator)[:-1]
    assert all(p.startswith("data: ") and "\n" not in p for p in parts), parts
    return [p[len("data: ") :] for p in parts]


def events(raw: bytes, separator: str = "\n\n") -> list[dict[str, Any]]:
    return [json.loads(b) for b in blocks(raw, separator) if b != "[DONE]"]


def has(key: str, separator: str = "\n\n") -> Callable[[bytes], bool]:
    """A read_until condition: an event carrying `key` has arrived."""
    return lambda raw: any(key in e for e in events(raw, separator))


def tool_calls(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every toolCalls entry of a stream, asserting OCI's one call per event."""
    found = []
    for event in received:
        calls = event.get("message", {}).get("toolCalls")
        if calls is not None:
            assert len(calls) == 1
            found.append(calls[0])
    return found


def assert_padded(received: list[dict[str, Any]]) -> None:
    assert received
    assert all(PAD.fullmatch(e["pad"]) for e in received)


def visible_tokens(text: str) -> int:
    return len(text.split())


# -- 1. Usage of reasoning models --------------------------------------------------------------------


@pytest.mark.parametrize("model", REASONING)
def test_reasoning_usage_excludes_reasoning_from_completion_tokens(
    model: str, emu: Emulator, rp_signer: Any
) -> None:
    status, result = call(emu, rp_signer, generic(model))
    assert status == 200
    [choice] = result["chatResponse"]["choices"]
    usage = result["chatResponse"]["usage"]
    text = choice["message"]["content"][0]["text"]
    reasoning = usage["completionTokensDetails"]["reasoningTokens"]
    assert usage["completionTokens"] == visible_tokens(text)
    assert reasoning > 0
    assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"] + reasoning
    # The system message is a prefix the service may have cached; the new user turn is not.
    assert 0 < usage["promptTokensDetails"]["cachedTokens"] < usage["promptTokens"]
    again = call(emu, rp_signer, generic(model))[1]["chatResponse"]["usage"]
    assert again == usage  # deterministic
    if model.startswith("xai."):
        assert usage["completionTokensDetails"]["acceptedPredictionTokens"] == 0
        assert list(usage) == [
            "completionTokens",
            "promptTokens",
            "totalTokens",
            "completionTokensDetails",
            "promptTokensDetails",
        ]  # the recorded order
        assert choice["logprobs"] == {}
        assert isinstance(choice["message"]["reasoningContent"], str)
        assert choice["message"]["reasoningContent"]
    else:
        assert set(usage["completionTokensDetails"]) == {"reasoningTokens"}
        assert "reasoningContent" not in choice["message"]


@pytest.mark.parametrize("model", REASONING)
def test_streamed_usage_event_matches_the_json_answer(model: str, emu: Emulator, rp_signer: Any) -> None:
    expected = call(emu, rp_signer, generic(model))[1]["chatResponse"]
    with wire(emu, rp_signer, streamed(generic(model), usage=True)) as w:
        raw = w.read_until(has("usage"))
        assert w.held_open()  # no [DONE]: the connection stays open after the usage event
    received = events(raw)
    finish, last = received[-2:]
    assert set(finish) == {"finishReason", "pad"}
    assert set(last) == {"usage", "pad"}  # usage only: no message, index or finishReason
    assert last["usage"] == expected["usage"]
    text = "".join(c["text"] for e in received for c in e.get("message", {}).get("content", ()))
    assert text == expected["choices"][0]["message"]["content"][0]["text"]
    assert_padded(received)


def test_xai_streams_reasoning_content_before_the_text(emu: Emulator, rp_signer: Any) -> None:
    expected = call(emu, rp_signer, generic(GROK_MINI))[1]["chatResponse"]["choices"][0]["message"]
    with wire(emu, rp_signer, streamed(generic(GROK_MINI))) as w:
        received = events(w.read_until(has("finishReason")))
        assert w.held_open()
    kinds = ["reasoning" if "reasoningContent" in e["message"] else "text" for e in received[:-1]]
    assert kinds == sorted(kinds)  # every reasoning delta comes before the first text delta
    assert kinds[0] == "reasoning"
    assert (
        "".join(e["message"].get("reasoningContent", "") for e in received[:-1])
        == (expected["reasoningContent"])
    )
    assert all(e["index"] == 0 for e in received[:-1])
    assert not any("usage" in e for e in received)  # not asked for


# -- 2. Gemini: usage without completionTokens ------------------------------------------------------


@pytest.mark.parametrize("max_tokens", [1, 9, 16])
def test_gemini_budget_spent_on_reasoning_has_no_text(max_tokens: int, emu: Emulator, rp_signer: Any) -> None:
    status, result = call(emu, rp_signer, generic(GEMINI, maxTokens=max_tokens))
    assert status == 200
    [choice] = result["chatResponse"]["choices"]
    usage = result["chatResponse"]["usage"]
    assert choice == {"index": 0, "finishReason": "max_tokens"}
    assert usage == {
        "promptTokens": usage["promptTokens"],
        "totalTokens": usage["promptTokens"] + max_tokens,
        "completionTokensDetails": {"reasoningTokens": max_tokens},
    }


def test_gemini_spends_its_reasoning_budget_first(emu: Emulator, rp_signer: Any) -> None:
    full = call(emu, rp_signer, generic(GEMINI))[1]["chatResponse"]
    budget = full["usage"]["completionTokensDetails"]["reasoningTokens"]
    assert budget > 0
    assert full["choices"][0]["finishReason"] == "stop"
    cut = call(emu, rp_signer, generic(GEMINI, maxTokens=budget + 3))[1]["chatResponse"]
    [choice] = cut["choices"]
    assert choice["finishReason"] == "max_tokens"  # Gemini's spelling of every length stop
    assert visible_tokens(choice["message"]["content"][0]["text"]) == 3
    assert cut["usage"]["completionTokens"] == 3
    assert cut["usage"]["totalTokens"] == cut["usage"]["promptTokens"] + 3 + budget


# -- 3. Streams with no usage event, held open ------------------------------------------------------


def test_gemini_stream_never_sends_usage_and_stays_open(emu: Emulator, rp_signer: Any) -> None:
    expected = call(emu, rp_signer, generic(GEMINI))[1]["chatResponse"]["choices"][0]["message"]
    with wire(emu, rp_signer, streamed(generic(GEMINI), usage=True)) as w:
        raw = w.read_until(has("finishReason", "\n"))
        assert w.held_open()  # isIncludeUsage was asked, yet nothing follows the finish event
        assert emu.lingering() >= 1
    assert b"\n\n" not in raw  # Gemini separates events by a single newline
    assert raw.endswith(b"\n")
    received = events(raw, "\n")
    *content, final = received
    assert not any("usage" in e for e in received)
    assert_padded(received)
    assert all(e["index"] == 0 and set(e) == {"index", "message", "pad"} for e in content)
    # The finish event carries the last piece of text and no index.
    assert set(final) == {"message", "finishReason", "pad"}
    assert final["finishReason"] == "stop"
    assert final["message"]["content"][0]["text"]
    text = "".join(e["message"]["content"][0]["text"] for e in received)
    assert text == expected["content"][0]["text"]


def test_gemini_stream_when_the_budget_went_to_reasoning(emu: Emulator, rp_signer: Any) -> None:
    with wire(emu, rp_signer, streamed(generic(GEMINI, maxTokens=4), usage=True)) as w:
        raw = w.read_until(has("finishReason", "\n"))
        assert w.held_open()
    [only] = events(raw, "\n")
    assert set(only) == {"finishReason", "pad"}
    assert only["finishReason"] == "max_tokens"


@pytest.mark.parametrize("model", [GROK, GPT_OSS, COMMAND_A])
def test_streams_without_usage_stay_open_after_the_finish_event(
    model: str, emu: Emulator, rp_signer: Any
) -> None:
    body = streamed(cohere("Stream a line about Rome") if model == COMMAND_A else generic(model))
    with wire(emu, rp_signer, body) as w:
        received = events(w.read_until(has("finishReason")))
        assert w.held_open()
    assert "finishReason" in received[-1]
    assert b"[DONE]" not in w.raw


def test_a_reset_closes_streams_held_open(emu: Emulator, rp_signer: Any) -> None:
    with wire(emu, rp_signer, streamed(generic(GROK))) as w:
        w.read_until(has("finishReason"))
        while emu.lingering() < 1:  # the server is past the last event, connection open
            time.sleep(0.01)
        emu.reset()
        w.read_to_eof()  # returns: the server ended the response


def test_linger_fault_closes_a_stream_after_its_last_event(emu: Emulator, rp_signer: Any) -> None:
    with wire(emu, rp_signer, streamed(generic(GROK)), fault="linger=0") as w:
        received = events(w.read_to_eof())
    assert set(received[-1]) == {"finishReason", "pad"}


# -- 4. Vendor stream styles -------------------------------------------------------------------------


def test_llama_stream_opens_empty_ends_with_done_and_closes(emu: Emulator, rp_signer: Any) -> None:
    with wire(emu, rp_signer, streamed(generic(LLAMA), usage=True)) as w:
        raw = w.read_to_eof()  # the server closes: this returns
    assert raw.endswith(b"\n\ndata: [DONE]\n\n")  # [DONE] is last, nothing after it
    assert blocks(raw, "\n\n")[-1] == "[DONE]"
    received = events(raw)
    opening, *content, final, usage = received
    empty = {"role": "ASSISTANT", "content": [text_part("")]}
    assert opening == {"index": 0, "message": empty, "pad": opening["pad"]}
    assert all(set(e) == {"index", "message", "pad"} for e in content)
    # The finish event carries only the role, as recorded.
    assert final == {"message": {"role": "ASSISTANT"}, "finishReason": "stop", "pad": final["pad"]}
    assert set(usage) == {"usage", "pad"}
    text = "".join(e["message"]["content"][0]["text"] for e in content)
    assert usage["usage"] == {
        "promptTokens": usage["usage"]["promptTokens"],
        "completionTokens": visible_tokens(text),
        "totalTokens": usage["usage"]["promptTokens"] + visible_tokens(text),
    }
    assert_padded(received)


def test_llama_tool_calls_stream_as_vllm_fragments(emu: Emulator, rp_signer: Any) -> None:
    body = streamed(generic(LLAMA, "Call get_weather and get_time for Berlin", tools=[WEATHER, CLOCK]))
    with wire(emu, rp_signer, body) as w:
        raw = w.read_to_eof()
    assert raw.endswith(b"data: [DONE]\n\n")
    received = events(raw)
    assert received[0]["message"]["content"] == [text_part("")]
    *calls, closing = tool_calls(received)
    final = received[-1]
    assert final["finishReason"] == "tool_calls"
    assert "index" not in final
    assert closing == {"type": "FUNCTION", "arguments": ""}  # the finish event repeats an empty call
    heads = [i for i, c in enumerate(calls) if "id" in c]
    assert len(heads) == 2
    for head in heads:
        assert set(calls[head]) == {"type", "id", "name"}  # no arguments key on the head
        assert re.fullmatch(r"chatcmpl-tool-[0-9a-f]+", calls[head]["id"])
    # Two empty-argument events separate the first call's pieces from the second call's head.
    assert calls[heads[1] - 2 : heads[1]] == [{"type": "FUNCTION", "arguments": ""}] * 2
    first = calls[heads[0] + 1 : heads[1] - 2]
    second = calls[heads[1] + 1 :]
    assert all(set(p) == {"type", "arguments"} for p in first + second)
    assert len(first) > 1
    assert len(second) > 1
    weather = json.loads("".join(p["arguments"] for p in first))
    assert weather["city"] == "Berlin"
    assert weather["days"] >= 2
    assert json.loads("".join(p["arguments"] for p in second)) == {"zone": "UTC"}
    assert all(e["index"] == 0 for e in received[:-1])
    assert_padded(received)


def test_xai_tool_calls_arrive_whole_one_per_event(emu: Emulator, rp_signer: Any) -> None:
    body = streamed(generic(GROK, "Call get_weather and get_time for Berlin", tools=[WEATHER, CLOCK]))
    with wire(emu, rp_signer, body) as w:
        received = events(w.read_until(has("finishReason")))
        assert w.held_open()
    calls = tool_calls(received)
    assert [c["name"] for c in calls] == ["get_weather", "get_time"]
    for c in calls:
        assert list(c) == ["type", "id", "name", "arguments"]
        assert re.fullmatch(r"call_\d{8}", c["id"])
    assert calls[0]["id"] != calls[1]["id"]
    assert json.loads(calls[0]["arguments"])["city"] == "Berlin"
    assert json.loads(calls[1]["arguments"]) == {"zone": "UTC"}
    assert "content" not in received[0]["message"]  # no opening empty-text event
    assert set(received[-1]) == {"finishReason", "pad"}  # a bare finish event
    assert received[-1]["finishReason"] == "tool_calls"
    assert_padded(received)


def test_gemini_tool_calls_have_no_id_and_a_textless_part(emu: Emulator, rp_signer: Any) -> None:
    body = streamed(generic(GEMINI, "Call get_weather and get_time for Berlin", tools=[WEATHER, CLOCK]))
    with wire(emu, rp_signer, body) as w:
        raw = w.read_until(has("finishReason", "\n"))
        assert w.held_open()
    assert b"\n\n" not in raw
    received = events(raw, "\n")
    calls = tool_calls(received)
    assert [c["name"] for c in calls] == ["get_weather", "get_time"]
    assert all(set(c) == {"type", "name", "arguments"} for c in calls)  # no id
    tool_events = [e for e in received if "toolCalls" in e.get("message", {})]
    assert all(e["message"]["content"] == [{"type": "TEXT"}] and e["index"] == 0 for e in tool_events)
    assert json.loads(calls[0]["arguments"])["city"] == "Berlin"
    assert received[-1]["finishReason"] == "tool_calls"
    assert "index" not in received[-1]

    result = call(emu, rp_signer, generic(GEMINI, "Use get_weather for Berlin", tools=[WEATHER]))[1]
    [json_call] = result["chatResponse"]["choices"][0]["message"]["toolCalls"]
    assert "id" not in json_call


@pytest.mark.parametrize("model", [GPT_OSS, GPT5])
def test_openai_tool_calls_stream_as_token_pieces(model: str, emu: Emulator, rp_signer: Any) -> None:
    body = streamed(generic(model, "Call get_weather and get_time for Berlin", tools=[WEATHER, CLOCK]))
    with wire(emu, rp_signer, body) as w:
        received = events(w.read_until(has("finishReason")))
        assert w.held_open()
    calls = tool_calls(received)
    heads = [i for i, c in enumerate(calls) if "id" in c]
    assert len(heads) == 2
    pieces_of = [calls[heads[0] + 1 : heads[1]], calls[heads[1] + 1 :]]
    for head, pieces in zip(heads, pieces_of, strict=True):
        assert list(calls[head]) == ["type", "id", "name", "arguments"]
        assert calls[head]["arguments"] == ""
        assert calls[head]["id"].startswith("call_")
        uuid.UUID(calls[head]["id"].removeprefix("call_"))
        assert all(set(p) == {"type", "arguments"} and p["arguments"] for p in pieces)
        assert len(pieces) > 3  # token-sized, not one blob
    assert json.loads("".join(p["arguments"] for p in pieces_of[0]))["city"] == "Berlin"
    assert json.loads("".join(p["arguments"] for p in pieces_of[1])) == {"zone": "UTC"}
    assert set(received[-1]) == {"finishReason", "pad"}
    assert_padded(received)


def test_index_is_on_content_events_and_not_on_the_finish_event(emu: Emulator, rp_signer: Any) -> None:
    for model, separator in ((GROK, "\n\n"), (GPT_OSS, "\n\n"), (GEMINI, "\n")):
        with wire(emu, rp_signer, streamed(generic(model))) as w:
            received = events(w.read_until(has("finishReason", separator)), separator)
        assert all(e["index"] == 0 for e in received[:-1])
        assert "index" not in received[-1]


# -- 5. COHERE format --------------------------------------------------------------------------------


def test_cohere_tool_calls_usage_and_restated_text(emu: Emulator, rp_signer: Any) -> None:
    tools = [
        {
            "name": "get_weather",
            "description": "Current weather",
            "parameterDefinitions": {"city": {"type": "str", "isRequired": True}},
        }
    ]
    body = cohere("Use get_weather for Lyon", tools=tools)
    status, result = call(emu, rp_signer, body)
    assert status == 200
    chat = result["chatResponse"]
    assert chat["text"]  # text alongside the calls
    assert chat["toolCalls"] == [{"name": "get_weather", "parameters": {"city": "Lyon"}}]  # no id
    assert chat["finishReason"] == "COMPLETE"

    with wire(emu, rp_signer, streamed(body, usage=True)) as w:
        received = events(w.read_until(has("finishReason")))
        assert w.held_open()
    *tokens, tool_event, final = received
    assert "".join(e["text"] for e in tokens) == final["text"] == tool_event["text"] == chat["text"]
    assert tool_event["toolCalls"] == final["toolCalls"] == chat["toolCalls"]
    usage = final["usage"]
    # The fields of the SDK's CohereChatResponse.usage (oci.generative_ai_inference.models.Usage).
    assert set(usage) <= set(m.Usage().attribute_map.values())
    assert usage == chat["usage"]
    assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"]
    assert_padded(received)


# -- 6. Errors ---------------------------------------------------------------------------------------


def test_gpt5_refuses_a_temperature_other_than_one_with_an_openai_error(
    emu: Emulator, rp_signer: Any
) -> None:
    status, error = call(emu, rp_signer, generic(GPT5, temperature=0.2))
    assert status == 400
    assert set(error) == {"code", "message"}
    assert error["code"] == "400"
    inner = json.loads(error["message"])  # the OpenAI error, JSON-encoded inside OCI's envelope
    assert list(inner) == ["error"]
    assert inner["error"]["param"] == "temperature"
    assert inner["error"]["code"] == "unsupported_value"
    assert inner["error"]["type"] == "invalid_request_error"
    assert "Only the default (1) value is supported" in inner["error"]["message"]
    assert "0.2" in inner["error"]["message"]
    assert call(emu, rp_signer, generic(GPT5, temperature=1))[0] == 200
    assert call(emu, rp_signer, generic(GPT_OSS, temperature=0.2))[0] == 200  # gpt-oss accepts it


def test_gpt5_wants_max_completion_tokens(emu: Emulator, rp_signer: Any) -> None:
    status, error = call(emu, rp_signer, generic(GPT5, maxTokens=50))
    assert status == 400
    assert error == {
        "code": "400",
        "message": "Invalid 'maxTokens': Unsupported parameter: 'maxTokens' is not supported with this "
        "model. Use 'maxCompletionTokens' instead.",
    }
    assert call(emu, rp_signer, generic(GPT5, maxCompletionTokens=50))[0] == 200


def test_a_listed_chat_model_not_served_on_demand_is_404(emu: Emulator, rp_signer: Any) -> None:
    name = catalog.NOT_ON_DEMAND.display_name
    _, listed = call(
        emu, rp_signer, None, method="GET", path=f"{MODELS}?compartmentId={COMPARTMENT}&displayName={name}"
    )
    [item] = listed["items"]
    assert item["lifecycleState"] == "ACTIVE"
    assert "CHAT" in item["capabilities"]
    assert "timeOnDemandRetired" not in item
    for model_ref in (name, item["id"]):
        status, error = call(emu, rp_signer, generic(model_ref))
        assert status == 404
        assert error == {"code": "404", "message": f"Entity with key {item['id']} not found"}


def test_llama_with_tools_wants_a_user_message_first(emu: Emulator, rp_signer: Any) -> None:
    body = generic(LLAMA, tools=[WEATHER])
    messages = body["chatRequest"]["messages"]
    messages.insert(1, {"role": "ASSISTANT", "content": [text_part("Hello, how can I help?")]})
    status, error = call(emu, rp_signer, body)
    assert status == 400
    assert error["code"] == "400"
    assert "USER" in error["message"]
    without_tools = {**body, "chatRequest": {k: v for k, v in body["chatRequest"].items() if k != "tools"}}
    assert call(emu, rp_signer, without_tools)[0] == 200
    other_vendor = {**body, "servingMode": {"servingType": "ON_DEMAND", "modelId": GROK}}
    assert call(emu, rp_signer, other_vendor)[0] == 200


# -- 7. ListModels ---------------------------------------------------------------------------------


def list_all(emu: Emulator, signer: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query = f"compartmentId={COMPARTMENT}&limit=4"
    while True:
        with wire(emu, signer, None, method="GET", path=f"{MODELS}?{query}") as w:
            body = json.loads(w.read_to_eof())
            next_page = w.header("opc-next-page")
        items += body["items"]
        if not next_page:
            return items
        query = f"compartmentId={COMPARTMENT}&limit=4&page={next_page}"


def test_list_models_entries_as_oci_lists_them(emu: Emulator, rp_signer: Any) -> None:
    items = list_all(emu, rp_signer)
    assert len(items) == len({i["id"] for i in items}) == len(catalog.MODELS)
    assert all(i["lifecycleState"] == "ACTIVE" for i in items)
    base = [i for i in items if i["type"] == "BASE"]
    assert all(i["compartmentId"] is None and i["isLongTermSupported"] is None for i in base)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_name.setdefault(item["displayName"], []).append(item)
    varied = [entries for entries in by_name.values() if len({tuple(e["capabilities"]) for e in entries}) > 1]
    assert varied  # one display name, several entries with different capabilities and versions
    assert all(len({e["version"] for e in entries}) == len(entries) for entries in varied)
    now = datetime.now(UTC)
    retired = [
        i
        for i in items
        if i.get("timeOnDemandRetired") and datetime.fromisoformat(i["timeOnDemandRetired"]) < now
    ]
    assert len(retired) >= 2  # still listed ACTIVE after on-demand retirement


# -- 8. zstd, one frame per event ------------------------------------------------------------------


def zstd_frames(raw: bytes) -> list[bytes]:
    """Decompress a body made of complete zstd frames, with a fresh decompressobj per frame."""
    frames = []
    while raw:
        decoder = zstandard.ZstdDecompressor().decompressobj()
        frames.append(decoder.decompress(raw))
        assert decoder.eof, "a frame is incomplete"
        raw = decoder.unused_data
    return frames


def complete_frames(raw: bytes) -> bytes:
    """What the complete zstd frames received so far decode to (a partial last frame left out)."""
    out = b""
    while raw:
        decoder = zstandard.ZstdDecompressor().decompressobj()
        data = decoder.decompress(raw)
        if not decoder.eof:
            break
        out += data
        raw = decoder.unused_data
    return out


@pytest.mark.parametrize(
    ("model", "separator", "last"),
    [(LLAMA, "\n\n", None), (GROK, "\n\n", "usage"), (GEMINI, "\n", "finishReason")],
)
def test_zstd_stream_sends_one_frame_per_event(
    model: str, separator: str, last: str | None, emu: Emulator, rp_signer: Any
) -> None:
    body = streamed(generic(model), usage=True)
    with wire(emu, rp_signer, body) as plain:
        identity = plain.read_to_eof() if last is None else plain.read_until(has(last, separator))
    with wire(emu, rp_signer, body, accept_encoding="gzip, deflate, zstd") as w:
        assert w.header("content-encoding") == "zstd"
        assert w.header("content-type") == "text/event-stream"
        if last is None:
            w.read_to_eof()
        else:
            w.read_until(lambda raw: len(complete_frames(raw)) >= len(identity))
    frames = zstd_frames(w.raw)
    assert all(f.startswith(b"data: ") and f.endswith(separator.encode()) for f in frames)
    assert all(f.count(separator.encode()) == 1 for f in frames)  # exactly one event per frame
    assert b"".join(frames) == identity  # the same bytes, only encoded


def test_zstd_frames_are_flushed_per_event(emu: Emulator, rp_signer: Any) -> None:
    with wire(emu, rp_signer, streamed(generic(GROK)), accept_encoding="zstd", fault="hold=2") as w:
        # Two events reach the client, each a whole frame, while the rest is held server-side.
        w.read_until(lambda raw: len(events(complete_frames(raw))) == 2)
        emu.wait_held(1)
        assert len(zstd_frames(w.raw)) == 2
        emu.release()


def test_zstd_json_answer_is_one_frame_and_identity_without_zstd(emu: Emulator, rp_signer: Any) -> None:
    with wire(emu, rp_signer, generic(LLAMA), accept_encoding="br, zstd;q=0.5") as w:
        assert w.header("content-encoding") == "zstd"
        [frame] = zstd_frames(w.read_to_eof())
        assert int(w.header("content-length") or 0) == len(w.raw)
    assert json.loads(frame)["chatResponse"]["choices"][0]["finishReason"] == "stop"
    for accept in ("gzip, deflate", "zstd;q=0", None):
        with wire(emu, rp_signer, generic(LLAMA), accept_encoding=accept) as w:
            assert w.header("content-encoding") is None
            assert json.loads(w.read_to_eof())["modelId"] == LLAMA
    with wire(emu, rp_signer, generic("meta.llama-0-nano"), accept_encoding="zstd") as w:
        assert w.status == 404
        [frame] = zstd_frames(w.read_to_eof())  # errors too
    assert json.loads(frame)["code"] == "NotAuthorizedOrNotFound"


def test_httpx_cannot_decode_per_event_zstd_frames(emu: Emulator, rp_signer: Any) -> None:
    # What real OCI does to an httpx client once zstandard is installed (httpx then offers zstd):
    # the decoder meets a second frame after a finished one and fails.
    body = json.dumps(streamed(generic(LLAMA))).encode()
    headers = {**sign_request(rp_signer, "POST", emu.url + CHAT, body), "x-emulator-fault": "token-delay=20"}
    with httpx.stream("POST", emu.url + CHAT, content=body, headers=headers, timeout=30) as response:
        assert "zstd" in response.request.headers["accept-encoding"]
        with pytest.raises(httpx.DecodingError, match="decompressobj"):
            response.read()


# -- 9. A model that rejects streamOptions ---------------------------------------------------------


def test_the_fine_tuned_endpoint_rejects_stream_options(emu: Emulator, rp_signer: Any) -> None:
    dedicated = {"servingType": "DEDICATED", "endpointId": catalog.CUSTOM_ENDPOINT_ID}
    body = generic("", serving=dedicated)
    status, error = call(emu, rp_signer, streamed(body, usage=True))
    assert status == 400
    assert error == {
        "code": "400",
        "message": "Invalid parameter 'streamOptions': not supported for this model.",
    }
    with wire(emu, rp_signer, streamed(body)) as w:
        assert w.status == 200
        assert w.read_to_eof().endswith(b"data: [DONE]\n\n")  # a fine-tuned Llama: Llama's framing
    with wire(emu, rp_signer, streamed(generic(LLAMA), usage=True)) as w:
        assert w.status == 200


# -- 10. embedText ---------------------------------------------------------------------------------


def test_embed_text_result_follows_the_sdk_model(emu: Emulator, rp_signer: Any) -> None:
    body = {
        "compartmentId": COMPARTMENT,
        "servingMode": {"servingType": "ON_DEMAND", "modelId": "cohere.embed-v4.0"},
        "inputs": ["first text here", "second"],
    }
    status, result = call(emu, rp_signer, body, path=EMBED)
    assert status == 200
    assert list(result) == ["id", "embeddings", "modelId", "modelVersion", "usage"]
    assert set(result) <= set(m.EmbedTextResult().attribute_map.values())
    assert result["modelId"] == "cohere.embed-v4.0"
    assert result["modelVersion"]
    assert result["usage"] == {"promptTokens": 4, "totalTokens": 4}
    assert len(result["embeddings"]) == 2
    echoed = call(emu, rp_signer, {**body, "isEcho": True}, path=EMBED)[1]
    assert echoed["inputs"] == body["inputs"]


# -- The oci SDK still reads every answer -----------------------------------------------------------


def sdk_generic(model: str, **options: Any) -> m.ChatDetails:
    return m.ChatDetails(
        compartment_id=COMPARTMENT,
        serving_mode=m.OnDemandServingMode(model_id=model),
        chat_request=m.GenericChatRequest(
            messages=[
                m.SystemMessage(content=[m.TextContent(text="Answer briefly")]),
                m.UserMessage(content=[m.TextContent(text="Describe Vienna")]),
            ],
            **options,
        ),
    )


def test_the_sdk_deserializes_every_vendor_answer(emu: Emulator, rp_signer: Any) -> None:
    client = inference_client(emu, rp_signer)
    for model in (LLAMA, GROK, GROK_MINI, GPT_OSS, GPT5, GEMINI):
        chat = client.chat(sdk_generic(model)).data.chat_response
        [choice] = chat.choices
        assert choice.finish_reason == "stop"
        assert choice.message.content[0].text
        usage = chat.usage
        reasoning = usage.completion_tokens_details.reasoning_tokens if usage.completion_tokens_details else 0
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens + reasoning
        assert (reasoning > 0) == (model != LLAMA)
        assert (choice.message.reasoning_content is not None) == model.startswith("xai.")

    exhausted = client.chat(sdk_generic(GEMINI, max_tokens=8)).data.chat_response
    assert exhausted.choices[0].message is None
    assert exhausted.choices[0].finish_reason == "max_tokens"
    assert exhausted.usage.completion_tokens is None
    assert exhausted.usage.completion_tokens_details.reasoning_tokens == 8

    tools = [m.FunctionDefinition(name="get_weather", parameters=WEATHER["parameters"])]
    gemini_call = client.chat(
        m.ChatDetails(
            compartment_id=COMPARTMENT,
            serving_mode=m.OnDemandServingMode(model_id=GEMINI),
            chat_request=m.GenericChatRequest(
                messages=[m.UserMessage(content=[m.TextContent(text="Use get_weather for Rome")])],
                tools=tools,
            ),
        )
    ).data.chat_response.choices[0]
    assert gemini_call.message.tool_calls[0].id is None
    assert gemini_call.message.tool_calls[0].name == "get_weather"

    cohere_chat = client.chat(
        m.ChatDetails(
            compartment_id=COMPARTMENT,
            serving_mode=m.OnDemandServingMode(model_id=COMMAND_A),
            chat_request=m.CohereChatRequest(message="Hello"),
        )
    ).data.chat_response
    counts = cohere_chat.usage
    assert counts.total_tokens == counts.prompt_tokens + counts.completion_tokens

    with pytest.raises(oci.exceptions.ServiceError) as raised:
        client.chat(sdk_generic(GPT5, temperature=0.5))
    assert raised.value.status == 400
    assert raised.value.code == "400"
    assert json.loads(raised.value.message)["error"]["param"] == "temperature"


def test_the_sdk_lists_every_model(emu: Emulator, rp_signer: Any) -> None:
    client = management_client(emu, rp_signer)
    items = oci.pagination.list_call_get_all_results(client.list_models, COMPARTMENT, limit=4).data
    assert len(items) == len(catalog.MODELS)
    assert all(i.is_long_term_supported is None for i in items if i.type == "BASE")
    gpt5 = [i for i in items if i.display_name == GPT5]
    assert [i.capabilities for i in gpt5] == [["CHAT"]]
