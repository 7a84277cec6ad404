"""The compose target end to end: OpenAI SDK -> HTTPS -> real Caddy (shipped Caddyfile) -> gateway."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from oci_genai_emulator.generation import split_tokens
from tests.deploy_files import read_containerfile
from tests.fixtures.caddy import CaddyProcess
from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import (
    ALLOWED_ORIGIN,
    KEY,
    GatewayProcess,
    free_port,
    gateway_env,
    stop,
    wait_ready,
)
from tests.openapi import validate

# The real Caddy binary in front of a real server.
pytestmark = pytest.mark.slow

MODEL = "meta.llama-3.3-70b-instruct"
CHAT_PATH = "/20231130/actions/chat"
HOLD_AFTER = 3  # GENERIC streams open with an empty event, so two tokens precede the hold
_BOUND = 60.0  # a liveness bound on waits, never a performance assertion


def poll(condition: Any, what: str, bound: float = _BOUND) -> None:
    """Wait until `condition()` is true; fail naming `what` if it never becomes true."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.02)


@pytest.fixture
def sdk(caddy: CaddyProcess, emulator: Emulator) -> Iterator[openai.OpenAI]:
    """The OpenAI SDK through Caddy, with the emulator reset around the test."""
    emulator.reset()
    with caddy.client() as client:
        yield client
    emulator.reset()


def ask(sdk: openai.OpenAI, prompt: str) -> str:
    """The non-streamed answer to `prompt` (the emulator is deterministic)."""
    response = sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
    return response.choices[0].message.content or ""


def test_chat_through_caddy(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Greetings from Caddy"}]
    )
    assert response.headers["x-request-id"]
    body = json.loads(response.http_response.text)
    validate(body, "CreateChatCompletionResponse")
    assert body["model"] == MODEL
    assert "Greetings from Caddy" in body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "stop"


def test_stream_through_caddy(sdk: openai.OpenAI) -> None:
    expected = ask(sdk, "Stream through Caddy")
    chunks = []
    for chunk in sdk.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Stream through Caddy"}],
        stream=True,
        stream_options={"include_usage": True},
    ):
        body = json.loads(chunk.model_dump_json(exclude_unset=True))
        validate(body, "CreateChatCompletionStreamResponse")
        chunks.append(body)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == expected
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] > 0
    assert len({c["id"] for c in chunks}) == 1


def test_embeddings_through_caddy(sdk: openai.OpenAI) -> None:
    response = sdk.embeddings.create(model="cohere.embed-english-v3.0", input=["one", "two"])
    body = json.loads(response.model_dump_json())
    validate(body, "CreateEmbeddingResponse")
    assert [len(item.embedding) for item in response.data] == [1024, 1024]


def test_models_through_caddy(sdk: openai.OpenAI) -> None:
    ids = {model.id for model in sdk.models.list()}
    assert {MODEL, "cohere.embed-english-v3.0"} <= ids
    assert sdk.models.retrieve(MODEL).id == MODEL


def test_wrong_or_missing_key_is_401_through_caddy(caddy: CaddyProcess) -> None:
    with caddy.client(key="sk-wrong-key") as client, pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    with caddy.http() as http:
        missing = http.post(f"{caddy.base_url}/chat/completions", json={"model": MODEL, "messages": []})
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"


def test_cors_preflight_from_the_allowed_origin_passes_through_caddy(caddy: CaddyProcess) -> None:
    headers = {
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    with caddy.http() as http:
        allowed = http.options(f"{caddy.base_url}/chat/completions", headers=headers)
        refused = http.options(
            f"{caddy.base_url}/chat/completions", headers={**headers, "Origin": "https://evil.example"}
        )
        listing = http.get(
            f"{caddy.base_url}/models", headers={"Origin": ALLOWED_ORIGIN, "Authorization": f"Bearer {KEY}"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert refused.headers.get("access-control-allow-origin") != "https://evil.example"
    assert listing.status_code == 200
    assert listing.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "x-request-id" in listing.headers["access-control-expose-headers"].lower()


def _read_stream(sdk: openai.OpenAI, prompt: str, out: queue.Queue[str | BaseException | None]) -> None:
    """Stream `prompt` and put each content piece on `out`, then None (or the exception)."""
    try:
        stream = sdk.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt}], stream=True
        )
        with stream:
            for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta.content:
                        out.put(choice.delta.content)
        out.put(None)
    except BaseException as exc:  # handed to the test thread, which fails with it
        out.put(exc)


