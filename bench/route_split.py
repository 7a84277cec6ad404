"""One function or three for chat, Responses and Messages: cold starts, warm first calls and peak RSS.

Run from the repository root (numbers go to docs/PERFORMANCE.md, "One function, three APIs"):

    .venv/bin/python -m bench.route_split --runs 3

Under the real fdk server, as bench/cold_start.py measures (precompiled bytecode, as the image has):
- shared: functions/chat/func.py, which serves all three APIs. Its cold start to a first
  /v1/responses answer; then, on a container warmed by one chat call, the first /v1/responses
  and /v1/messages calls (what a client of the new APIs meets when chat traffic keeps it warm);
  the peak RSS after chat alone, and after a working set of all three APIs, streams included.
- split: a dedicated responses function and a dedicated messages function (the three-line func.py
  each would have), cold start to their first answer and peak RSS after their own working set.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from bench.cold_start import (
    ROOT,
    Call,
    Subject,
    cold_start,
    fdk_client,
    function_env,
    invoke,
    spawn_fdk,
    wait_listening,
)

_DEDICATED = """from oci_genai_gateway.adapters.fn import fdk_handler

handler = fdk_handler("{route}", "POST")
"""
_MODEL = "meta.llama-3.3-70b-instruct"
_HI = [{"role": "user", "content": "hi"}]
_CHAT = Call("POST", "/genai/v1/chat/completions", {"model": _MODEL, "messages": _HI})
_CHAT_STREAM = Call("POST", "/genai/v1/chat/completions", {"model": _MODEL, "messages": _HI, "stream": True})
_RESPONSES = Call("POST", "/genai/v1/responses", {"model": _MODEL, "input": "Say hello"})
_RESPONSES_STREAM = Call(
    "POST", "/genai/v1/responses", {"model": _MODEL, "input": "Say hello", "stream": True}
)
_MESSAGES_BODY = {"model": _MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello"}]}
_MESSAGES = Call("POST", "/genai/v1/messages", _MESSAGES_BODY)
_MESSAGES_STREAM = Call("POST", "/genai/v1/messages", {**_MESSAGES_BODY, "stream": True})
_BIG = {"model": _MODEL, "input": "x" * (5 * 1024 * 1024), "max_output_tokens": 8}


def subjects(workdir: Path) -> list[Subject]:
    """The shared chat function (chat only, then all three APIs) and the two dedicated functions."""
    dedicated = {}
    for name, route in (("responses", "/v1/responses"), ("messages", "/v1/messages")):
        func = workdir / name / "func.py"
        func.parent.mkdir()
        func.write_text(_DEDICATED.format(route=route))
        dedicated[name] = func
    chat = ROOT / "functions" / "chat" / "func.py"
    big = Call("POST", "/genai/v1/responses", _BIG)
    return [
        Subject(
            "shared: chat only", chat, _CHAT, (Call(_CHAT.method, _CHAT.url, {**_CHAT.body, "stream": True}),)
        ),  # type: ignore[dict-item]
        Subject(
            "shared: all three APIs",
            chat,
            _RESPONSES,
            (_CHAT, _RESPONSES_STREAM, _MESSAGES, _MESSAGES_STREAM, big),
        ),
        Subject("split: responses", dedicated["responses"], _RESPONSES, (_RESPONSES_STREAM, big)),
        Subject("split: messages", dedicated["messages"], _MESSAGES, (_MESSAGES_STREAM,)),
    ]


def warm_first_calls(func: Path, env: Mapping[str, str], workdir: Path) -> tuple[float, float]:
    """Seconds to the first /v1/responses and /v1/messages answers of a chat-warmed container."""
    process, sock = spawn_fdk(func, env, workdir)
    try:
        wait_listening(process, sock, func.parent.name)
        with fdk_client(sock) as client:
            invoke(client, _CHAT)  # the container is warm: its gateway and LiteLLM are built
            started = time.perf_counter()
            invoke(client, _RESPONSES)
            responses = time.perf_counter() - started
            started = time.perf_counter()
            invoke(client, _MESSAGES)
            return responses, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)


def measure(runs: int, workdir: Path, log: Callable[[str], None]) -> str:
    """Every subject `runs` times (interleaved) and the warm first calls; a markdown report."""
    from oci_genai_emulator import EmulatorProcess

    emulator = EmulatorProcess.start(workdir / "emulator")
    try:
        env = function_env(
            emulator.url, emulator.mint_resource_principal(workdir / "rp"), bytecode=True, prefix=workdir
        )
        cold: dict[str, list[tuple[float, float]]] = {}
        warm: list[tuple[float, float]] = []
        for run in range(runs):
            for subject in subjects(Path(tempfile.mkdtemp(dir=workdir))):
                sample = cold_start(subject, env, workdir)
                cold.setdefault(subject.name, []).append((sample.first_response_s, sample.peak_rss_mib))
                log(f"run {run + 1}: {subject.name} {sample}")
            warm.append(warm_first_calls(ROOT / "functions" / "chat" / "func.py", env, workdir))
            log(f"run {run + 1}: warm first calls {warm[-1]}")
    finally:
        emulator.stop()
    lines = [
        f"Median of {runs} runs each, precompiled bytecode.",
        "",
        "| function | first request | cold start to first answer (s) | peak RSS (MiB) |",
        "| --- | --- | ---: | ---: |",
    ]
    firsts = {"shared: chat only": "chat", "shared: all three APIs": "responses"}
    for name, samples in cold.items():
        first = statistics.median(s[0] for s in samples)
        rss = statistics.median(s[1] for s in samples)
        lines.append(f"| {name} | {firsts.get(name, name.split(': ')[1])} | {first:.2f} | {rss:.0f} |")
    responses, messages = (statistics.median(w[i] for w in warm) for i in (0, 1))
    lines += [
        "",
        "First call of each new API on a chat-warmed shared container (s): "
        f"responses {responses:.3f}, messages {messages:.3f}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="split-", dir="/tmp") as tmp:
        print(measure(args.runs, Path(tmp), lambda line: print(line, file=sys.stderr)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
