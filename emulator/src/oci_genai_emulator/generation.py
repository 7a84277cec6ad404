"""Deterministic "model output": reply text, tool-call arguments and JSON built from schemas."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Finish = Literal["stop", "length"]
_WORD = re.compile(r"\s*\S+")
_CAPITALIZED = re.compile(r"\b[A-Z][\w-]*")
_ARGUMENT_TOKEN = re.compile(r"\s+|\w+|[^\w\s]+")
_MAX_DEPTH = 8
_QUOTED = re.compile(r"(?:^|\s)'([^'\s][^']*)'(?=$|[\s.,;:!?)])")  # a quoted name, not apostrophes


@dataclass(frozen=True)
class Tool:
    """A tool offered to the model, with its parameters as a JSON schema."""

    name: str
    schema: Mapping[str, Any]


def digest(*parts: str) -> str:
    """A short stable hex digest of the inputs."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def split_tokens(text: str) -> list[str]:
    """Split text into word tokens whose concatenation is the text (leading whitespace kept)."""
    return _WORD.findall(text)


def count_tokens(text: str) -> int:
    """The emulator's token count: whitespace-separated words."""
    return len(text.split())


def subject(text: str) -> str:
    """The word a reply is "about": the last capitalised word of the prompt, else its last word."""
    words = _CAPITALIZED.findall(text)[1:] or text.split()
    word = words[-1].strip(".,;:!?\"'()[]{}") if words else ""
    return word or "example"


def _excerpt(text: str, words: int) -> str:
    parts = text.split()
    more = "..." if len(parts) > words else ""
    return " ".join(parts[:words]) + more


def reply_text(model: str, prompt: str, *, images: int = 0, choice: int = 0) -> str:
    """The answer to a plain prompt: names the model, echoes the prompt and a digest of it."""
    lead = f"Answer {choice + 1}: " if choice else ""
    seen = f" I see {images} image{'s' if images != 1 else ''}." if images else ""
    said = f'You said: "{_excerpt(prompt, 16)}"' if prompt.strip() else "You said nothing"
    return f"{lead}Hello from {model}.{seen} {said} (digest {digest(model, prompt)[:8]})."


def tool_result_text(model: str, tool_name: str, result: str, *, choice: int = 0) -> str:
    """The answer after a tool ran: refers to the tool and quotes its result."""
    lead = f"Answer {choice + 1}: " if choice else ""
    return f'{lead}Based on the {tool_name} result, {model} reports: "{_excerpt(result, 24)}".'


def json_object_text(model: str, prompt: str) -> str:
    """A JSON object answer for responseFormat JSON_OBJECT."""
    return json.dumps({"model": model, "reply": _excerpt(prompt, 16), "digest": digest(model, prompt)[:8]})


def json_schema_text(schema: Mapping[str, Any], prompt: str) -> str:
    """A JSON answer valid against `schema` (responseFormat JSON_SCHEMA)."""
    return json.dumps(instance(schema, subject(prompt)))


def apply_limits(text: str, max_tokens: int | None, stops: Sequence[str]) -> tuple[str, Finish]:
    """Cut at the first stop sequence, then at max_tokens; returns the text and why it ended."""
    cuts = [text.find(s) for s in stops if s and s in text]
    if cuts:
        text = text[: min(cuts)].rstrip()
    tokens = split_tokens(text)
    if max_tokens is not None and len(tokens) > max_tokens:
        return "".join(tokens[:max_tokens]), "length"
    return text, "stop"


def choose_tools(
    tools: Sequence[Tool], prompt: str, mode: str, forced: str | None, *, parallel: bool = True
) -> list[Tool]:
    """The tools the "model" calls: forced ones, else those the prompt names (REQUIRED: at least one)."""
    if not tools or mode == "NONE":
        return []
    if mode == "FUNCTION":
        return [t for t in tools if t.name == forced][:1]
    lowered = prompt.lower()
    named = [t for t in tools if t.name.lower() in lowered or t.name.lower().replace("_", " ") in lowered]
    if mode == "REQUIRED" and not named:
        named = list(tools[:1])
    return named if parallel else named[:1]


def tool_arguments(tool: Tool, prompt: str) -> dict[str, Any]:
    """Arguments valid against the tool's parameter schema, filled from the prompt.

    A prompt that writes the call out (`magic_function(3)`, as LangChain's standard tests ask) gets
    those literal arguments, in the order of the schema's properties, where each fits its type; a
    prompt that quotes a name (`a customer named '你好啊集团'`) has string arguments filled with it.
    """
    quoted = _QUOTED.search(prompt)
    value = instance(tool.schema, quoted[1] if quoted else subject(prompt))
    if not isinstance(value, dict):
        return {}
    written = _written_call(tool.name, prompt)
    properties: Mapping[str, Any] = tool.schema.get("properties") or {}
    for (name, spec), literal in zip(properties.items(), written, strict=False):
        if _fits(literal, spec):
            value[name] = literal
    return value


