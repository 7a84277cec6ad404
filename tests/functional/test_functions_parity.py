"""Parity: the same requests through the ASGI server and through the functions give the same answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.functions import PREFIX, Functions, function_for, gateway_call
from tests.fixtures.gateway import KEY, GatewayProcess

LLAMA = "meta.llama-3.3-70b-instruct"
COHERE = "cohere.command-r-08-2024"
HELLO = [{"role": "user", "content": "Parity please"}]
OCI_CHAT = "/20231130/actions/chat"


@dataclass(frozen=True)
class Scenario:
    """One request, and the emulator fault (if any) queued before each side sends it."""

    name: str
    method: str
    path: str
    body: Any = None
    fault: str | None = None
    # A stream that fails after it began: the ASGI server has sent bytes, so the error is its last
    # event; a function buffers the body, so it answers with the error's own status instead.
    failed_stream_status: int | None = None

    def content(self) -> bytes:
        """The request body bytes (a str body is sent verbatim, to allow broken JSON)."""
        if self.body is None:
            return b""
        return self.body.encode() if isinstance(self.body, str) else json.dumps(self.body).encode()


SCENARIOS = [
    Scenario("chat", "POST", "/v1/chat/completions", {"model": LLAMA, "messages": HELLO}),
    Scenario("chat cohere", "POST", "/v1/chat/completions", {"model": COHERE, "messages": HELLO}),
    Scenario("chat alias", "POST", "/v1/chat/completions", {"model": "fast", "messages": HELLO}),
    Scenario("chat dedicated", "POST", "/v1/chat/completions", {"model": "tuned", "messages": HELLO}),
    Scenario(
        "chat params",
        "POST",
        "/v1/chat/completions",
        {"model": LLAMA, "messages": HELLO, "max_tokens": 3, "temperature": 0.2, "n": 2},
    ),
    Scenario(
        "stream with usage",
        "POST",
        "/v1/chat/completions",
        {"model": LLAMA, "messages": HELLO, "stream": True, "stream_options": {"include_usage": True}},
    ),
    Scenario(
        "stream cohere", "POST", "/v1/chat/completions", {"model": COHERE, "messages": HELLO, "stream": True}
    ),
    Scenario(
        "stream cut",
        "POST",
        "/v1/chat/completions",
        {"model": LLAMA, "messages": HELLO, "stream": True},
        "cut=2",
        failed_stream_status=502,
    ),
    Scenario(
        "embeddings", "POST", "/v1/embeddings", {"model": "cohere.embed-english-v3.0", "input": ["a", "b"]}
    ),
    Scenario(
        "embeddings base64",
        "POST",
        "/v1/embeddings",
        {"model": "cohere.embed-v4.0", "input": "a", "dimensions": 256, "encoding_format": "base64"},
    ),
    Scenario("models", "GET", "/v1/models"),
    Scenario("model", "GET", "/v1/models/xai.grok-4"),
    Scenario("alias model", "GET", "/v1/models/tuned"),
    Scenario("unknown model id", "GET", "/v1/models/nope"),
    Scenario("bad json", "POST", "/v1/chat/completions", "{not json"),
    Scenario("empty body", "POST", "/v1/embeddings", ""),
    Scenario("missing model", "POST", "/v1/chat/completions", {"messages": HELLO}),
    Scenario(
        "unknown parameter", "POST", "/v1/chat/completions", {"model": LLAMA, "messages": HELLO, "x": 1}
    ),
    Scenario("unknown model", "POST", "/v1/chat/completions", {"model": "meta.nope", "messages": HELLO}),
    Scenario("wrong method", "GET", "/v1/chat/completions"),
    Scenario(
        "upstream 429",
        "POST",
        "/v1/chat/completions",
        {"model": LLAMA, "messages": HELLO},
        "status=429,retry-after=5",
    ),
    Scenario(
        "upstream 500", "POST", "/v1/chat/completions", {"model": LLAMA, "messages": HELLO}, "status=500"
    ),
    Scenario(
        "embed 503", "POST", "/v1/embeddings", {"model": "cohere.embed-v4.0", "input": "a"}, "status=503"
    ),
    Scenario(
        "oci 401 once", "POST", "/v1/chat/completions", {"model": LLAMA, "messages": HELLO}, "status=401"
    ),
    Scenario("too large", "POST", "/v1/embeddings", {"model": "cohere.embed-v4.0", "input": "z" * (6 << 20)}),
]


@dataclass(frozen=True)
class Answer:
    """What a client can compare: status, the headers that matter, the body without ids and times."""

    status: int
    content_type: str
    retry_after: str | None
    body: Any


def normalized(content_type: str, raw: bytes) -> Any:
    """JSON or SSE events, with completion ids and timestamps removed (they differ on every call)."""
    if content_type.startswith("text/event-stream"):
        blocks = raw.decode().split("\n\n")
        return [_strip(json.loads(b[6:])) if b != "data: [DONE]" else "[DONE]" for b in blocks if b]
    return _strip(json.loads(raw))


def _strip(body: Any) -> Any:
    if isinstance(body, dict) and str(body.get("object", "")).startswith("chat.completion"):
        return {k: v for k, v in body.items() if k not in ("id", "created")}
    return body


def through_asgi(gateway: GatewayProcess, scenario: Scenario) -> Answer:
    """Send the scenario to the ASGI server with a valid key."""
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    response = httpx.request(
        scenario.method,
        f"{gateway.url}{scenario.path}",
        content=scenario.content(),
        headers=headers,
        timeout=60,
    )
    content_type = response.headers["content-type"].split(";")[0]
    body = normalized(content_type, response.content)
    return Answer(response.status_code, content_type, response.headers.get("retry-after"), body)


def through_functions(functions: Functions, scenario: Scenario) -> Answer:
    """Send the scenario to its route's function in the API Gateway form."""
    name = function_for(scenario.path)
    assert name is not None
    reply = gateway_call(functions[name], scenario.method, PREFIX + scenario.path, scenario.content())
    content_type = reply.headers["content-type"].split(";")[0]
    return Answer(
        reply.status, content_type, reply.headers.get("retry-after"), normalized(content_type, reply.body)
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_same_answer_from_both_adapters(
    scenario: Scenario, gateway: GatewayProcess, functions: Functions, emu: Emulator
) -> None:
    if scenario.fault:
        emu.inject_fault(scenario.fault, path=_oci_path(scenario.path))
    asgi = through_asgi(gateway, scenario)
    if scenario.fault:
        emu.inject_fault(scenario.fault, path=_oci_path(scenario.path))
    fn = through_functions(functions, scenario)
    assert asgi.status != 500, "a scenario that breaks the gateway proves nothing"
    if scenario.failed_stream_status is None:
        assert fn == asgi
        return
    assert (asgi.status, asgi.body[-1]) == (200, "[DONE]")
    assert (fn.status, fn.content_type) == (scenario.failed_stream_status, "application/json")
    assert fn.body == asgi.body[-2], "the same error, as a status instead of a last event"


def _oci_path(path: str) -> str:
    return "/20231130/actions/embedText" if path == "/v1/embeddings" else OCI_CHAT
