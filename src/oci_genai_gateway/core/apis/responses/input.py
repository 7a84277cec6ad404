"""A Responses request's `input` (a string or items) as chat messages, validated as it is translated.

Messages keep their roles (`developer` is the system prompt), consecutive `function_call` items join
the assistant turn before them, and each `function_call_output` must follow its call in the same
`input`: the gateway is stateless, so there is nothing else to find the call in.
"""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest

_MESSAGE_ROLES = frozenset({"user", "system", "developer", "assistant"})


def chat_messages(raw: Any) -> list[dict[str, Any]]:
    """The chat messages of `input`: a string, or items validated and translated in one pass."""
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest(
            "Invalid 'input': expected a string or a non-empty array of items.", param="input"
        )
    messages: list[dict[str, Any]] = []
    calls: set[str] = set()
    for i, item in enumerate(raw):
        _item(f"input[{i}]", item, messages, calls)
    for message in messages:
        message.pop("_open", None)  # marks the assistant turn that later calls may still join
    if not messages:
        raise InvalidRequest("'input' holds no message the model can read.", param="input")
    return messages


def _item(where: str, item: Any, messages: list[dict[str, Any]], calls: set[str]) -> None:
    """Append `item`'s chat message(s); function calls join the assistant turn they belong to."""
    if not isinstance(item, dict):
        raise InvalidRequest(f"Invalid '{where}': expected an object.", param=where)
    kind = item.get("type", "message")
    if kind == "message":
        messages.append(_message(where, item))
    elif kind == "function_call":
        call_id, name, arguments = (item.get(k) for k in ("call_id", "name", "arguments"))
        if not all(isinstance(v, str) and v for v in (call_id, name)) or not isinstance(arguments, str):
            raise InvalidRequest(f"'{where}' needs 'call_id', 'name' and 'arguments' strings.", param=where)
        calls.add(str(call_id))
        call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant" and last.get("_open"):
            last.setdefault("tool_calls", []).append(call)
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call], "_open": True})
    elif kind == "function_call_output":
        call_id = item.get("call_id")
        if not isinstance(call_id, str) or call_id not in calls:
            raise InvalidRequest(
                f"No function_call item before '{where}' has call_id {call_id!r}; this gateway is "
                "stateless, so send the call with its output.",
                param=f"{where}.call_id",
            )
        messages.append(
            {"role": "tool", "tool_call_id": call_id, "content": _output(where, item.get("output"))}
        )
    elif kind == "reasoning":
        return  # OCI cannot replay reasoning; the turn's text and calls carry on without it
    else:
        why = (
            # The Vercel AI SDK references earlier output by id unless told the server keeps none.
            "this gateway stores no items, so send the item itself (clients that refer to earlier "
            "output by id do so when told 'store: false', as the AI SDK's providerOptions.openai.store)"
            if kind == "item_reference"
            else "it is not available on OCI"
        )
        raise InvalidRequest(
            f"Unsupported input item type {kind!r} in '{where}': {why}.", param=f"{where}.type"
        )
    for message in messages[:-1]:
        message.pop("_open", None)  # only the newest assistant turn takes further calls


def _message(where: str, item: dict[str, Any]) -> dict[str, Any]:
    role = item.get("role")
    if not isinstance(role, str) or role not in _MESSAGE_ROLES:
        raise InvalidRequest(
            f"Invalid '{where}.role': expected one of {sorted(_MESSAGE_ROLES)}.", param=f"{where}.role"
        )
    content = item.get("content")
    if isinstance(content, str):
        parts: list[dict[str, Any]] = [{"type": "text", "text": content}]
    elif isinstance(content, list):
        parts = [_part(f"{where}.content[{j}]", p, role) for j, p in enumerate(content)]
    else:
        raise InvalidRequest(
            f"Invalid '{where}.content': expected a string or an array of parts.", param=f"{where}.content"
        )
    if role == "user" and any(p["type"] == "image_url" for p in parts):
        return {"role": "user", "content": parts}
    text = "".join(p["text"] for p in parts)
    if role == "assistant":
        return {"role": "assistant", "content": text, "_open": True}
    return {"role": "system" if role == "developer" else role, "content": text}


def _part(where: str, part: Any, role: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in ("input_text", "output_text") and isinstance(part.get("text"), str):
        return {"type": "text", "text": part["text"]}
    if kind == "refusal" and role == "assistant" and isinstance(part.get("refusal"), str):
        return {"type": "text", "text": part["refusal"]}
    if kind == "input_image" and role == "user":
        url = part.get("image_url")
        if not isinstance(url, str):
            raise InvalidRequest(
                f"Invalid '{where}': send the image as 'image_url' (a data URL or https:// URL); "
                "uploaded files ('file_id') are not available.",
                param=f"{where}.image_url",
            )
        return {"type": "image_url", "image_url": {"url": url}}
    raise InvalidRequest(f"Unsupported content part {kind!r} in '{where}'.", param=f"{where}.type")


def _output(where: str, output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, list) and all(
        isinstance(p, dict)
        and p.get("type") in ("input_text", "output_text")
        and isinstance(p.get("text"), str)
        for p in output
    ):
        return "".join(p["text"] for p in output)
    raise InvalidRequest(
        f"Invalid '{where}.output': expected a string or text parts (OCI tool results are text).",
        param=f"{where}.output",
    )
