"""POST /v1/moderations: OpenAI's CreateModerationRequest answered by OCI's applyGuardrails.

OpenAI's thirteen categories are always present (its schema requires them). OCI scores content as
OVERALL ("offensive or harmful") and BLOCKLIST (a predefined word list), neither of which means what
any one OpenAI category means, so none is mapped: each OpenAI category is false with score 0, and
`flagged` is true when OCI flags OVERALL, BLOCKLIST or a prompt injection. What OCI found is in the
extension field `oci_guardrails` of each result (docs in README, "Moderations").
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.fields import Fields
from oci_genai_gateway.core.upstream import guardrails
from oci_genai_gateway.core.upstream.guardrails import FLAGGED, Checks, GuardrailResult
from oci_genai_gateway.core.upstream.http import OciHttp

FIELDS = Fields(honoured=frozenset({"input", "model"}), ignored={}, refused={})
OPENAI_CATEGORIES = (
    "hate",
    "hate/threatening",
    "harassment",
    "harassment/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
DEFAULT_MODEL = "omni-moderation-latest"
MAX_INPUTS = 32  # strings per request, each one applyGuardrails call
MAX_IMAGES = 16
_VERSION = re.compile(r"^(?:oci-guardrails-)?(\d+(?:\.\d+){0,3})$")


@dataclass(frozen=True)
class ModerationRequest:
    """A validated moderation request: each item is one result (texts and images of one input)."""

    model: str
    version: str | None  # None: OCI's current guardrail version
    items: list[tuple[list[str], list[str]]]


def parse(body: dict[str, Any]) -> ModerationRequest:
    """Validate an OpenAI CreateModerationRequest; `model` may name an OCI guardrail version."""
    model = body.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model:
        raise InvalidRequest("Invalid 'model': expected a string.", param="model")
    match = _VERSION.match(model)
    raw = body.get("input")
    if raw is None:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    items: list[tuple[list[str], list[str]]]
    if isinstance(raw, str):
        items = [([raw], [])]
    elif isinstance(raw, list) and raw and all(isinstance(i, str) for i in raw):
        if len(raw) > MAX_INPUTS:
            raise InvalidRequest(f"Invalid 'input': at most {MAX_INPUTS} strings per request.", param="input")
        items = [([text], []) for text in raw]
    elif isinstance(raw, list) and raw and all(isinstance(i, dict) for i in raw):
        items = [_multimodal(raw)]
    else:
        raise InvalidRequest(
            "Invalid 'input': expected a string, an array of strings, or an array of text and "
            "image_url objects.",
            param="input",
        )
    return ModerationRequest(model, match.group(1) if match else None, items)


def _multimodal(parts: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    images: list[str] = []
    for index, part in enumerate(parts):
        where = f"input[{index}]"
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url" and isinstance(part.get("image_url"), dict):
            url = part["image_url"].get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "data:image/")):
                raise InvalidRequest(
                    f"Invalid '{where}.image_url.url': expected an https or data:image URL.", param=where
                )
            images.append(url)
        else:
            raise InvalidRequest(
                f"Invalid '{where}': expected a text or an image_url part.",
                param=where,
            )
    if len(images) > MAX_IMAGES:
        raise InvalidRequest(f"Invalid 'input': at most {MAX_IMAGES} images per request.", param="input")
    return texts, images


async def create(request: ModerationRequest, oci: OciHttp) -> dict[str, Any]:
    """One applyGuardrails call per result, concurrently; results keep the order of `input`."""
    compartment = oci.settings.compartment_id
    calls = [
        guardrails.apply(oci, guardrails.details(texts, images, Checks(), compartment, request.version))
        for texts, images in request.items
    ]
    found = await asyncio.gather(*calls)
    return {
        "id": f"modr-{uuid.uuid4().hex}",
        "model": request.model,
        "results": [result(r, bool(images)) for r, (_, images) in zip(found, request.items, strict=True)],
    }


def result(found: GuardrailResult, has_images: bool) -> dict[str, Any]:
    """One OpenAI moderation result, OCI's detections under `oci_guardrails`."""
    injection = found.prompt_injection
    flagged = bool(found.moderation_flagged) or (injection is not None and injection >= FLAGGED)
    kinds = ["text", "image"] if has_images else ["text"]
    return {
        "flagged": flagged,
        "categories": dict.fromkeys(OPENAI_CATEGORIES, False),
        "category_scores": dict.fromkeys(OPENAI_CATEGORIES, 0.0),
        # OpenAI's schema allows "text" only for most categories: report what was applied, text.
        "category_applied_input_types": {name: ["text"] for name in OPENAI_CATEGORIES},
        "oci_guardrails": {
            "guardrail_version": found.version,
            "input_types": kinds,
            "content_moderation": {
                name: {"flagged": score >= FLAGGED, "score": score}
                for name, score in found.moderation.items()
            },
            "prompt_injection": None
            if injection is None
            else {"flagged": injection >= FLAGGED, "score": injection},
            "personally_identifiable_information": [
                {"offset": s.offset, "length": s.length, "label": s.label, "score": s.score, "text": s.text}
                for s in found.pii
            ],
        },
    }
