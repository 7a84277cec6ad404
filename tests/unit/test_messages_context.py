"""Context editing on /v1/messages (what OCI is sent, what `context_management` reports, streamed and
not) and POST /v1/messages/count_tokens (the estimate, its Anthropic shapes and errors), in process."""

from __future__ import annotations

import json
from typing import Any

import anthropic.types
import anthropic.types.beta as beta
import pytest

from oci_genai_gateway.adapters.fn import CHAT_ROUTE, ROUTE_FAMILIES
from oci_genai_gateway.core.apis.messages.context import PLACEHOLDER
from oci_genai_gateway.core.apis.messages.tokens import IMAGE_TOKENS, MESSAGE_TOKENS
from tests.fakes import Events, ScriptedOci, gateway, generic_answer, read_stream, send, text_event

ROUTE, COUNT = "/v1/messages", "/v1/messages/count_tokens"
READ = {"name": "read", "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}
LIST = {"name": "list", "input_schema": {"type": "object"}}


def tool_loop(*names: str, result: str = "x" * 400) -> list[dict[str, Any]]:
    """A conversation of one tool use per name, each answered with `result`, then the user's question."""
    out: list[dict[str, Any]] = [{"role": "user", "content": "Look around."}]
    for i, name in enumerate(names):
        use = {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {"path": f"/f{i}"}}
        thinking = {"type": "thinking", "thinking": "t" * 40, "signature": "s"}
        out.append({"role": "assistant", "content": [thinking, use]})
        out.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": result}],
            }
        )
    out.append({"role": "user", "content": "So?"})
    return out


def body(edits: list[dict[str, Any]] | None, names: tuple[str, ...] = ("read",) * 5, **extra: Any) -> bytes:
    fields: dict[str, Any] = {"model": "xai.grok-4", "max_tokens": 64, "messages": tool_loop(*names)}
    fields["tools"] = [READ, LIST]
    if edits is not None:
        fields["context_management"] = {"edits": edits}
    return json.dumps({**fields, **extra}).encode()


async def generate(edits: list[dict[str, Any]] | None, **extra: Any) -> tuple[ScriptedOci, Any]:
    oci = ScriptedOci().enqueue(generic_answer("Done."))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(edits, **extra))
    assert reply.status == 200, reply.body
    return oci, beta.BetaMessage.model_validate(reply.body)


def results(oci: ScriptedOci) -> list[str]:
    return [
        m["content"][0]["text"] for m in oci.sent[0].body["chatRequest"]["messages"] if m["role"] == "TOOL"
    ]


def arguments(oci: ScriptedOci) -> list[dict[str, Any]]:
    messages = oci.sent[0].body["chatRequest"]["messages"]
    return [json.loads(c["arguments"]) for m in messages for c in m.get("toolCalls") or ()]


