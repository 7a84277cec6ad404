"""CPU of building OCI's chat body: the gateway's COHEREV2 transform against LiteLLM's (COHERE, GENERIC).

Run from the repository root (numbers go to docs/PERFORMANCE.md, "Request transforms"):

    .venv/bin/python -m bench.request_transform --rounds 5 --calls 300

The same validated chat request (a system prompt, ten user/assistant turns, ten function tools) is
built into a body for a model of each format, `--calls` times per round, rounds interleaved; the
report gives each format's median microseconds per body and its ratio to LiteLLM's GENERIC transform.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from oci_genai_gateway.core.chat.body import api_format, chat_body
from oci_genai_gateway.core.chat.request import parse
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.targets import Target

MODELS = ("meta.llama-3.3-70b-instruct", "cohere.command-r-08-2024", "cohere.command-a-03-2025")


def _body() -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    }
    tools = [
        {
            "type": "function",
            "function": {"name": f"tool_{i}", "description": "A tool.", "parameters": schema},
        }
        for i in range(10)
    ]
    turns = [{"role": "user", "content": "hello " * 50}, {"role": "assistant", "content": "ok " * 50}] * 10
    messages = [{"role": "system", "content": "Be brief."}, *turns, {"role": "user", "content": "go"}]
    return {"messages": messages, "tools": tools, "temperature": 0.3, "max_tokens": 100}


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    settings = Settings.from_env(
        {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..x"}
    )
    requests = {m: parse({"model": m, **_body()}, Target) for m in MODELS}
    for request in requests.values():
        chat_body(request, settings)  # LiteLLM's import and first-call caches, outside the timing
    samples: dict[str, list[float]] = {m: [] for m in MODELS}
    for _ in range(args.rounds):
        for model, request in requests.items():
            start = time.perf_counter()
            for _ in range(args.calls):
                chat_body(request, settings)
            samples[model].append((time.perf_counter() - start) / args.calls * 1e6)
    base = statistics.median(samples[MODELS[0]])
    print("| format (model) | µs per body (median) | vs GENERIC (LiteLLM) |")
    print("| --- | ---: | ---: |")
    for model in MODELS:
        median = statistics.median(samples[model])
        print(f"| {api_format(model)} ({model}) | {median:.0f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
