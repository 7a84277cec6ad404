"""A key's guardrails on a chat request: one applyGuardrails call, then block, redact or pass.

Every text the model would read (each message's string content and text parts, of every role) is
joined into one `input`, so OCI's PII offsets point into one string; each span is mapped back to
its message and replaced by `[LABEL]` before the model sees it. Images are not sent to the check.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from oci_genai_gateway.core.access.grant import Grant
from oci_genai_gateway.core.access.guardrails import ContentPolicyViolation, Guardrails, PiiAction
from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.upstream import guardrails
from oci_genai_gateway.core.upstream.guardrails import Checks, GuardrailResult, PiiSpan
from oci_genai_gateway.core.upstream.http import OciHttp

SEPARATOR = "\n\n"


@dataclass(frozen=True)
class _Segment:
    """One text of the request: where it lives (message, part or None) and where it starts when joined."""

    message: int
    part: int | None
    start: int
    text: str


def checks_of(policy: Guardrails) -> Checks:
    """The OCI guardrails a key's policy needs."""
    return Checks(
        moderation=policy.moderation,
        pii=policy.pii is not None,
        prompt_injection=policy.prompt_injection is not None,
    )


async def guard_input(chat: ChatRequest, oci: OciHttp, grant: Grant, route: str) -> ChatRequest:
    """The request as the model may see it; ContentPolicyViolation (metered as blocked) otherwise."""
    policy = grant.policy.guardrails if grant.policy is not None else None
    if policy is None or not policy.active:
        return chat
    segments = _segments(chat.messages)
    if not segments:
        return chat
    joined = SEPARATOR.join(s.text for s in segments)
    body = guardrails.details([joined], [], checks_of(policy), oci.settings.compartment_id)
    found = await guardrails.apply(oci, body)
    tripped = tripped_by(policy, found)
    if tripped:
        grant.blocked(route, chat.model, chat.target, tripped)
        raise ContentPolicyViolation(tripped)
    if policy.pii is PiiAction.REDACT and found.pii:
        return replace(chat, messages=_redacted(chat.messages, segments, found.pii))
    return chat


def tripped_by(policy: Guardrails, found: GuardrailResult) -> list[str]:
    """What blocks the text under `policy` (names only, never the text)."""
    tripped = [f"moderation ({name})" for name in found.moderation_flagged] if policy.moderation else []
    threshold = policy.prompt_injection
    if threshold is not None and found.prompt_injection is not None and found.prompt_injection > threshold:
        tripped.append(f"prompt_injection (score {found.prompt_injection:g} > {threshold:g})")
    if policy.pii is PiiAction.BLOCK and found.pii:
        labels = sorted({span.label for span in found.pii})
        tripped.append(f"pii ({', '.join(labels)})")
    return tripped


def _segments(messages: list[dict[str, Any]]) -> list[_Segment]:
    segments: list[_Segment] = []
    start = 0
    for index, message in enumerate(messages):
        content = message.get("content")
        texts: list[tuple[int | None, str]] = []
        if isinstance(content, str):
            texts.append((None, content))
        elif isinstance(content, list):
            for number, part in enumerate(content):
                if (
                    isinstance(part, dict)
                    and part.get("type") == "text"
                    and isinstance(part.get("text"), str)
                ):
                    texts.append((number, part["text"]))
        for part, text in texts:
            if text:
                segments.append(_Segment(index, part, start, text))
                start += len(text) + len(SEPARATOR)
    return segments


def _redacted(
    messages: list[dict[str, Any]], segments: list[_Segment], spans: tuple[PiiSpan, ...]
) -> list[dict[str, Any]]:
    """A copy of `messages` with every span replaced by `[LABEL]` (last first, so offsets hold)."""
    texts = {(s.message, s.part): s.text for s in segments}
    for span in sorted(spans, key=lambda s: s.offset, reverse=True):
        for segment in segments:
            end = segment.start + len(segment.text)
            if segment.start <= span.offset < end:
                key = (segment.message, segment.part)
                local = span.offset - segment.start
                stop = min(local + span.length, len(segment.text))
                text = texts[key]
                texts[key] = f"{text[:local]}[{span.label}]{text[stop:]}"
                break
    out = list(messages)
    for (index, part), text in texts.items():
        message = copy.copy(out[index])
        if part is None:
            message["content"] = text
        else:
            message["content"] = [dict(p) for p in message["content"]]
            message["content"][part]["text"] = text
        out[index] = message
    return out


async def guard_output(
    completion: dict[str, Any], chat: ChatRequest, oci: OciHttp, grant: Grant, route: str
) -> dict[str, Any]:
    """A non-streamed answer under the key's guardrails (GATEWAY_GUARDRAILS_OUTPUT): block or redact."""
    policy = grant.policy.guardrails if grant.policy is not None else None
    if policy is None or not policy.active:
        return completion
    messages = [choice.get("message") or {} for choice in completion.get("choices") or []]
    segments = _segments(messages)
    if not segments:
        return completion
    joined = SEPARATOR.join(s.text for s in segments)
    checks = replace(checks_of(policy), prompt_injection=False)  # the model's own words inject nothing
    found = await guardrails.apply(oci, guardrails.details([joined], [], checks, oci.settings.compartment_id))
    tripped = tripped_by(policy, found)
    if tripped:
        grant.blocked(route, chat.model, chat.target, tripped)
        raise ContentPolicyViolation(tripped, where="answer")
    if policy.pii is not PiiAction.REDACT or not found.pii:
        return completion
    redacted = _redacted(messages, segments, found.pii)
    choices = [
        {**choice, "message": message}
        for choice, message in zip(completion["choices"], redacted, strict=True)
    ]
    return {**completion, "choices": choices}