async def test_old_tool_results_over_the_trigger_are_cleared_keeping_the_last_ones() -> None:
    edit = {"type": "clear_tool_uses_20250919", "trigger": {"type": "tool_uses", "value": 3}}
    edit["keep"] = {"type": "tool_uses", "value": 2}
    oci, message = await generate([edit])
    assert results(oci) == [PLACEHOLDER] * 3 + ["x" * 400] * 2
    assert arguments(oci)[0] == {"path": "/f0"}  # inputs are kept unless clear_tool_inputs says so
    (applied,) = message.context_management.applied_edits
    assert (applied.type, applied.cleared_tool_uses) == ("clear_tool_uses_20250919", 3)
    # 400 characters (100 tokens) each, less the placeholder's characters / 4 rounded up.
    assert applied.cleared_input_tokens == 3 * (100 - -(-len(PLACEHOLDER) // 4))


async def test_excluded_tools_are_kept_and_cleared_inputs_are_emptied() -> None:
    edit = {
        "type": "clear_tool_uses_20250919",
        "trigger": {"type": "input_tokens", "value": 10},
        "keep": {"type": "tool_uses", "value": 1},
        "exclude_tools": ["list"],
        "clear_tool_inputs": True,
    }
    oci, message = await generate([edit], names=("read", "list", "read", "read"))
    assert results(oci) == [PLACEHOLDER, "x" * 400, PLACEHOLDER, "x" * 400]
    assert arguments(oci) == [{}, {"path": "/f1"}, {}, {"path": "/f3"}]
    assert message.context_management.applied_edits[0].cleared_tool_uses == 2


@pytest.mark.parametrize(
    "edit",
    [
        {"type": "clear_tool_uses_20250919"},  # the default trigger: 100,000 input tokens
        {"type": "clear_tool_uses_20250919", "trigger": {"type": "tool_uses", "value": 5}},  # not exceeded
        {  # would clear, but not the 10,000 tokens asked for at least
            "type": "clear_tool_uses_20250919",
            "trigger": {"type": "tool_uses", "value": 1},
            "clear_at_least": {"type": "input_tokens", "value": 10_000},
        },
        {"type": "clear_thinking_20251015", "keep": "all"},
        {"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns", "value": 5}},
    ],
)
async def test_an_edit_whose_condition_is_not_met_changes_nothing_and_reports_nothing(
    edit: dict[str, Any],
) -> None:
    oci, message = await generate([edit])
    assert results(oci) == ["x" * 400] * 5
    assert message.context_management.model_dump() == {"applied_edits": []}


async def test_thinking_of_older_turns_is_reported_cleared_and_only_the_kept_turns_reaches_oci() -> None:
    oci, message = await generate([{"type": "clear_thinking_20251015"}])  # keeps 1 turn by default
    (applied,) = message.context_management.applied_edits
    assert (applied.type, applied.cleared_thinking_turns, applied.cleared_input_tokens) == (
        "clear_thinking_20251015",
        4,
        4 * 10,  # 40 characters of thinking each
    )
    messages = oci.sent[0].body["chatRequest"]["messages"]
    thoughts = [m.get("reasoningContent") for m in messages if m["role"] == "ASSISTANT"]
    assert thoughts == [None] * 4 + ["t" * 40]  # the kept turn's thinking goes back to the model


async def test_without_the_edit_every_turns_thinking_reaches_oci() -> None:
    oci, _ = await generate(None)
    messages = oci.sent[0].body["chatRequest"]["messages"]
    assert [m.get("reasoningContent") for m in messages if m["role"] == "ASSISTANT"] == ["t" * 40] * 5


async def test_an_edit_the_gateway_cannot_do_is_reported_not_applied_never_refused() -> None:
    edits = [{"type": "compact_20260112"}, {"type": "clear_everything_20270101"}]
    _, message = await generate(edits)
    report = message.context_management.model_dump()
    assert report["applied_edits"] == []
    assert [e["type"] for e in report["not_applied_edits"]] == [
        "compact_20260112",
        "clear_everything_20270101",
    ]
    assert all(e["reason"] for e in report["not_applied_edits"])


async def test_no_context_management_asked_none_reported() -> None:
    oci = ScriptedOci().enqueue(generic_answer("Done."))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(None))
    assert "context_management" not in reply.body


async def test_a_stream_reports_the_edits_in_message_delta() -> None:
    edit = {"type": "clear_tool_uses_20250919", "trigger": {"type": "tool_uses", "value": 0}}
    oci = ScriptedOci().enqueue(Events([text_event("Done."), {"finishReason": "stop"}, {"usage": {}}]))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body([edit], stream=True))
    seen = [json.loads(b.split("\n")[1][6:]) for b in (await read_stream(reply)).decode().split("\n\n") if b]
    start, delta = seen[0], seen[-2]
    assert "context_management" not in start["message"]
    event = beta.BetaRawMessageDeltaEvent.model_validate(delta)
    assert event.context_management is not None
    assert [(e.type, e.cleared_tool_uses) for e in event.context_management.applied_edits] == [  # type: ignore[union-attr]
        ("clear_tool_uses_20250919", 2)
    ]


@pytest.mark.parametrize(
    ("edits", "named"),
    [
        ("all", "context_management"),
        ([{"keep": 1}], "context_management.edits[0]"),
        (
            [{"type": "clear_tool_uses_20250919", "keep": {"type": "tool_uses", "value": "2"}}],
            ".edits[0].keep",
        ),
        (
            [{"type": "clear_tool_uses_20250919", "trigger": {"type": "turns", "value": 2}}],
            ".edits[0].trigger",
        ),
        ([{"type": "clear_tool_uses_20250919", "exclude_tools": "read"}], ".edits[0].exclude_tools"),
        ([{"type": "clear_tool_uses_20250919", "clear_tool_inputs": 1}], ".edits[0].clear_tool_inputs"),
        ([{"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns"}}], ".edits[0].keep"),
    ],
)
async def test_a_malformed_edit_is_an_anthropic_400_naming_it(edits: Any, named: str) -> None:
    oci = ScriptedOci()
    gw, _ = gateway(oci)
    reply = await send(
        gw,
        "POST",
        ROUTE,
        json.dumps({**json.loads(body(None)), "context_management": {"edits": edits}}).encode(),
    )
    assert reply.status == 400
    anthropic.types.ErrorResponse.model_validate(reply.body)
    assert named in reply.body["error"]["message"]
    assert oci.sent == []


