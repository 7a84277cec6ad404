"""Reasoning items: OCI's reasoning text as OpenAI's `reasoning` output item, and its `encrypted_content`.

`encrypted_content` is not encrypted: it is the gateway's readable seal (core/chat/sealed.py) of the
item's reasoning text. A `reasoning` input item's text (ours from its seal, else its content or
summary) goes back to OCI with the assistant turn after it (core/chat/body.py); Codex drops the
item's `content` but keeps `encrypted_content`
(docs/decisions/0006-codex-over-the-responses-api.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.chat.sealed import Sealed, seal, unseal
from oci_genai_gateway.core.errors import InvalidRequest

__all__ = ["Reasoning", "Sealed", "check_input", "input_text", "item", "seal", "unseal"]


@dataclass(frozen=True)
class Reasoning:
    """How a request wants reasoning items: as a summary (`reasoning.summary`), with encrypted_content."""

    summary: bool = False
    encrypted: bool = False  # include: ["reasoning.encrypted_content"]


def item(item_id: str, model: str, text: str, wanted: Reasoning, status: str = "completed") -> dict[str, Any]:
    """OpenAI's ResponseReasoningItem for OCI's reasoning text."""
    # OCI returns the model's reasoning as it is, not a summary: it is the item's `reasoning_text`
    # content, or its one `summary_text` part when the request asked for a summary (what Codex shows).
    out: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": [], "status": status}
    if wanted.summary:
        out["summary"] = [{"type": "summary_text", "text": text}]
    else:
        out["content"] = [{"type": "reasoning_text", "text": text}]
    if wanted.encrypted:
        out["encrypted_content"] = seal(model, text)
    return out


def check_input(where: str, raw: dict[str, Any]) -> Sealed | None:
    """Validate a `reasoning` input item (OpenAI's shape) and read its encrypted_content if it is ours."""
    summary = raw.get("summary", [])
    if not isinstance(summary, list):
        raise InvalidRequest(f"Invalid '{where}.summary': expected an array.", param=f"{where}.summary")
    encrypted = raw.get("encrypted_content")
    if encrypted is not None and not isinstance(encrypted, str):
        raise InvalidRequest(
            f"Invalid '{where}.encrypted_content': expected a string.", param=f"{where}.encrypted_content"
        )
    return unseal(encrypted) if encrypted else None


def input_text(where: str, raw: dict[str, Any]) -> str | None:
    """The reasoning text of a `reasoning` input item: ours from its seal, else its content or summary."""
    sealed = check_input(where, raw)
    if sealed is not None:
        return sealed.text
    # Another server's item (or one whose encrypted_content was dropped): the text it shows.
    for field, kind in (("content", "reasoning_text"), ("summary", "summary_text")):
        parts = raw.get(field)
        texts = [_text(p, kind) for p in parts] if isinstance(parts, list) else []
        if any(texts):
            return "\n\n".join(t for t in texts if t)
    return None


def _text(part: Any, kind: str) -> str | None:
    ok = isinstance(part, dict) and part.get("type") == kind and isinstance(part.get("text"), str)
    return str(part["text"]) if ok else None
