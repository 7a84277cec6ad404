"""The emulator's model catalogue: realistic OCI Generative AI models and the lookups handlers use."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from .constants import DEFAULT_REGION

ApiFormat = Literal["GENERIC", "COHERE", "COHEREV2"]
REGION = DEFAULT_REGION


def _ocid(kind: str, name: str) -> str:
    """A stable, realistic-looking OCID derived from a name."""
    digest = hashlib.sha256(f"{kind}:{name}".encode()).hexdigest()[:52]
    return f"ocid1.{kind}.oc1.{REGION}.amaaaaaa{digest}"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Model:
    """One model as the management API lists it, plus what inference needs to know about it."""

    display_name: str
    vendor: str
    version: str
    capabilities: tuple[str, ...]
    time_created: datetime
    api_format: ApiFormat | None = None  # the format its answers default to
    also_speaks: tuple[ApiFormat, ...] = ()  # other formats it takes (Command A: COHEREV2 beside v1)
    embedding_dims: int | None = None
    output_dimensions: tuple[int, ...] = ()
    max_input_tokens: int = 512
    max_output_tokens: int = 4000
    vision: bool = False
    type: Literal["BASE", "CUSTOM"] = "BASE"
    base_model: str | None = None
    time_deprecated: datetime | None = None
    time_on_demand_retired: datetime | None = None
    is_long_term_supported: bool | None = None
    reasoning: bool = False  # thinks before answering and reports reasoning tokens
    on_demand: bool = True  # False: listed ACTIVE with CHAT, yet on-demand calls answer 404
    accepts_stream_options: bool = True
    only_default_temperature: bool = False  # OpenAI reasoning models: temperature must be 1
    rejects_max_tokens: bool = False  # OpenAI reasoning models: maxCompletionTokens only
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", _ocid("generativeaimodel", f"{self.display_name}:{self.version}"))

    @property
    def api_formats(self) -> tuple[ApiFormat, ...]:
        """Every chat format the model takes."""
        return ((self.api_format,) if self.api_format else ()) + self.also_speaks

    @property
    def is_chat(self) -> bool:
        """True for models served by /actions/chat."""
        return "CHAT" in self.capabilities

    @property
    def is_embedding(self) -> bool:
        """True for models served by /actions/embedText."""
        return "TEXT_EMBEDDINGS" in self.capabilities

    def retired_on_demand(self, now: datetime) -> bool:
        """True once on-demand serving of this model has been retired."""
        return self.time_on_demand_retired is not None and self.time_on_demand_retired <= now

    def response_model_id(self) -> str:
        """The `modelId` inference responses carry: the name for base models, the OCID for custom ones."""
        return self.id if self.type == "CUSTOM" else self.display_name


def _chat(
    name: str,
    vendor: str,
    version: str,
    created: str,
    *,
    capabilities: tuple[str, ...] = ("CHAT",),
    vision: bool = False,
    max_output_tokens: int = 4000,
    deprecated: str | None = None,
    retired: str | None = None,
    base_model: str | None = None,
    reasoning: bool = False,
    on_demand: bool = True,
    accepts_stream_options: bool = True,
    openai_reasoning: bool = False,
    api_format: ApiFormat | None = None,
    also_speaks: tuple[ApiFormat, ...] = (),
) -> Model:
    return Model(
        name,
        vendor,
        version,
        capabilities,
        _at(created),
        api_format=api_format or ("COHERE" if vendor == "cohere" else "GENERIC"),
        also_speaks=also_speaks,
        vision=vision,
        max_output_tokens=max_output_tokens,
        type="CUSTOM" if base_model else "BASE",
        base_model=base_model,
        time_deprecated=_at(deprecated) if deprecated else None,
        time_on_demand_retired=_at(retired) if retired else None,
        reasoning=reasoning or openai_reasoning,
        on_demand=on_demand,
        accepts_stream_options=accepts_stream_options,
        only_default_temperature=openai_reasoning,
        rejects_max_tokens=openai_reasoning,
    )


def _embed(name: str, version: str, dims: int, created: str, *, dimensions: tuple[int, ...] = ()) -> Model:
    return Model(
        name,
        "cohere",
        version,
        ("TEXT_EMBEDDINGS",),
        _at(created),
        embedding_dims=dims,
        output_dimensions=dimensions,
        # v3 models embed at most 512 tokens per input; v4 has a long context.
        max_input_tokens=128000 if dimensions else 512,
    )


_TUNABLE = ("CHAT", "FINE_TUNE")
_LLAMA_33 = _chat("meta.llama-3.3-70b-instruct", "meta", "1.0.0", "2024-12-10", capabilities=_TUNABLE)
# The fine-tuned model behind CUSTOM_ENDPOINT_ID refuses `streamOptions` (emulated: no recording of a
# model that does, see the README).
CUSTOM_MODEL = _FINE_TUNED = _chat(
    "ft-llama-3.3-support-assistant",
    "meta",
    "1",
    "2025-11-03",
    base_model=_LLAMA_33.id,
    accepts_stream_options=False,
)
_COMMAND_R = _chat(
    "cohere.command-r-08-2024",
    "cohere",
    "1.7",
    "2024-09-10",
    capabilities=_TUNABLE,
    deprecated="2025-10-01",  # deprecated: still served, retirement announced for later
    retired="2035-01-01",
)
# Listed ACTIVE with CHAT, but not served on demand: chat answers 404 "Entity with key <OCID> not
# found" (consumers of ListModels meet such models: https://github.com/oracle/langchain-oracle
# libs/js/oci/src/tests/chatoci_genai.int.test.ts).
NOT_ON_DEMAND = _chat(
    "meta.llama-3.2-90b-vision-instruct", "meta", "1.0.0", "2024-11-14", vision=True, on_demand=False
)

# Command A Vision and Command A Reasoning: COHEREV2 only (Vision needs it even for text:
# https://github.com/oracle/langchain-oracle/pull/122; thinking is v2's CohereThinkingV2), served on
# dedicated AI clusters only (https://github.com/oracle/langchain-oracle/pull/104,
# https://docs.oracle.com/en-us/iaas/Content/generative-ai/cohere-command-a-reasoning-08-2025.htm),
# so on demand they answer 404 like NOT_ON_DEMAND, and the emulator serves each behind an endpoint.
COMMAND_A_VISION = _chat(
    "cohere.command-a-vision-07-2025",
    "cohere",
    "1.0",
    "2025-07-31",
    vision=True,
    max_output_tokens=8000,
    on_demand=False,
    api_format="COHEREV2",
)
COMMAND_A_REASONING = _chat(
    "cohere.command-a-reasoning-08-2025",
    "cohere",
    "1.0",
    "2025-08-21",
    max_output_tokens=32000,
    reasoning=True,
    on_demand=False,
    api_format="COHEREV2",
)

MODELS: tuple[Model, ...] = (
    _LLAMA_33,
    # OCI lists some models once per version; consumers must de-duplicate by display name.
    _chat("meta.llama-3.3-70b-instruct", "meta", "1.0.1", "2025-03-04", capabilities=_TUNABLE),
    _chat(
        "meta.llama-4-maverick-17b-128e-instruct-fp8",
        "meta",
        "1.0.0",
        "2025-05-14",
        vision=True,
        max_output_tokens=8000,
    ),
    NOT_ON_DEMAND,
    _chat("xai.grok-4", "xai", "1.0", "2025-07-23", vision=True, max_output_tokens=128000, reasoning=True),
    _chat("xai.grok-3-mini", "xai", "1.0", "2025-05-20", max_output_tokens=32000, reasoning=True),
    _chat(
        "google.gemini-2.5-flash",
        "google",
        "1.0",
        "2025-08-12",
        vision=True,
        max_output_tokens=65536,
        reasoning=True,
    ),
    _chat("openai.gpt-oss-120b", "openai", "1.0", "2025-09-02", max_output_tokens=32000, reasoning=True),
    _chat("openai.gpt-5", "openai", "1.0", "2025-10-20", max_output_tokens=128000, openai_reasoning=True),
    # Command A takes both Cohere formats; v2 adds tool choice, tool-call ids and documents (SDK
    # CohereChatRequestV2: toolsChoice "is only compatible with models Command-r7b and newer").
    _chat(
        "cohere.command-a-03-2025",
        "cohere",
        "1.0",
        "2025-04-01",
        max_output_tokens=8000,
        also_speaks=("COHEREV2",),
    ),
    COMMAND_A_VISION,
    COMMAND_A_REASONING,
    # The same display name again with other capabilities and another version, as OCI lists
    # cohere.command four times (CLI list-models output in an Oracle engineer's article,
    # https://qiita.com/shukawam). On-demand chat resolves to the CHAT entry.
    Model(
        "cohere.command-a-03-2025",
        "cohere",
        "0.9",
        ("TEXT_GENERATION",),
        _at("2025-03-13"),
        api_format="COHERE",
        max_output_tokens=8000,
    ),
    _COMMAND_R,
    # Retired for on-demand serving (timeOnDemandRetired in the past) yet listed ACTIVE: chat calls
    # are refused.
    _chat(
        "meta.llama-3.1-405b-instruct",
        "meta",
        "1.0.0",
        "2024-07-23",
        deprecated="2025-03-01",
        retired="2025-09-01",
    ),
    _chat(
        "meta.llama-3.1-70b-instruct",
        "meta",
        "1.0.0",
        "2024-07-23",
        capabilities=_TUNABLE,
        deprecated="2025-01-15",
        retired="2025-07-15",
    ),
    _chat(
        "cohere.command-r-plus-08-2024",
        "cohere",
        "1.6",
        "2024-09-10",
        deprecated="2025-04-01",
        retired="2025-10-01",
    ),
    _embed("cohere.embed-english-v3.0", "3.0", 1024, "2024-02-07"),
    _embed("cohere.embed-multilingual-v3.0", "3.0", 1024, "2024-02-07"),
    _embed("cohere.embed-english-light-v3.0", "3.0", 384, "2024-02-07"),
    _embed("cohere.embed-v4.0", "4.0", 1536, "2025-06-10", dimensions=(256, 512, 1024, 1536)),
    _FINE_TUNED,  # only reachable through its dedicated endpoint
)

CUSTOM_ENDPOINT_ID = _ocid("generativeaiendpoint", "ft-llama-support")
COHERE_ENDPOINT_ID = _ocid("generativeaiendpoint", "command-r-dedicated")
VISION_ENDPOINT_ID = _ocid("generativeaiendpoint", "command-a-vision-dedicated")
REASONING_ENDPOINT_ID = _ocid("generativeaiendpoint", "command-a-reasoning-dedicated")
ENDPOINTS: dict[str, Model] = {
    CUSTOM_ENDPOINT_ID: _FINE_TUNED,
    COHERE_ENDPOINT_ID: _COMMAND_R,
    VISION_ENDPOINT_ID: COMMAND_A_VISION,
    REASONING_ENDPOINT_ID: COMMAND_A_REASONING,
}
_BY_ID = {m.id: m for m in MODELS}


def by_id(model_id: str) -> Model | None:
    """A model by OCID."""
    return _BY_ID.get(model_id)


def by_name(display_name: str, capability: str | None = None) -> Model | None:
    """The newest version of a base model by display name (what on-demand `modelId` names).

    A display name may be listed several times with different capabilities: with `capability`, the
    newest entry that has it wins (else the newest entry, so the caller can refuse it).
    """
    matches = [m for m in MODELS if m.display_name == display_name and m.type == "BASE"]
    capable = [m for m in matches if capability in m.capabilities]
    return max(capable or matches, key=lambda m: m.time_created) if matches else None


def by_endpoint(endpoint_id: str) -> Model | None:
    """The model a dedicated endpoint serves."""
    return ENDPOINTS.get(endpoint_id)


def resolve_on_demand(model_ref: str, capability: str | None = None) -> Model | None:
    """An on-demand `modelId`: a display name or a model OCID."""
    return by_name(model_ref, capability) or by_id(model_ref)
