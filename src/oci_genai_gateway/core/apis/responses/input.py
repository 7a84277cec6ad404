"""A Responses request's `input` (a string or items) as chat messages, validated as it is translated.

Messages keep their roles (`developer` is the system prompt), consecutive `function_call` and
`custom_tool_call` items join the assistant turn before them under the function name the model saw
(core/apis/responses/tools.py), and each output item must follow its call in the same `input`: the
gateway is stateless, so there is nothing else to find the call in. A `reasoning` item's text goes
with the assistant turn after it (or the open one it follows) as that turn's `reasoning_content`,
which core/chat/body.py hands to OCI (core/apis/responses/reasoning.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.apis.responses import reasoning
from oci_genai_gateway.core.apis.responses.tools import CUSTOM_ARGUMENT, ToolTable
from oci_genai_gateway.core.errors import InvalidRequest

_MESSAGE_ROLES = frozenset({"user", "system", "developer", "assistant"})
_CALLS = ("function_call", "custom_tool_call")
_OUTPUTS = ("function_call_output", "custom_tool_call_output")


@dataclass
class _Conversation:
    """The chat messages so far, the call ids they hold, and tool-result images not yet placed."""

    tools: ToolTable
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)
    images: list[dict[str, Any]] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)  # reasoning items' text, for the next assistant turn

    def assistant(self, message: dict[str, Any]) -> dict[str, Any]:
        """`message` (a new assistant turn) with the reasoning before it."""
        if self.reasoning:
            message["reasoning_content"] = "\n\n".join(self.reasoning)
            self.reasoning = []
        return message

    def flush_images(self) -> None:
        """Put the images tools returned in a user turn after the run of tool results."""
        # OCI's tool messages carry text only; a user turn between two results would split the run.
        if self.images:
            note = {"type": "text", "text": "The images the tools above returned:"}
            self.messages.append({"role": "user", "content": [note, *self.images]})
            self.images = []


def chat_messages(raw: Any, tools: ToolTable) -> list[dict[str, Any]]:
    """The chat messages of `input`: a string, or items validated and translated in one pass."""
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest(
            "Invalid 'input': expected a string or a non-empty array of items.", param="input"
        )
    conversation = _Conversation(tools)
    for i, item in enumerate(raw):
        _item(f"input[{i}]", item, conversation)
    conversation.flush_images()
    for message in conversation.messages:
        message.pop("_open", None)  # marks the assistant turn that later calls may still join
    if not conversation.messages:
        raise InvalidRequest("'input' holds no message the model can read.", param="input")
    return conversation.messages


def current_turn_reasoning(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` with the reasoning of assistant turns before the last user message left out."""
    # OpenAI's `reasoning.context`: `current_turn` renders only this turn's reasoning items back to
    # the model (its default for all but its newest models, and here for `auto` and none);
    # `all_turns` keeps every one. A tool loop's reasoning is the current turn's.
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    return [
        {k: v for k, v in m.items() if k != "reasoning_content"} if i < last_user else m
        for i, m in enumerate(messages)
    ]


def _item(where: str, item: Any, conversation: _Conversation) -> None:
    """Append `item`'s chat message(s); calls join the assistant turn they belong to."""
    if not isinstance(item, dict):
        raise InvalidRequest(f"Invalid '{where}': expected an object.", param=where)
    kind = item.get("type", "message")
    messages = conversation.messages
    if kind not in _OUTPUTS:
        conversation.flush_images()
    if kind == "message":
        message = _message(where, item)
        if message["role"] != "assistant":
            conversation.reasoning = []  # reasoning no assistant turn followed belongs to none
        messages.append(conversation.assistant(message) if message["role"] == "assistant" else message)
    elif kind in _CALLS:
        call = _call(where, item, conversation.tools)
        conversation.calls.add(call["id"])
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant" and last.get("_open"):
            last.setdefault("tool_calls", []).append(call)
        else:
            turn = {"role": "assistant", "content": None, "tool_calls": [call], "_open": True}
            messages.append(conversation.assistant(turn))
    elif kind in _OUTPUTS:
        call_id = item.get("call_id")
        if not isinstance(call_id, str) or call_id not in conversation.calls:
            raise InvalidRequest(
                f"No call item before '{where}' has call_id {call_id!r}; this gateway is stateless, "
                "so send the call with its output.",
                param=f"{where}.call_id",
            )
        text, images = _output(where, item.get("output"))
        messages.append({"role": "tool", "tool_call_id": call_id, "content": text})
        conversation.images += images
    elif kind == "reasoning":
        thought = reasoning.input_text(where, item)
        last = messages[-1] if messages else None
        if thought and last is not None and last["role"] == "assistant" and last.get("_open"):
            # After the turn's text, before its calls (some clients order them so): the same turn's.
            last["reasoning_content"] = "\n\n".join(filter(None, (last.get("reasoning_content"), thought)))
        elif thought:
            conversation.reasoning.append(thought)
        return
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


def _call(where: str, item: dict[str, Any], tools: ToolTable) -> dict[str, Any]:
    """A function_call or custom_tool_call item as a chat tool call of the function the model saw."""
    call_id, name, namespace = (item.get(k) for k in ("call_id", "name", "namespace"))
    custom = item.get("type") == "custom_tool_call"
    payload = item.get("input" if custom else "arguments")
    if not all(isinstance(v, str) and v for v in (call_id, name)) or not isinstance(payload, str):
        needs = "'call_id', 'name' and 'input'" if custom else "'call_id', 'name' and 'arguments'"
        raise InvalidRequest(f"'{where}' needs {needs} strings.", param=where)
    if namespace is not None and (not isinstance(namespace, str) or not namespace):
        raise InvalidRequest(f"Invalid '{where}.namespace': expected a string.", param=f"{where}.namespace")
    arguments = json.dumps({CUSTOM_ARGUMENT: payload}) if custom else payload
    function = {"name": tools.flat(str(name), namespace), "arguments": arguments}
    return {"id": call_id, "type": "function", "function": function}


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
        return _image(where, part)
    raise InvalidRequest(f"Unsupported content part {kind!r} in '{where}'.", param=f"{where}.type")


def _image(where: str, part: dict[str, Any]) -> dict[str, Any]:
    """An `input_image` part as a chat image part (checked and inlined by the chat request)."""
    url = part.get("image_url")
    if not isinstance(url, str):
        raise InvalidRequest(
            f"Invalid '{where}': send the image as 'image_url' (a data URL or https:// URL); "
            "uploaded files ('file_id') are not available.",
            param=f"{where}.image_url",
        )
    return {"type": "image_url", "image_url": {"url": url}}


def _output(where: str, output: Any) -> tuple[str, list[dict[str, Any]]]:
    """A tool's output as the tool message's text, and the images it returned (Codex's view_image)."""
    if isinstance(output, str):
        return output, []
    if not isinstance(output, list):
        raise InvalidRequest(
            f"Invalid '{where}.output': expected a string or an array of parts.", param=f"{where}.output"
        )
    texts, images = [], []
    for j, part in enumerate(output):
        at = f"{where}.output[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "input_image":
            images.append(_image(at, part))
        else:
            raise InvalidRequest(
                f"Unsupported part {kind!r} in '{at}': tool results are text and images.", param=f"{at}.type"
            )
    if images and not texts:
        texts.append(f"(the tool returned {len(images)} image(s), shown next)")
    return "".join(texts), images
