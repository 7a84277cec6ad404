"""Per-vendor wire profiles: how each model family's answers look on OCI's wire.

OCI serves every vendor through the same `/actions/chat` API, but what comes back differs by the
serving stack behind it. One `WireProfile` per vendor (chosen by the display-name prefix) holds
those differences, so the response builders in `chat.py` read flags instead of testing vendors.

Recorded sources (verbatim traffic others published; cited by repository and path):

* pad runs, `index` absent on the finish event, the three finish-event forms (role only, bare,
  last text) and the xAI and Llama tool-call streams: langchain4j/langchain4j-community,
  models/langchain4j-community-oci-genai/src/test/java/dev/langchain4j/community/model/oracle/oci/genai/GenericStreamingTest.java
  (https://github.com/langchain4j/langchain4j-community, also issue #392 "Raw payload from LLM").
* Meta Llama streams end with `data: [DONE]`: https://github.com/oracle/langchain-oracle/pull/304
  (and https://github.com/BerriAI/litellm/pull/39507); the other vendors send no sentinel.
* Gemini tool calls without `id`, next to a content part without `text`:
  https://github.com/oracle/langchain-oracle/issues/86 (and pull requests #79, #91 there); Gemini's
  lower-case `max_tokens` finish reason: https://github.com/NVIDIA/NeMo-Relay
  crates/core/tests/unit/codec/oci_genai_tests.rs.
* Single-`\\n` event separation: reported to LiteLLM (https://github.com/BerriAI/litellm
  tests/test_litellm/llms/oci/chat/test_oci_sse_splitter.py); the emulator gives it to Gemini.
* OpenAI (gpt-oss, GPT-5) tool-call streams, `call_<uuid>` ids and token-sized argument pieces:
  https://github.com/oracle/langchain-oracle/issues/163 and issues/253.
* xAI reasoning usage (`completionTokens` excludes reasoning, `totalTokens` includes it,
  `acceptedPredictionTokens: 0`, `cachedTokens`, `logprobs: {}`): https://github.com/jin38324/OCI_GenAI_access_gateway
  app/test.ipynb; https://github.com/NVIDIA/NeMo-Relay crates/core/tests/unit/codec/oci_genai_tests.rs.
* xAI `reasoningContent` (message and stream deltas before the text): https://github.com/oracle/langchain-oracle
  libs/oci/langchain_oci/chat_models/providers/generic.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .catalog import ApiFormat, Model

FinalEvent = Literal["role_only", "bare", "last_text"]
ToolStream = Literal["llama_fragments", "whole", "openai_fragments"]
ToolCallId = Literal["vllm", "xai", "openai", "none"]
UsageStyle = Literal["plain", "xai", "openai", "gemini"]
ErrorStyle = Literal["oci", "openai"]

# Gemini spends this many tokens thinking before it answers, out of the request's maxTokens; a
# maxTokens at or below it leaves no text at all (finish "max_tokens", usage without
# completionTokens). The number is the emulator's choice: OCI does not publish Gemini's budget.
GEMINI_REASONING_BUDGET = 16


@dataclass(frozen=True)
class WireProfile:
    """What one vendor's models send on OCI's wire."""

    vendor: str
    api_format: ApiFormat
    # Stream framing.
    separator: str = "\n\n"  # between SSE events
    ends_with_done: bool = False  # `data: [DONE]`, then the connection closes; else it stays open
    opening_empty_event: bool = False  # an empty-text content event before anything else
    final_event: FinalEvent = "bare"
    stream_usage: bool = True  # the usage-only event when streamOptions.isIncludeUsage
    # Tool calls.
    tool_stream: ToolStream = "whole"
    tool_call_id: ToolCallId = "openai"
    tool_call_text_stub: bool = False  # a content part {"type": "TEXT"} (no text) next to calls
    compact_arguments: bool = True  # `{"a":1}` rather than `{"a": 1}`
    # Answers.
    length_finish: str = "length"  # GENERIC finishReason of a maxTokens stop
    usage: UsageStyle = "plain"  # how a reasoning model reports its tokens
    reasoning_content: bool = False  # reasoning models return message.reasoningContent
    reasoning_budget: int | None = None  # thinking tokens taken out of maxTokens (Gemini)
    choice_logprobs: bool = False  # `"logprobs": {}` on non-stream choices
    # Requests.
    errors: ErrorStyle = "oci"  # model-level 400s: OCI's message, or a JSON-encoded OpenAI error
    tools_need_user_first: bool = False


PROFILES: dict[str, WireProfile] = {
    # Meta Llama is served by vLLM: an opening empty event, vLLM tool-call ids, arguments streamed in
    # pieces, a finish event carrying only the role, then `data: [DONE]`.
    "meta": WireProfile(
        vendor="meta",
        api_format="GENERIC",
        ends_with_done=True,
        opening_empty_event=True,
        final_event="role_only",
        tool_stream="llama_fragments",
        tool_call_id="vllm",
        compact_arguments=False,
        tools_need_user_first=True,
    ),
    "xai": WireProfile(
        vendor="xai",
        api_format="GENERIC",
        final_event="bare",
        tool_stream="whole",
        tool_call_id="xai",
        usage="xai",
        reasoning_content=True,
        choice_logprobs=True,
    ),
    "google": WireProfile(
        vendor="google",
        api_format="GENERIC",
        separator="\n",
        final_event="last_text",
        stream_usage=False,
        tool_stream="whole",
        tool_call_id="none",
        tool_call_text_stub=True,
        length_finish="max_tokens",
        usage="gemini",
        reasoning_budget=GEMINI_REASONING_BUDGET,
    ),
    # The finish event of OpenAI models is not in any recording: emulated as the bare form.
    "openai": WireProfile(
        vendor="openai",
        api_format="GENERIC",
        final_event="bare",
        tool_stream="openai_fragments",
        tool_call_id="openai",
        usage="openai",
        errors="openai",
    ),
    # COHERE (v1) calls carry no id; COHEREV2 ids are made in chat_v2.py. Command A Reasoning
    # returns its thinking (THINKING content parts, COHEREV2 only).
    "cohere": WireProfile(vendor="cohere", api_format="COHERE", tool_call_id="none", reasoning_content=True),
}


def profile(model: Model) -> WireProfile:
    """The wire profile of a model's vendor (fine-tuned models speak like their base vendor)."""
    return PROFILES[model.vendor]
