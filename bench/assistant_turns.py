"""What putting back assistant turns' text and reasoning costs in OCI's body (core/chat/body.py).

Run from the repository root:

    .venv/bin/python -m bench.assistant_turns --turns 40 --rounds 5

Builds OCI's chat body for one agent conversation (a system prompt, a task, `--turns` tool-calling
assistant turns each with text and reasoning, and their tool results) with `chat_body`, alternating
rounds without and with `_restore_assistant_turns`; reports the median time per body of each and
their ratio. In process, no network: a change this small is invisible end to end on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from oci_genai_gateway.core.chat import body
from oci_genai_gateway.core.chat.request import ChatRequest, parse
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.targets import Target

SETTINGS = Settings.from_env(
    {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..bench"}
)
TOOL = {"type": "object", "properties": {"command": {"type": "string"}}}


def conversation(turns: int) -> ChatRequest:
    """An agent's conversation: `turns` tool-calling turns with text and reasoning, and their results."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a coding agent. " * 50},
        {"role": "user", "content": "Fix the failing tests. " * 20},
    ]
    for i in range(turns):
        arguments = json.dumps({"command": "pytest -q tests/" * 3})
        call = {"id": f"call_{i}", "type": "function", "function": {"name": "bash", "arguments": arguments}}
        thought = "The failure is in the parser; run the tests again. " * 15
        messages.append(
            {
                "role": "assistant",
                "content": "Let me run them.",
                "tool_calls": [call],
                "reasoning_content": thought,
            }
        )
        messages.append({"role": "tool", "tool_call_id": f"call_{i}", "content": "F." * 400})
    tools = [{"type": "function", "function": {"name": "bash", "parameters": TOOL}}]
    return parse({"model": "xai.grok-4", "messages": messages, "tools": tools}, Target)


def seconds_per_body(request: ChatRequest, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        body.chat_body(request, SETTINGS)
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bodies", type=int, default=300, help="bodies built per round")
    args = parser.parse_args()
    request = conversation(args.turns)
    restore = body._restore_assistant_turns
    seconds_per_body(request, 50)  # warm up LiteLLM's transform
    before, after = [], []
    for _ in range(args.rounds):
        body._restore_assistant_turns = lambda _messages, _built: None
        before.append(seconds_per_body(request, args.bodies))
        body._restore_assistant_turns = restore
        after.append(seconds_per_body(request, args.bodies))
    old, new = statistics.median(before), statistics.median(after)
    print(
        f"{len(request.messages)} messages: without {old * 1e3:.3f} ms, with {new * 1e3:.3f} ms "
        f"per body; ratio {new / old:.3f}"
    )


if __name__ == "__main__":
    main()