def test_chunks_reach_the_client_while_oci_still_holds_the_stream(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    prompt = "Incremental streaming through Caddy"
    expected = ask(sdk, prompt)
    before_hold = "".join(split_tokens(expected)[: HOLD_AFTER - 1])
    emulator.inject_fault(f"hold={HOLD_AFTER}", path=CHAT_PATH, count=1)
    received: queue.Queue[str | BaseException | None] = queue.Queue()
    # Even the response headers could be held back by a buffering proxy: the reader owns the call.
    reader = threading.Thread(target=_read_stream, args=(sdk, prompt, received), daemon=True)
    reader.start()
    try:
        emulator.wait_held(1)
        text = ""
        while text != before_hold:
            try:
                item = received.get(timeout=_BOUND)
            except queue.Empty:
                pytest.fail(f"only {text!r} of {before_hold!r} reached the client while OCI held the stream")
            assert isinstance(item, str), f"stream ended early: {item!r}"
            text += item
        # The first tokens crossed Caddy and the gateway, and OCI has not sent another byte since.
        assert emulator.held() == 1
        assert received.empty()
        assert emulator.release() == 1
        while (item := received.get(timeout=_BOUND)) is not None:
            assert isinstance(item, str), f"stream failed: {item!r}"
            text += item
        assert text == expected
    finally:
        emulator.release()
        reader.join(timeout=_BOUND)


@pytest.fixture(params=["direct", "caddy"])
def front(request: pytest.FixtureRequest, gateway: GatewayProcess) -> tuple[str, httpx.Client]:
    """The gateway's base URL and an HTTP client for it: directly, or through Caddy over HTTPS."""
    if request.param == "direct":
        return gateway.url, httpx.Client(timeout=30)
    caddy: CaddyProcess = request.getfixturevalue("caddy")
    return caddy.url, caddy.http(timeout=30)


def test_client_disconnect_mid_stream_closes_the_oci_stream(
    front: tuple[str, httpx.Client], gateway: GatewayProcess, emulator: Emulator
) -> None:
    url, http = front
    emulator.reset()
    emulator.inject_fault(f"hold={HOLD_AFTER}", path=CHAT_PATH, count=1)
    request_id = f"disconnect-{uuid.uuid4().hex}"
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Leaving early"}], "stream": True}
    headers = {"Authorization": f"Bearer {KEY}", "X-Request-Id": request_id}
    with http:
        with http.stream("POST", f"{url}/v1/chat/completions", json=body, headers=headers) as response:
            assert response.status_code == 200
            lines = response.iter_lines()  # keep a reference: dropping it would already hang up
            first = next(line for line in lines if line.startswith("data:"))
            assert json.loads(first[5:])["choices"][0]["delta"]["content"]
            emulator.wait_held(1)
        # The client has hung up without reading on. Without a release, the only way the emulator's
        # held count drops is its connection from the gateway closing: the upstream call was cancelled.
        poll(lambda: emulator.held() == 0, "the gateway closed its OCI stream after the client left")

        def handled() -> bool:
            return any(
                e.get("request_id") == request_id and e.get("event") == "request" for e in gateway.logs()
            )

        poll(handled, "the gateway finished the abandoned request")  # its task ended, not leaked
        follow_up = http.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {KEY}"})
        assert follow_up.status_code == 200
    problems = [e for e in gateway.logs() if e.get("request_id") == request_id and e["level"] == "ERROR"]
    assert problems == []


def test_container_entrypoint_is_the_command_the_suite_runs(
    gateway: GatewayProcess, emulator: Emulator, tmp_path: Path
) -> None:
    image = read_containerfile()
    argv = image.entrypoint + image.cmd
    assert argv[0] == "python"
    suite = [str(a) for a in gateway.process.args]
    assert suite[: len(argv)] == [sys.executable, *argv[1:]]
    # What the suite adds on the command line, the image sets through GATEWAY_HOST/GATEWAY_PORT; the
    # suite also pins one worker, where the image serves with one per CPU (serve's default).
    added = suite[len(argv) :]
    assert added[:3] == ["--host", image.env["GATEWAY_HOST"], "--port"]
    assert added[4:] == ["--workers", "1"]
    assert "GATEWAY_WORKERS" not in image.env

    # Run the entrypoint as the container does: the image's ENV, gateway.env over it (here the test
    # settings: resource principal on the emulator), and a free port instead of 8080.
    port = free_port()
    env = {k: v for k, v in image.env.items() if k != "PATH"}
    env.update(gateway_env(emulator, emulator.mint_resource_principal(tmp_path / "rp")))
    env["GATEWAY_PORT"] = str(port)
    log_path = tmp_path / "entrypoint.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, *argv[1:]], env=env, stdout=log, stderr=subprocess.STDOUT)
    healthcheck = [sys.executable, *image.healthcheck[1:]]
    try:
        wait_ready(f"http://{image.env['GATEWAY_HOST']}:{port}", server, log_path)
        assert subprocess.run(healthcheck, env=env, check=False).returncode == 0
    finally:
        stop(server)
    assert subprocess.run(healthcheck, env=env, check=False, capture_output=True).returncode == 1
