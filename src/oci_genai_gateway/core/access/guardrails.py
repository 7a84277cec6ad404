"""A key's guardrail policy: what OCI's applyGuardrails checks in its requests, and what a hit does.

In the keys JSON: `"guardrails": {"prompt_injection": 0.5, "pii": "block" | "redact", "moderation":
"block"}`, each optional. On Functions it travels from the authorizer as one compact header value
(`to_header` / `from_header`), as the model list does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from oci_genai_gateway.core.errors import ConfigError, InvalidRequest

GUARDRAILS_HEADER = "x-gateway-key-guardrails"
_FIELDS = frozenset({"prompt_injection", "pii", "moderation"})


class PiiAction(Enum):
    """What a key does with personal data OCI finds in a request."""

    BLOCK = "block"
    REDACT = "redact"


@dataclass(frozen=True)
class Guardrails:
    """Which checks run on a key's requests; all None: none (and no applyGuardrails call)."""

    prompt_injection: float | None = None  # block when OCI's score is above this threshold
    pii: PiiAction | None = None
    moderation: bool = False  # block when any content-moderation category is flagged

    @property
    def active(self) -> bool:
        """Whether any check applies."""
        return self.prompt_injection is not None or self.pii is not None or self.moderation

    def to_header(self) -> str:
        """One header value (`pi=0.5;pii=redact;mod=block`), `none` when nothing applies."""
        parts = []
        if self.prompt_injection is not None:
            parts.append(f"pi={self.prompt_injection:g}")
        if self.pii is not None:
            parts.append(f"pii={self.pii.value}")
        if self.moderation:
            parts.append("mod=block")
        return ";".join(parts) or "none"


NO_GUARDRAILS = Guardrails()


def parse_guardrails(entry: Any, where: str) -> Guardrails:
    """The keys JSON's `guardrails` object; ConfigError naming what is wrong."""
    if entry is None:
        return NO_GUARDRAILS
    if not isinstance(entry, Mapping) or set(entry) - _FIELDS:
        raise ConfigError(f"{where}: guardrails must be an object of {sorted(_FIELDS)}")
    threshold = entry.get("prompt_injection")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold < 1
    ):
        raise ConfigError(f"{where}: guardrails.prompt_injection must be a threshold in [0, 1)")
    pii = entry.get("pii")
    if pii is not None and pii not in ("block", "redact"):
        raise ConfigError(f'{where}: guardrails.pii must be "block" or "redact"')
    moderation = entry.get("moderation")
    if moderation is not None and moderation != "block":
        raise ConfigError(f'{where}: guardrails.moderation must be "block"')
    return Guardrails(
        prompt_injection=None if threshold is None else float(threshold),
        pii=None if pii is None else PiiAction(pii),
        moderation=moderation == "block",
    )


def from_header(value: str) -> Guardrails:
    """The policy `to_header` wrote; anything unreadable is no policy (the spec always sets it)."""
    fields = dict(part.partition("=")[::2] for part in value.strip().split(";") if "=" in part)
    threshold: float | None = None
    try:
        threshold = float(fields["pi"]) if "pi" in fields else None
    except ValueError:
        threshold = None
    if threshold is not None and not (math.isfinite(threshold) and 0 <= threshold < 1):
        threshold = None
    pii = fields.get("pii")
    return Guardrails(
        prompt_injection=threshold,
        pii=PiiAction(pii) if pii in ("block", "redact") else None,
        moderation=fields.get("mod") == "block",
    )


class ContentPolicyViolation(InvalidRequest):
    """A guardrail of the key tripped on the request (400 `content_policy_violation`)."""

    default_code = "content_policy_violation"

    def __init__(self, tripped: list[str], *, where: str = "request") -> None:
        names = ", ".join(tripped)
        super().__init__(f"The {where} was blocked by this API key's guardrails: {names}.")
        self.tripped = tuple(tripped)
