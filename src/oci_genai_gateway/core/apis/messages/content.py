"""Anthropic's `system` and `messages` as chat messages, block by block, and what the blocks say besides.

The shapes are the SDK's `anthropic.types.beta.BetaMessageParam` (user, assistant and system turns) and
`BetaContentBlockParam` (https://docs.anthropic.com/en/api/messages). What each becomes: README.md
(`POST /v1/messages`); why system turns stay in place: docs/decisions/0007-claude-code-on-messages.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.apis.messages.options import EFFORTS
from oci_genai_gateway.core.chat.sealed import unseal
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.bounds import MAX_MESSAGES

_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Tuples, not sets: a client's value may be a list, which a set cannot be asked about.
_THINKING = ("thinking", "redacted_thinking")
_CLEAR_AT = ("never", "next_user_message")
# ("add" or "remove", the tool's name, its inline definition if any, where the block is)
ToolChange = tuple[str, str, dict[str, Any] | None, str]


@dataclass
class Conversation:
    """The chat messages of a Messages request, and what its blocks ask for beyond the messages."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    thinking: list[int] = field(default_factory=list)  # per assistant turn: characters of thinking sent
    turn_effort: str | None = None  # output_config.effort of a system turn after the last user turn
    tool_changes: list[ToolChange] = field(default_factory=list)  # tool_addition / tool_removal, in order
    loaded: set[str] = field(default_factory=set)  # tools a tool_reference loaded or a tool_use called


def conversation(body: dict[str, Any]) -> Conversation:
    """`system`, then every turn of `messages` in order (system turns where they stand)."""
    conv = Conversation(messages=_system(body))
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("Invalid 'messages': expected a non-empty array.", param="messages")
    if len(raw) > MAX_MESSAGES:
        raise InvalidRequest(f"Invalid 'messages': at most {MAX_MESSAGES} messages.", param="messages")
    roles = [m.get("role") if isinstance(m, dict) else None for m in raw]
    last_user = max((i for i, role in enumerate(roles) if role == "user"), default=-1)
    for i, (message, role) in enumerate(zip(raw, roles, strict=True)):
        where = f"messages[{i}]"
        if role not in ("user", "assistant", "system"):
            raise InvalidRequest(
                f"Invalid '{where}.role': expected user, assistant or system.", param=f"{where}.role"
            )
        if role == "system":
            _system_turn(conv, where, message, current=i > last_user)
            continue
        content = message.get("content")
        if isinstance(content, str):
            conv.messages.append({"role": role, "content": content})
            if role == "assistant":
                conv.thinking.append(0)
        elif not isinstance(content, list):
            raise InvalidRequest(
                f"Invalid '{where}.content': expected a string or an array of blocks.",
                param=f"{where}.content",
            )
        elif role == "assistant":
            conv.messages.append(_assistant(conv, where, content))
        else:
            conv.messages += _user(conv, where, content)
    return conv


def is_text(block: Any) -> bool:
    """A text block (its `cache_control` and `citations` change nothing the model reads)."""
    return isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)


def _system(body: dict[str, Any]) -> list[dict[str, Any]]:
    system = body.get("system")
    if system is None:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}] if system else []
    if isinstance(system, list) and all(is_text(b) for b in system):
        text = "".join(b["text"] for b in system)
        return [{"role": "system", "content": text}] if text else []
    raise InvalidRequest("Invalid 'system': expected a string or an array of text blocks.", param="system")


def _system_turn(conv: Conversation, where: str, message: dict[str, Any], *, current: bool) -> None:
    """A `role: "system"` turn (BetaSystemMessageParam): its text in place, tool changes, its effort."""
    clear_at = message.get("clear_at")
    if clear_at is not None and clear_at not in _CLEAR_AT:
        raise InvalidRequest(
            f"Invalid '{where}.clear_at': expected never or next_user_message.", param=f"{where}.clear_at"
        )
    config = message.get("output_config")
    if config is not None:
        effort = config.get("effort") if isinstance(config, dict) else ""
        if effort is not None and effort not in EFFORTS:
            raise InvalidRequest(
                f"Invalid '{where}.output_config': 'effort' is one of {', '.join(EFFORTS)}.",
                param=f"{where}.output_config.effort",
            )
        if current and effort is not None:
            conv.turn_effort = effort  # "Fields here apply per-turn": only the turn being answered
    content = message.get("content")
    texts: list[str] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for j, block in enumerate(content):
            if is_text(block):
                texts.append(block["text"])
            else:
                conv.tool_changes.append(_tool_change(f"{where}.content[{j}]", block))
    elif content is not None or config is None:
        raise InvalidRequest(
            f"Invalid '{where}.content': expected a string or an array of text blocks.",
            param=f"{where}.content",
        )
    # clear_at "next_user_message": shown only to the user turn it follows, then kept but not shown.
    shown = current or clear_at != "next_user_message"
    if shown and "".join(texts):
        conv.messages.append({"role": "system", "content": "".join(texts)})


def _tool_change(at: str, block: Any) -> ToolChange:
    """A tool_addition or tool_removal block: a tool offered, or withdrawn, from here on."""
    kind = block.get("type") if isinstance(block, dict) else None
    if kind not in ("tool_addition", "tool_removal"):
        raise InvalidRequest(f"Unsupported content block {kind!r} in '{at}'.", param=f"{at}.type")
    tool = block.get("tool")
    tool = tool if isinstance(tool, dict) else {}
    if tool.get("type") == "tool_reference" and isinstance(tool.get("name"), str):
        return ("add" if kind == "tool_addition" else "remove", tool["name"], None, at)
    definition = tool.get("definition") if tool.get("type") == "tool_definition" else None
    if kind == "tool_addition" and isinstance(definition, dict) and isinstance(definition.get("name"), str):
        return ("add", definition["name"], definition, f"{at}.tool.definition")
    if tool.get("type") in ("mcp_tool_reference", "mcp_toolset_reference"):
        raise InvalidRequest(f"'{at}' names an MCP tool; MCP servers are not available here.", param=at)
    raise InvalidRequest(
        f"Invalid '{at}.tool': expected a tool_reference with a 'name' (or a tool_definition to add).",
        param=f"{at}.tool",
    )