# --- count_tokens ----------------------------------------------------------------------------------


async def count(payload: dict[str, Any], **env: str) -> Any:
    oci = ScriptedOci()
    gw, _ = gateway(oci, **env)
    reply = await send(gw, "POST", COUNT, json.dumps(payload).encode(), {"anthropic-version": "2023-06-01"})
    assert oci.sent == []  # an estimate: OCI is never asked
    return reply


async def test_count_tokens_is_characters_over_four_of_what_the_model_reads() -> None:
    system, question = "s" * 40, "q" * 41
    reply = await count(
        {"model": "xai.grok-4", "system": system, "messages": [{"role": "user", "content": question}]}
    )
    assert reply.status == 200
    counted = anthropic.types.MessageTokensCount.model_validate(reply.body)
    assert counted.input_tokens == (MESSAGE_TOKENS + 10) + (MESSAGE_TOKENS + 11)  # 41 characters: 11 tokens
    picture = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    with_image = {"model": "m", "messages": [{"role": "user", "content": [picture]}]}
    assert (await count(with_image)).body == {"input_tokens": MESSAGE_TOKENS + IMAGE_TOKENS}


async def test_count_tokens_counts_tools_and_reports_the_count_before_context_edits() -> None:
    payload = json.loads(body(None))
    del payload["max_tokens"]
    plain = (await count(payload)).body["input_tokens"]
    no_tools = (await count({**payload, "tools": []})).body["input_tokens"]
    functions = [{"name": t["name"], "parameters": t["input_schema"]} for t in (READ, LIST)]
    assert plain - no_tools == sum(-(-len(json.dumps(f, separators=(",", ":"))) // 4) for f in functions)
    edit = {"type": "clear_tool_uses_20250919", "trigger": {"type": "tool_uses", "value": 0}}
    reply = await count({**payload, "context_management": {"edits": [edit]}})
    counted = beta.BetaMessageTokensCount.model_validate(reply.body)
    assert counted.context_management is not None
    assert counted.context_management.original_input_tokens == plain
    assert counted.input_tokens < plain  # of five tool uses, keep's default 3 stay: two results cleared


@pytest.mark.parametrize(
    ("payload", "status", "named"),
    [
        ({"model": "m"}, 400, "messages"),
        ({"messages": [{"role": "user", "content": "hi"}]}, 400, "model"),
        (
            {"model": "m", "messages": [{"role": "user", "content": "hi"}], "mcp_servers": []},
            400,
            "mcp_servers",
        ),
    ],
)
async def test_count_tokens_errors_are_anthropics(payload: dict[str, Any], status: int, named: str) -> None:
    reply = await count(payload)
    assert reply.status == status
    anthropic.types.ErrorResponse.model_validate(reply.body)
    assert named in reply.body["error"]["message"]


async def test_count_tokens_takes_post_only_and_a_key() -> None:
    gw, _ = gateway(ScriptedOci(), GATEWAY_API_KEYS="primary:sk-inprocess-key-0001")
    for method, status, kind in (("POST", 401, "authentication_error"), ("GET", 401, "authentication_error")):
        reply = await send(gw, method, COUNT)
        assert (reply.status, reply.body["error"]["type"]) == (status, kind)
    reply = await send(gw, "GET", COUNT, headers={"x-api-key": "sk-inprocess-key-0001"})
    assert (reply.status, reply.headers["Allow"], reply.body["type"]) == (405, "POST", "error")


async def test_the_chat_function_serves_count_tokens_under_its_messages_family() -> None:
    gw, _ = gateway(ScriptedOci(), serves=ROUTE_FAMILIES[CHAT_ROUTE])
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    reply = await send(gw, "POST", COUNT, json.dumps(payload).encode())
    assert (reply.status, reply.body) == (200, {"input_tokens": MESSAGE_TOKENS + 1})
