"""OCI's applyGuardrails on the wire: the ApplyGuardrailsDetails body and a read of its result.

The oci SDK's models (oci.generative_ai_inference.models: ApplyGuardrailsDetails, GuardrailConfigs,
ContentModerationConfiguration, PersonallyIdentifiableInformationConfiguration,
PromptInjectionConfiguration, GuardrailsTextInput, GuardrailsImageInput, ApplyGuardrailsResult)
name every field; the emulator validates the body with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.errors import UpstreamError
from oci_genai_gateway.core.upstream.http import OciHttp

ACTION = "applyGuardrails"
# OCI's content-moderation categories and the PII types this gateway asks for
# (https://docs.oracle.com/en-us/iaas/Content/generative-ai/guardrails.htm).
MODERATION_CATEGORIES = ("OVERALL", "BLOCKLIST")
PII_TYPES = ("EMAIL", "TELEPHONE_NUMBER", "PERSON", "ADDRESS")
FLAGGED = 0.5  # OCI's scores are 0.0 or 1.0 today; anything at or above half counts as flagged


@dataclass(frozen=True)
class Checks:
    """Which of OCI's three guardrails one call runs."""

    moderation: bool = True
    pii: bool = True
    prompt_injection: bool = True


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data OCI found: where (in the text sent) and what kind."""

    offset: int
    length: int
    label: str
    score: float
    text: str = ""


@dataclass(frozen=True)
class GuardrailResult:
    """What applyGuardrails answered, read defensively (a field OCI left out is no detection)."""

    moderation: dict[str, float] = field(default_factory=dict)  # category -> score
    pii: tuple[PiiSpan, ...] = ()
    prompt_injection: float | None = None
    version: str | None = None

    @property
    def moderation_flagged(self) -> list[str]:
        """The content-moderation categories OCI flagged."""
        return [name for name, score in self.moderation.items() if score >= FLAGGED]


def details(
    texts: list[str],
    images: list[str],
    checks: Checks,
    compartment_id: str,
    version: str | None = None,
) -> dict[str, Any]:
    """ApplyGuardrailsDetails: one text as `input`, or text and images in order as `multimodalInput`."""
    configs: dict[str, Any] = {}
    if checks.moderation:
        configs["contentModerationConfig"] = {"categories": list(MODERATION_CATEGORIES)}
    if checks.pii:
        configs["personallyIdentifiableInformationConfig"] = {"types": list(PII_TYPES)}
    if checks.prompt_injection:
        configs["promptInjectionConfig"] = {}
    body: dict[str, Any] = {"guardrailConfigs": configs, "compartmentId": compartment_id}
    if len(texts) == 1 and not images:
        body["input"] = {"type": "TEXT", "content": texts[0]}
    else:
        items: list[dict[str, Any]] = [{"type": "TEXT", "content": t} for t in texts]
        items += [{"type": "IMAGE", "imageUrl": {"url": url}} for url in images]
        body["multimodalInput"] = items
    if version is not None:
        body["guardrailVersionConfig"] = {"guardrailVersion": version}
    return body


def read_result(answer: dict[str, Any]) -> GuardrailResult:
    """An ApplyGuardrailsResult's detections."""
    results = answer.get("results")
    if not isinstance(results, dict):
        raise UpstreamError("OCI Generative AI answered applyGuardrails without results.")
    moderation: dict[str, float] = {}
    cm = results.get("contentModeration")
    for category in cm.get("categories") or [] if isinstance(cm, dict) else []:
        if isinstance(category, dict) and isinstance(category.get("name"), str):
            moderation[category["name"]] = _score(category.get("score"))
    spans = [
        PiiSpan(
            offset=int(item.get("offset") or 0),
            length=int(item.get("length") or 0),
            label=str(item.get("label") or "PII"),
            score=_score(item.get("score")),
            text=str(item.get("text") or ""),
        )
        for item in results.get("personallyIdentifiableInformation") or []
        if isinstance(item, dict)
    ]
    injection = results.get("promptInjection")
    version = answer.get("guardrailVersion")
    return GuardrailResult(
        moderation=moderation,
        pii=tuple(spans),
        prompt_injection=_score(injection.get("score")) if isinstance(injection, dict) else None,
        version=str(version["version"]) if isinstance(version, dict) and version.get("version") else None,
    )


async def apply(oci: OciHttp, body: dict[str, Any]) -> GuardrailResult:
    """One applyGuardrails call."""
    return read_result((await oci.post_json(ACTION, body, "guardrails")).value)


def _score(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
