"""The gateway's readable seal on reasoning text: Responses' `encrypted_content`, Messages' `signature`.

It is not encryption. A sealed value is `ocigw.r1.` and the base64url of a small JSON document, the
model's name and the reasoning text of that same answer: nothing the client was not already
answered, no secret, no other request's data, so there is nothing to hide or to sign. Clients return
it unchanged when they keep a conversation without server state (Codex keeps `encrypted_content`
and drops the text; Anthropic's SDKs send a thinking block back with its `signature`), so it is
where the text survives a round trip and reaches OCI again (core/chat/body.py).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

_PREFIX = "ocigw.r1."


@dataclass(frozen=True)
class Sealed:
    """What a gateway-made seal holds."""

    model: str
    text: str


def seal(model: str, text: str) -> str:
    """The seal of reasoning `text` by `model` (readable by anyone: see the module)."""
    document = json.dumps({"model": model, "text": text}, ensure_ascii=False, separators=(",", ":"))
    return _PREFIX + base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def unseal(value: str) -> Sealed | None:
    """What a gateway-made seal holds; None for anyone else's (OpenAI's, Anthropic's) or a damaged one."""
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
