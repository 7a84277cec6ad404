"""A lean load client for bench/peers.py: raw HTTP/1.1 over asyncio streams, in a process of its own.

    python -m bench.loadgen < spec.json > results.json

A shared httpx client with hundreds of connections costs ~25 ms of client CPU per request on these
2 cores and hid a 3x difference between servers; this client writes a prepared request and reads
the answer with one regular-expression search per received piece, so it costs a fraction of a
millisecond per request. Answers are checked only after the wall clock stopped.

Spec (JSON on stdin): host, port, mode ("stream": every request on its own connection, all at
once; "json": `concurrency` workers, each with one keep-alive connection, taking requests in
turn), format ("openai" or "oci", how to check an answer), timeout (seconds per request) and
requests: [{path, headers, body, expect}]. Output (JSON on stdout): wall and cpu seconds, and per
request ok, ttft, latency and error.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

# The first generated text of either wire format: OpenAI deltas or OCI content (Llama's opening
# event carries an empty text, which must not count).
_FIRST_TEXT = re.compile(rb'"(?:content|text|reasoning_content|reasoningContent)":\s?"[^"]')


@dataclass
class Outcome:
    """What one request saw."""

    ok: bool = False
    ttft: float | None = None
    latency: float | None = None
    error: str | None = None


@dataclass
class Answer:
    """A raw HTTP answer."""

    status: int
    body: bytes
    ttft: float | None
    keep_alive: bool


def _request_bytes(host: str, port: int, item: dict[str, Any]) -> bytes:
    body = item["body"].encode()
    lines = [f"POST {item['path']} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in item["headers"].items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, started: float
) -> Answer:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    ttft: float | None = None
    pieces: list[bytes] = []
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                break
            piece = (await reader.readexactly(size + 2))[:-2]
            if ttft is None and _FIRST_TEXT.search(piece):
                ttft = time.perf_counter() - started
            pieces.append(piece)
    elif "content-length" in headers:
        pieces.append(await reader.readexactly(int(headers["content-length"])))
    else:
        pieces.append(await reader.read())
        headers["connection"] = "close"
    keep_alive = headers.get("connection") != "close"
    return Answer(status, b"".join(pieces), ttft, keep_alive)


async def _stream_one(spec: dict[str, Any], request: bytes, answers: list[Any], i: int) -> None:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec["timeout"]):
            reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
            try:
                answer = await _exchange(reader, writer, request, started)
            finally:
                writer.close()
        answers[i] = (answer, time.perf_counter() - started)
    except Exception as exc:
        answers[i] = f"{type(exc).__name__}: {exc}"[:300]


async def _worker(spec: dict[str, Any], requests: list[bytes], answers: list[Any], queue: list[int]) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while queue:
        i = queue.pop()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(spec["timeout"]):
                if connection is None:
                    connection = await asyncio.open_connection(spec["host"], spec["port"])
                answer = await _exchange(*connection, requests[i], started)
            answers[i] = (answer, time.perf_counter() - started)
            if not answer.keep_alive:
                connection[1].close()
                connection = None
        except Exception as exc:
            answers[i] = f"{type(exc).__name__}: {exc}"[:300]
            if connection is not None:
                connection[1].close()
                connection = None
    if connection is not None:
        connection[1].close()


def check(fmt: str, answer: Answer, expect: str) -> str | None:
    """Why an answer is wrong (status, finish, text), or None when it is right."""
    if answer.status != 200:
        return f"status {answer.status}: {answer.body[:200]!r}"
    if answer.body.startswith(b"{"):
        text, finish = _json_text(fmt, json.loads(answer.body))
    else:
        text, finish = _stream_text(fmt, answer.body)
    if finish not in ("stop", "STOP", "COMPLETE"):
        return f"finish {finish!r}: {answer.body[-200:]!r}"
    if expect not in text:
        return f"reply lacks {expect!r}: {text[:200]!r}"
    return None


def _json_text(fmt: str, body: dict[str, Any]) -> tuple[str, str | None]:
    if fmt == "openai":
        choice = body["choices"][0]
        return choice["message"]["content"] or "", choice["finish_reason"]
    choice = body["chatResponse"]["choices"][0]
    return "".join(p.get("text", "") for p in choice["message"]["content"]), choice["finishReason"]


def _stream_text(fmt: str, body: bytes) -> tuple[str, str | None]:
    parts: list[str] = []
    finish: str | None = None
    done = False
    for line in body.split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            done = True
            continue
        event = json.loads(data)
        if fmt == "openai":
            for choice in event.get("choices") or []:
                parts.append((choice.get("delta") or {}).get("content") or "")
                finish = choice.get("finish_reason") or finish
        else:
            for part in (event.get("message") or {}).get("content") or []:
                parts.append(part.get("text") or "")
            finish = event.get("finishReason") or finish
    if fmt == "openai" and not done:
        finish = f"{finish} (no [DONE])"
    return "".join(parts), finish


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Send every request of the spec; the wall clock covers sending and reading, not checking."""
    items = spec["requests"]
    requests = [_request_bytes(spec["host"], spec["port"], item) for item in items]
    answers: list[Any] = [None] * len(items)
    cpu = time.process_time()
    started = time.perf_counter()
    if spec["mode"] == "stream":
        await asyncio.gather(*(_stream_one(spec, r, answers, i) for i, r in enumerate(requests)))
    else:
        queue = list(reversed(range(len(items))))
        await asyncio.gather(*(_worker(spec, requests, answers, queue) for _ in range(spec["concurrency"])))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    outcomes = []
    for item, got in zip(items, answers, strict=True):
        if isinstance(got, tuple):
            answer, latency = got
            error = check(spec["format"], answer, item["expect"])
            outcomes.append(Outcome(error is None, answer.ttft, latency, error))
        else:
            outcomes.append(Outcome(error=str(got)))
    return {"wall": wall, "cpu": cpu, "results": [asdict(o) for o in outcomes]}


def main() -> int:
    """Read the spec from stdin, run it, write the results to stdout."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if 0 <= soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket per open stream
    spec = json.load(sys.stdin)
    json.dump(asyncio.run(run(spec)), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