def _written_call(name: str, prompt: str) -> tuple[Any, ...]:
    match = re.search(rf"\b{re.escape(name)}\(([^()]*)\)", prompt)
    if match is None:
        return ()
    try:
        literal = ast.literal_eval(f"({match[1]},)") if match[1].strip() else ()
    except (ValueError, SyntaxError):
        return ()
    return literal if isinstance(literal, tuple) else ()


def _fits(literal: Any, spec: Any) -> bool:
    kind = spec.get("type") if isinstance(spec, Mapping) else None
    if kind == "integer":
        return isinstance(literal, int) and not isinstance(literal, bool)
    if kind == "number":
        return isinstance(literal, int | float) and not isinstance(literal, bool)
    if kind == "string":
        return isinstance(literal, str)
    return False


def tool_call_id(style: str, *parts: str) -> str | None:
    """A tool-call id in the style of the vendor's serving stack (None: the vendor sends no id).

    vLLM (Meta Llama): `chatcmpl-tool-<hex>`; xAI: `call_` + 8 digits; OpenAI: `call_<uuid>`.
    """
    h = digest(*parts)
    if style == "vllm":
        return f"chatcmpl-tool-{h[:16]}"
    if style == "xai":
        return f"call_{int(h[:12], 16) % 10**8:08d}"
    if style == "openai":
        return f"call_{uuid.UUID(h[:32])}"
    return None


def argument_tokens(arguments: str) -> list[str]:
    """Token-sized pieces of a JSON arguments string (how OpenAI models stream them)."""
    return _ARGUMENT_TOKEN.findall(arguments)


def argument_fields(arguments: Mapping[str, Any]) -> list[str]:
    """Arguments JSON in the pieces vLLM streams for Llama: each key up to its value, then the value.

    `{"arg1": "778", "arg0": "556"}` streams as `{"arg1": "`, `778"`, `, "arg0": "`, `556"}`
    (as recorded in langchain4j-community GenericStreamingTest.java, see vendors.py).
    """
    if not arguments:
        return ["{}"]
    pieces: list[str] = []
    items = list(arguments.items())
    for i, (key, value) in enumerate(items):
        opener = "{" if i == 0 else ", "
        encoded = json.dumps(value)
        quote = '"' if isinstance(value, str) else ""
        pieces.append(f"{opener}{json.dumps(key)}: {quote}")
        pieces.append(encoded[len(quote) :] + ("}" if i == len(items) - 1 else ""))
    return pieces


def reasoning_tokens(model: str, prompt: str, choice: int = 0) -> int:
    """How many tokens a reasoning model "thought": 64-511, fixed by model and prompt."""
    return 64 + int(digest("reasoning", model, prompt, str(choice))[:4], 16) % 448


def reasoning_text(model: str, prompt: str) -> str:
    """The reasoning summary a model returns as reasoningContent."""
    said = f'"{_excerpt(prompt, 8)}"' if prompt.strip() else "nothing"
    return f"The user said {said}. As {model} I should greet them and repeat it."


def instance(
    schema: Mapping[str, Any], word: str, root: Mapping[str, Any] | None = None, depth: int = 0
) -> Any:
    """A minimal deterministic JSON value valid against a (practical subset of) JSON Schema."""
    root = schema if root is None else root
    if depth > _MAX_DEPTH:
        return None
    schema = _resolve(schema, root)
    for key in ("const",):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            branches = [b for b in schema[key] if _resolve(b, root).get("type") != "null"] or schema[key]
            return instance(branches[0], word, root, depth + 1)
    if schema.get("allOf"):
        return _all_of(schema["allOf"], word, root, depth)
    kind = _type_of(schema)
    if kind == "object":
        props: Mapping[str, Any] = schema.get("properties") or {}
        return {name: instance(sub, word, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 0)
        count = min(count, int(schema.get("maxItems", count)))
        items = schema.get("items")
        return (
            [instance(items, word, root, depth + 1) for _ in range(count)] if isinstance(items, dict) else []
        )
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, word)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _all_of(parts: Sequence[Mapping[str, Any]], word: str, root: Mapping[str, Any], depth: int) -> Any:
    values = [instance(p, word, root, depth + 1) for p in parts]
    if all(isinstance(v, dict) for v in values):
        merged: dict[str, Any] = {}
        for v in values:
            merged.update(v)
        return merged
    return values[0] if values else None


def _type_of(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    return "array" if "items" in schema else "string"


def _number(schema: Mapping[str, Any], kind: str) -> int | float:
    value: float = 1
    if "minimum" in schema:
        value = schema["minimum"]
    elif "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
        value = schema["exclusiveMinimum"] + 1
    if "maximum" in schema and value > schema["maximum"]:
        value = schema["maximum"]
    return int(value) if kind == "integer" else float(value)


_FORMATS = {
    "date": "2025-01-01",
    "date-time": "2025-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}


def _string(schema: Mapping[str, Any], word: str) -> str:
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(uuid.UUID(digest(word)[:32]))
    text = _FORMATS.get(fmt, word) if isinstance(fmt, str) else word
    text = text.ljust(int(schema.get("minLength", 0)), "x")
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text