def _assistant(conv: Conversation, where: str, blocks: list[Any]) -> dict[str, Any]:
    text, calls, thinking, thoughts = [], [], 0, []
    for j, block in enumerate(blocks):
        at = f"{where}.content[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if is_text(block):
            text.append(block["text"])
        elif kind == "tool_use":
            call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
            if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, dict):
                raise InvalidRequest(f"'{at}' needs an 'id', a 'name' and an 'input' object.", param=at)
            function = {"name": name, "arguments": json.dumps(arguments)}
            calls.append({"id": call_id, "type": "function", "function": function})
            conv.loaded.add(name)  # the model called it, so it was offered: a deferred tool stays loaded
        elif kind in _THINKING:  # counted for clear_thinking; a thinking block's text goes back to OCI
            thinking += len(str(block.get("thinking") or block.get("data") or ""))
            thought = _thought(block)
            if thought:
                thoughts.append(thought)
        else:
            raise InvalidRequest(f"Unsupported content block {kind!r} in '{at}'.", param=f"{at}.type")
    conv.thinking.append(thinking)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) if text or not calls else None}
    if calls:
        message["tool_calls"] = calls
    if thoughts:
        message["reasoning_content"] = "\n\n".join(thoughts)  # core/chat/body.py sends it to OCI
    return message


def _thought(block: dict[str, Any]) -> str | None:
    """A thinking block's text: ours from its signature (core/chat/sealed.py), else its `thinking`."""
    # A redacted_thinking block's `data` is another server's ciphertext: nothing a model can read.
    if block.get("type") != "thinking":
        return None
    signature = block.get("signature")
    sealed = unseal(signature) if isinstance(signature, str) else None
    if sealed is not None:
        return sealed.text  # also when the answer omitted the text (`thinking.display: omitted`)
    thought = block.get("thinking")
    return thought if isinstance(thought, str) and thought else None


def _user(conv: Conversation, where: str, blocks: list[Any]) -> list[dict[str, Any]]:
    """Tool results become tool messages, before the user's other blocks (chat's order)."""
    results: list[dict[str, Any]] = []
    attached: list[dict[str, Any]] = []  # images of tool results: chat's tool messages carry text only
    parts: list[dict[str, Any]] = []
    for j, block in enumerate(blocks):
        at = f"{where}.content[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if is_text(block):
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            parts.append(_image(at, block.get("source")))
        elif kind == "tool_result":
            results.append(_tool_result(conv, at, block, attached))
        else:
            raise InvalidRequest(f"Unsupported content block {kind!r} in '{at}'.", param=f"{at}.type")
    parts = attached + parts
    return results + ([{"role": "user", "content": parts}] if parts else [])


def _image(at: str, source: Any) -> dict[str, Any]:
    kind = source.get("type") if isinstance(source, dict) else None
    media_type = source.get("media_type") if kind == "base64" else None
    if isinstance(media_type, str) and media_type in _IMAGE_TYPES and isinstance(source.get("data"), str):
        return {
            "type": "image_url",
            "image_url": {"url": f"data:{source['media_type']};base64,{source['data']}"},
        }
    if kind == "url" and isinstance(source.get("url"), str):
        return {"type": "image_url", "image_url": {"url": source["url"]}}  # chat's rules for URLs apply
    raise InvalidRequest(
        f"Invalid '{at}.source': expected base64 data of a PNG, JPEG, GIF or WebP image, or a URL.",
        param=f"{at}.source",
    )


def _tool_result(
    conv: Conversation, at: str, block: dict[str, Any], attached: list[dict[str, Any]]
) -> dict[str, Any]:
    """A tool message: text (and tool_reference) blocks as its text, images moved to the user turn."""
    call_id, content = block.get("tool_use_id"), block.get("content", "")
    if not isinstance(call_id, str):
        raise InvalidRequest(f"Missing '{at}.tool_use_id'.", param=f"{at}.tool_use_id")
    if isinstance(content, list):
        texts: list[str] = []
        images: list[dict[str, Any]] = []
        for k, item in enumerate(content):
            kind = item.get("type") if isinstance(item, dict) else None
            if is_text(item):
                texts.append(item["text"])
            elif kind == "tool_reference" and isinstance(item.get("tool_name"), str):
                # Tool search (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/tool-search-tool):
                # the referenced deferred tool is offered from now on; the model reads which.
                conv.loaded.add(item["tool_name"])
                texts.append(f"Tool loaded: {item['tool_name']}\n")
            elif kind == "image":
                if not images:
                    attached.append({"type": "text", "text": f"Images from tool result {call_id}:"})
                images.append(_image(f"{at}.content[{k}]", item.get("source")))
                attached.append(images[-1])
            else:
                raise InvalidRequest(
                    f"Unsupported block {kind!r} in '{at}.content[{k}]': tool results take text, images "
                    "and tool references.",
                    param=f"{at}.content[{k}].type",
                )
        content = "".join(texts)
    if not isinstance(content, str):
        raise InvalidRequest(
            f"Invalid '{at}.content': expected a string or an array of blocks.", param=f"{at}.content"
        )
    if block.get("is_error") is True:
        content = f"Error: {content}"  # chat has no error flag; the model still learns the tool failed
    return {"role": "tool", "tool_call_id": call_id, "content": content}
