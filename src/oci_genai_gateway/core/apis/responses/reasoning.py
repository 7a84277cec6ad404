"""Reasoning items: OCI's reasoning text as OpenAI's `reasoning` output item, and its `encrypted_content`.

`encrypted_content` is not encrypted. It is `ocigw.r1.` and the base64url of a small JSON document,
the model's name and the reasoning text of that same item: nothing the client was not already
answered, no secret, no other request's data, so there is nothing to hide or to sign. Clients
return it unchanged when they keep a conversation without server state (Codex drops the item's
`content` but keeps `encrypted_content`), so it is the one place the text survives a round trip.
The gateway reads it back and does not send it to OCI: OCI's chat API takes no reasoning in most
models' history, and LiteLLM's OCI transform sends none
(docs/decisions/0006-codex-over-the-responses-api.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest

_PREFIX = "ocigw.r1."


@dataclass(frozen=True)
class Reasoning:
    """How a request wants reasoning items: as a summary (`reasoning.summary`), with encrypted_content."""

    summary: bool = False
    encrypted: bool = False  # include: ["reasoning.encrypted_content"]


@dataclass(frozen=True)
class Sealed:
    """What a gateway-made `encrypted_content` holds."""

    model: str
    text: str


def seal(model: str, text: str) -> str:
    """The `encrypted_content` of reasoning `text` by `model` (readable by anyone: see the module)."""
    document = json.dumps({"model": model, "text": text}, ensure_ascii=False, separators=(",", ":"))
    return _PREFIX + base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def unseal(value: str) -> Sealed | None:
    """What a gateway-made `encrypted_content` holds; None for anyone else's (OpenAI's) or a damaged one."""
    if not value.startswith(_PREFIX):
        return None
    data = value[len(_PREFIX) :]
    try:
        document = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    model, text = document.get("model"), document.get("text")
    return Sealed(model, text) if isinstance(model, str) and isinstance(text, str) else None


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
