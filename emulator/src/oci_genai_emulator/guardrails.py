"""applyGuardrails and listGuardrailVersions: deterministic detections, OCI's result shape.

OCI's guardrails (https://docs.oracle.com/en-us/iaas/Content/generative-ai/guardrails.htm) score
content moderation as OVERALL and BLOCKLIST (0.0 or 1.0), prompt injection as 0.0 or 1.0, and
return PII spans (offset, length, text, label, score). The emulator detects, deterministically:
e-mail addresses (EMAIL) and phone numbers (TELEPHONE_NUMBER) as PII, the marker phrase
INJECTION_MARKER as prompt injection, and BLOCKLIST_WORD (or OVERALL_WORD) for moderation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import invalid, not_found

INJECTION_MARKER = "ignore all previous instructions"
BLOCKLIST_WORD = "frobnicate"  # a word on the emulator's "predefined" blocklist
OVERALL_WORD = "hateful"  # flagged as offensive or harmful (OVERALL)
VERSIONS = ("1.0.0", "1.1.0")
DEFAULT_VERSION = VERSIONS[-1]
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{7,}\d(?!\w)")
_CATEGORIES = ("OVERALL", "BLOCKLIST")
_PII_TYPES = ("EMAIL", "TELEPHONE_NUMBER", "PERSON", "ADDRESS")


def apply(details: Mapping[str, Any]) -> dict[str, Any]:
    """An ApplyGuardrailsResult for validated ApplyGuardrailsDetails JSON."""
    version = _version(details)
    texts, images = _texts(details)
    configs = details["guardrailConfigs"]
    results: dict[str, Any] = {}
    joined = "\n".join(texts)
    lowered = joined.lower()
    moderation = configs.get("contentModerationConfig")
    if moderation is not None:
        wanted = moderation.get("categories") or []
        unknown = [c for c in wanted if c not in _CATEGORIES]
        if unknown:
            raise invalid(
                f"Invalid value '{unknown[0]}' for 'guardrailConfigs.contentModerationConfig.categories'"
            )
        hits = {"OVERALL": OVERALL_WORD in lowered, "BLOCKLIST": BLOCKLIST_WORD in lowered}
        results["contentModeration"] = {
            "categories": [
                {"name": name, "score": 1.0 if hits[name] else 0.0, **_modalities(hits[name])}
                for name in wanted
            ]
        }
    pii = configs.get("personallyIdentifiableInformationConfig")
    if pii is not None:
        types = pii.get("types") or []
        unknown = [t for t in types if t not in _PII_TYPES]
        if unknown:
            where = "guardrailConfigs.personallyIdentifiableInformationConfig.types"
            raise invalid(f"Invalid value '{unknown[0]}' for '{where}'")
        results["personallyIdentifiableInformation"] = _pii(joined, types)
    if configs.get("promptInjectionConfig") is not None:
        hit = INJECTION_MARKER in lowered
        results["promptInjection"] = {"score": 1.0 if hit else 0.0, **_modalities(hit)}
    del images  # images are accepted and scored clean: the emulator reads no pixels
    return {"results": results, "guardrailVersion": {"version": version}}


def versions(query: Mapping[str, str]) -> dict[str, Any]:
    """A GuardrailVersionCollection, optionally filtered by state."""
    items = [
        {
            "guardrailVersion": v,
            "state": "ACTIVE" if v == DEFAULT_VERSION else "DEPRECATED",
            "timeActivated": "2026-01-15T00:00:00Z",
            "description": f"Guardrail models, version {v}",
        }
        for v in VERSIONS
    ]
    state = query.get("state")
    if state is not None:
        if state not in ("ACTIVE", "PREVIEW", "DEPRECATED", "RETIRED"):
            raise invalid(f"Invalid value '{state}' for 'state'")
        items = [item for item in items if item["state"] == state]
    return {"items": items}


def _version(details: Mapping[str, Any]) -> str:
    config = details.get("guardrailVersionConfig")
    if config is None:
        return DEFAULT_VERSION
    version = str(config["guardrailVersion"])
    if version not in VERSIONS:
        raise not_found(f"Guardrail version {version} not found")
    return version


def _texts(details: Mapping[str, Any]) -> tuple[list[str], int]:
    """The text items OCI scores (`input` wins over `multimodalInput`, as OCI documents) and images."""
    single = details.get("input")
    items = [single] if single is not None else list(details.get("multimodalInput") or [])
    if not items:
        raise invalid("One of 'input' or 'multimodalInput' is required")
    texts = [str(i.get("content") or "") for i in items if i["type"] == "TEXT"]
    return texts, sum(1 for i in items if i["type"] == "IMAGE")


def _pii(text: str, types: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for label, pattern in (("EMAIL", _EMAIL), ("TELEPHONE_NUMBER", _PHONE)):
        if label not in types:
            continue
        for match in pattern.finditer(text):
            found.append(
                {
                    "offset": match.start(),
                    "length": match.end() - match.start(),
                    "text": match.group(),
                    "label": label,
                    "score": 0.99,
                }
            )
    return sorted(found, key=lambda span: int(span["offset"]))


def _modalities(hit: bool) -> dict[str, Any]:
    return {"flaggedModalities": ["TEXT"]} if hit else {}
