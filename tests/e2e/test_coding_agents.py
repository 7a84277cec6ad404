"""Real coding agents through the gateway: Claude Code (Messages API), Codex CLI (Responses API), OpenCode.

Each agent runs non-interactively (`claude -p`, `codex exec`, `opencode run`) at its pinned version
(tests/agents/), through both ways clients reach the gateway (the ASGI server and `make run`'s
API Gateway over the fdk functions), for a GENERIC, a COHERE and a reasoning model:

- a prompt: the agent prints the emulator's deterministic reply to the very prompt OCI received;
- a tool loop: the emulator is scripted (`POST /_emulator/answers`) to call one of the agent's own
  tools with a harmless command, the agent runs it, and the result reaches OCI in the next chat
  request, which the agent then prints the answer to.

Every run is checked on three sides: what the agent printed (and its exit status), what the gateway
answered it (a tap in between keeps that for the failure message; anything but a 2xx fails), and
the OCI requests the emulator received (model, API format, a stream, the agent's tools, the tool
call and its result). Where an agent sends what OCI cannot take as it is, the tests check what the
gateway made of it: Claude Code's `output_config.effort` reaches the reasoning model, Codex's hosted
`web_search` is left out and named, and a reasoning item goes to Codex and comes back.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from oci_genai_emulator import generation
from oci_genai_emulator.chat_input import Turn, read_turn
from tests.fixtures.agents import AgentRun, CodingAgents
from tests.fixtures.emulator import Emulator

# The first test may `npm ci` the agents (.ci/run does it before the suite): more than the default limit.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

GENERIC = "meta.llama-3.3-70b-instruct"
# Command R keeps OCI's COHERE (v1) format; Command A speaks COHEREV2 (core/chat/cohere_v2.py).
COHERE = "cohere.command-r-08-2024"
COHERE_V2 = "cohere.command-a-03-2025"
REASONING = "xai.grok-3-mini"  # reasons before it answers: reasoningContent and reasoning tokens
MODELS = [GENERIC, COHERE, COHERE_V2, REASONING]
FORMATS = {COHERE: "COHERE", COHERE_V2: "COHEREV2"}
PROMPT = "Say hello"
MARKER = "agent-tool-ok"  # what the scripted tool call prints


def oci_chats(emulator: Emulator, tool: str) -> list[dict[str, Any]]:
    """The chat requests OCI received that offered the agent's `tool` (an agent's main loop)."""
    return [
        e
        for e in emulator.requests("/actions/chat")
        if tool in {_tool_name(t) for t in (e.get("body") or {}).get("chatRequest", {}).get("tools") or ()}
    ]


def _tool_name(tool: dict[str, Any]) -> str:
    """A tool's name in either shape: GENERIC and COHERE name it on top, COHEREV2 nests OpenAI's function."""
    return str(tool["function"]["name"] if "function" in tool else tool["name"])


def check_oci_request(entry: dict[str, Any], model: str, run: AgentRun) -> Turn:
    """OCI got the agent's request for `model`, in the model's format, streamed, answered 200."""
    body = entry["body"]
    assert entry["status"] == 200, run.report()
    assert body["servingMode"] == {"servingType": "ON_DEMAND", "modelId": model}, run.report()
    chat = body["chatRequest"]
    assert chat["apiFormat"] == FORMATS.get(model, "GENERIC"), run.report()
    assert chat.get("isStream") is True, run.report()
    assert entry["principal"]["kind"] == "resource_principal"  # signed as a function would
    return read_turn(chat)


def check_prompt(run: AgentRun, emulator: Emulator, model: str, tool: str) -> None:
    """One chat request reached OCI with the agent's tools, and the agent printed OCI's answer to it."""
    run.check()
    [entry] = oci_chats(emulator, tool)
    turn = check_oci_request(entry, model, run)
    assert len(turn.tools) > 3, "the agent's tools reached OCI"
    assert turn.tool_result is None
    assert run.output == generation.reply_text(model, turn.prompt), run.report()


def check_tool_loop(
    run: AgentRun, emulator: Emulator, model: str, tool: str, arguments: dict[str, Any]
) -> None:
    """The scripted call went out, the agent ran it, its result came back to OCI and was answered."""
    run.check()
    asked, answered = oci_chats(emulator, tool)
    assert asked["scripted"] == {"tool_calls": [{"name": tool, "arguments": arguments}]}, run.report()
    check_oci_request(asked, model, run)
    turn = check_oci_request(answered, model, run)
    assert turn.tool_result is not None, run.report()
    name, result = turn.tool_result
    assert name == tool, run.report()
    assert MARKER in result, run.report()  # the command's output, as the agent ran it
    check_call_sent_back(answered["body"]["chatRequest"], tool, arguments, run)
    assert run.output == generation.tool_result_text(model, name, result), run.report()


def check_call_sent_back(chat: dict[str, Any], tool: str, arguments: dict[str, Any], run: AgentRun) -> None:
    """The second OCI request restates the model's call next to its result, as OCI expects it."""
    if chat["apiFormat"] == "COHERE":
        [result] = chat.get("toolResults") or chat["chatHistory"][-1]["toolResults"]
        assert result["call"] == {"name": tool, "parameters": arguments}, run.report()
        calls = [c for h in chat["chatHistory"] if h["role"] == "CHATBOT" for c in h.get("toolCalls") or ()]
        assert calls == [{"name": tool, "parameters": arguments}], run.report()
        return
    *_, assistant, tool_message = chat["messages"]
    [call] = assistant["toolCalls"]
    named = call["function"] if chat["apiFormat"] == "COHEREV2" else call  # v2 nests OpenAI-style
    assert (named["name"], json.loads(named["arguments"])) == (tool, arguments), run.report()
    assert tool_message["role"] == "TOOL", run.report()
    assert tool_message["toolCallId"] == call["id"], run.report()


