"""Issue 21's matrix, shared by its two tiers (tests/unit/test_family_matrix.py over the scripted OCI,
tests/e2e/test_family_matrix.py over the emulator): the families, and each API's requests and answers
in that API's own words."""

from __future__ import annotations

from typing import Any

FAMILIES = {
    "meta": "meta.llama-4-maverick-17b-128e-instruct-fp8",
    "xai": "xai.grok-4",
    "google": "google.gemini-2.5-flash",
    "openai": "openai.gpt-oss-120b",
    "cohere-v1": "cohere.command-r-08-2024",
    "cohere-v2": "cohere.command-a-03-2025",
}
NO_TOOL_CHOICE = {"cohere-v1"}  # COHERE v1 has no tool choice: required or a named tool is a 400
APIS = ["chat", "responses", "messages"]
PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses", "messages": "/v1/messages"}
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
NAMES = ("get_weather", "get_time")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
IMAGE_URL = f"data:image/png;base64,{PNG}"


def body(api: str, model: str, prompt: str, image: bool = False, **extra: Any) -> dict[str, Any]:
    """A request of `api` with one user turn (text, and an image if asked)."""
    if api == "chat":
        parts: Any = [
            {"type": "text", "text": prompt},
            {"type": "image_url", "image_url": {"url": IMAGE_URL}},
        ]
        return {
            "model": model,
            "messages": [{"role": "user", "content": parts if image else prompt}],
            **extra,
        }
    if api == "responses":
        content: Any = [
            {"type": "input_text", "text": prompt},
            {"type": "input_image", "image_url": IMAGE_URL},
        ]
        return {"model": model, "input": [{"role": "user", "content": content if image else prompt}], **extra}
    source = {"type": "base64", "media_type": "image/png", "data": PNG}
    blocks: Any = [{"type": "text", "text": prompt}, {"type": "image", "source": source}]
    turn = {"role": "user", "content": blocks if image else prompt}
    return {"model": model, "max_tokens": 1000, "messages": [turn], **extra}


def tools(api: str) -> list[dict[str, Any]]:
    """get_weather and get_time, as `api` declares function tools."""
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


def mode(api: str, which: str) -> Any:
    """Tool choice `which` (auto, none, required, named: get_time) in the API's words."""
    if which in ("required", "named"):
        return choice(api, "get_time" if which == "named" else None)
    return {"type": which} if api == "messages" else which


def structured(api: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The fields asking `api` for JSON following `schema`."""
    fields: dict[str, dict[str, Any]] = {
        "chat": {
            "response_format": {"type": "json_schema", "json_schema": {"name": "City", "schema": schema}}
        },
        "responses": {"text": {"format": {"type": "json_schema", "name": "City", "schema": schema}}},
        "messages": {"output_config": {"format": {"type": "json_schema", "schema": schema}}},
    }
    return fields[api]


def reasoning_options(api: str) -> dict[str, Any]:
    """Low reasoning effort, with its text asked for, in the API's words."""
    if api == "chat":
        return {"reasoning_effort": "low"}
    if api == "responses":
        return {"reasoning": {"effort": "low", "summary": "auto"}}
    return {"thinking": {"type": "enabled", "budget_tokens": 1024}}


def calls(api: str, answer: dict[str, Any]) -> list[str]:
    """The names of the tools an answer calls."""
    if api == "chat":
        return [c["function"]["name"] for c in answer["choices"][0]["message"].get("tool_calls") or []]
    if api == "responses":
        return [o["name"] for o in answer["output"] if o["type"] == "function_call"]
    return [b["name"] for b in answer["content"] if b["type"] == "tool_use"]


def text(api: str, answer: dict[str, Any]) -> str:
    """An answer's text."""
    if api == "chat":
        return str(answer["choices"][0]["message"]["content"] or "")
    if api == "responses":
        return "".join(p["text"] for o in answer["output"] if o["type"] == "message" for p in o["content"])
    return "".join(b["text"] for b in answer["content"] if b["type"] == "text")


def reasoning(api: str, answer: dict[str, Any]) -> str:
    """An answer's reasoning text."""
    if api == "chat":
        return str(answer["choices"][0]["message"].get("reasoning_content") or "")
    if api == "responses":
        items = [o for o in answer["output"] if o["type"] == "reasoning"]
        return "".join(s["text"] for o in items for s in o.get("summary") or [])
    return "".join(b["thinking"] for b in answer["content"] if b["type"] == "thinking")


def streamed_text(api: str, events: list[dict[str, Any]]) -> str:
    """The text a stream's events carry."""
    if api == "chat":
        return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices"))
    if api == "responses":
        return "".join(e["delta"] for e in events if e.get("type") == "response.output_text.delta")
    return "".join(
        e["delta"]["text"]
        for e in events
        if e.get("type") == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


def streamed_reasoning(api: str, events: list[dict[str, Any]]) -> str:
    """The reasoning text a stream's events carry."""
    if api == "chat":
        return "".join(
            e["choices"][0]["delta"].get("reasoning_content") or "" for e in events if e.get("choices")
        )
    if api == "responses":
        return "".join(e["delta"] for e in events if e.get("type") == "response.reasoning_summary_text.delta")
    return "".join(
        e["delta"]["thinking"]
        for e in events
        if e.get("type") == "content_block_delta" and e["delta"]["type"] == "thinking_delta"
    )


def streamed_calls(api: str, events: list[dict[str, Any]]) -> list[str]:
    """The names of the tools a stream's events call."""
    if api == "chat":
        return [
            c["function"]["name"]
            for e in events
            if e.get("choices")
            for c in e["choices"][0]["delta"].get("tool_calls") or []
            if c.get("function", {}).get("name")
        ]
    if api == "responses":
        return [
            e["item"]["name"]
            for e in events
            if e.get("type") == "response.output_item.done" and e["item"]["type"] == "function_call"
        ]
    return [
        e["content_block"]["name"]
        for e in events
        if e.get("type") == "content_block_start" and e["content_block"]["type"] == "tool_use"
    ]