# -- Claude Code: the Anthropic Messages API ------------------------------------------------------------

BASH = {"command": f"echo {MARKER}", "description": "Print a marker"}


@pytest.mark.parametrize("model", MODELS)
def test_claude_code_answers_a_prompt(
    model: str, api_base_url: str, coding_agents: CodingAgents, emulator: Emulator
) -> None:
    run = coding_agents.claude_code(api_base_url, model, PROMPT)
    check_prompt(run, emulator, model, "Bash")
    assert all(path.startswith("/v1/messages") for path in run.tap.paths()), run.report()
    if model == REASONING:
        # Claude Code asks for `output_config: {"effort": "high"}`: the reasoning model is told so.
        [entry] = oci_chats(emulator, "Bash")
        assert entry["body"]["chatRequest"].get("reasoningEffort") == "HIGH", run.report()


@pytest.mark.parametrize("model", MODELS)
def test_claude_code_runs_a_tool_and_its_result_reaches_oci(
    model: str, api_base_url: str, coding_agents: CodingAgents, emulator: Emulator
) -> None:
    emulator.script_answer(tool_calls=[{"name": "Bash", "arguments": BASH}], model=model)
    run = coding_agents.claude_code(api_base_url, model, PROMPT, allowed_tools=[f"Bash(echo {MARKER})"])
    check_tool_loop(run, emulator, model, "Bash", BASH)


# -- Codex CLI: the OpenAI Responses API ----------------------------------------------------------------

EXEC = {"cmd": f"echo {MARKER}", "login": False}


@pytest.mark.parametrize("model", MODELS)
def test_codex_answers_a_prompt(
    model: str, api_base_url: str, coding_agents: CodingAgents, emulator: Emulator
) -> None:
    run = coding_agents.codex(api_base_url, model, PROMPT)
    check_prompt(run, emulator, model, "exec_command")
    assert set(run.tap.paths()) == {"/v1/responses"}, run.report()
    check_hosted_tool_omitted(run)


def check_hosted_tool_omitted(run: AgentRun) -> None:
    """Codex offers the hosted `web_search`, which OCI cannot run: left out, and said so."""
    for exchange in run.tap.exchanges:
        assert exchange.headers.get("x-gateway-omitted-tools") == "web_search", run.report()


@pytest.mark.parametrize("model", MODELS)
def test_codex_runs_a_tool_and_its_result_reaches_oci(
    model: str, api_base_url: str, coding_agents: CodingAgents, emulator: Emulator
) -> None:
    emulator.script_answer(tool_calls=[{"name": "exec_command", "arguments": EXEC}], model=model)
    run = coding_agents.codex(api_base_url, model, PROMPT)
    check_tool_loop(run, emulator, model, "exec_command", EXEC)
    check_hosted_tool_omitted(run)
    # A reasoning model's reasoning item (Command A's tool plan is one too) went to Codex and comes
    # back with the tool's output.
    first, second = (exchange.request_json() for exchange in run.tap.exchanges)
    returned = [item for item in second["input"] if item.get("type") == "reasoning"]
    assert not any(item.get("type") == "reasoning" for item in first["input"])
    if model in (REASONING, COHERE_V2):
        [reasoning] = returned
        assert reasoning["encrypted_content"], run.report()
    else:
        assert returned == [], run.report()


# -- OpenCode: OpenAI's Chat Completions ----------------------------------------------------------------

OPENCODE_BASH = {"command": f"echo {MARKER}", "description": "Print a marker"}


def test_opencode_answers_a_prompt(
    api_base_url: str, coding_agents: CodingAgents, emulator: Emulator
) -> None:
    run = coding_agents.opencode(api_base_url, GENERIC, PROMPT)
    check_prompt(run, emulator, GENERIC, "bash")
    assert set(run.tap.paths()) == {"/v1/chat/completions"}, run.report()


def test_opencode_runs_a_tool_and_its_result_reaches_oci(
    api_base_url: str, coding_agents: CodingAgents, emulator: Emulator
) -> None:
    emulator.script_answer(tool_calls=[{"name": "bash", "arguments": OPENCODE_BASH}], model=GENERIC)
    run = coding_agents.opencode(api_base_url, GENERIC, PROMPT)
    check_tool_loop(run, emulator, GENERIC, "bash", OPENCODE_BASH)
