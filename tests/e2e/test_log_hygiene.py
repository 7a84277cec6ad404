"""No secret and no conversation in any log: the ASGI gateway's, each function's (the authorizer too),
the local API Gateway's and the emulator's, after a representative set of calls carrying markers.

Secrets: the bearer keys (the right ones and a wrong one), any private key (`-----BEGIN`), the
resource-principal session token the processes sign with. Conversation: a unique prompt marker,
which the emulator also echoes in every completion, and a unique embedding input.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import KEY, ROTATED_KEY, GatewayProcess
from tests.fixtures.localgw import LocalGw

Call = Callable[[str, str, dict[str, str], bytes], httpx.Response]


def _calls(base: str) -> Iterator[Call]:
    with httpx.Client(base_url=base, timeout=60) as http:

        def call(method: str, path: str, headers: dict[str, str], body: bytes) -> httpx.Response:
            return http.request(method, path, headers=headers, content=body)

        yield call


def exercise(call: Call, marker: str) -> tuple[str, str]:
    """Chat (streamed and not, with a tool), embeddings, models, client errors and wrong keys; the
    request ids of the first call and of the last (whose access line is the last written)."""
    first = f"req-{uuid.uuid4().hex}"
    auth = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    prompt = f"Say {marker}-prompt"
    chat = {"model": "meta.llama-3.3-70b-instruct", "messages": [{"role": "user", "content": prompt}]}
    tool = {"type": "function", "function": {"name": "lookup", "description": f"{marker}-tool"}}
    answers = [
        call("POST", "/v1/chat/completions", {**auth, "x-request-id": first}, json.dumps(chat).encode()),
        call("POST", "/v1/chat/completions", auth, json.dumps({**chat, "stream": True}).encode()),
        call("POST", "/v1/chat/completions", auth, json.dumps({**chat, "tools": [tool]}).encode()),
        call(
            "POST",
            "/v1/embeddings",
            auth,
            json.dumps({"model": "cohere.embed-v4.0", "input": f"{marker}-embed"}).encode(),
        ),
        call("GET", "/v1/models", auth, b""),
        call("GET", "/v1/models/xai.grok-4", auth, b""),
    ]
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text[:200] for a in answers]
    assert f"{marker}-prompt" in answers[0].text, "the emulator echoes the prompt: the completion carries it"
    refused = [
        call(
            "POST", "/v1/chat/completions", auth, json.dumps({**chat, "temperature": f"{marker}-t"}).encode()
        ),
        call("POST", "/v1/chat/completions", auth, f'{{"messages": "{marker}-broken'.encode()),
        call("POST", "/v1/chat/completions", auth, f'{{"{marker}-\\ud800": 1}}'.encode()),
        call("POST", "/v1/chat/completions", {"authorization": f"Bearer sk-{marker}-wrong"}, b"{}"),
        call("POST", "/v1/chat/completions", {"authorization": f"Bearer {ROTATED_KEY}x"}, b"{}"),
    ]
    # Fields the gateway does not know are ignored: named back to the client if they are API-field
    # names, never reflected otherwise, and only counted in the log.
    extra = {f"{marker}-param": 1, "client_extension_2027": True}
    unknown = call("POST", "/v1/chat/completions", auth, json.dumps({**chat, **extra}).encode())
    last = f"req-{uuid.uuid4().hex}"
    refused.append(call("GET", "/v1/models", {"authorization": f"Basic {marker}", "x-request-id": last}, b""))
    assert [a.status_code for a in refused] == [400, 400, 400, 401, 401, 401]
    assert unknown.status_code == 200
    assert unknown.headers["x-gateway-ignored-fields"] == "client_extension_2027,..."
    return first, last


def secrets_of(*directories: Path) -> list[str]:
    """Every resource-principal file's content (session token, private key) under `directories`."""
    found = []
    for directory in directories:
        for path in directory.rglob("*"):
            if path.is_file():
                found += [line for line in path.read_text(errors="replace").splitlines() if len(line) >= 32]
    assert found, f"no resource-principal files under {directories}"
    return found


def assert_clean(name: str, text: str, marker: str, secrets: list[str], *, empty_ok: bool = False) -> None:
    """No marker, key, private key or session token anywhere in `text`."""
    assert text or empty_ok, f"{name}: no log at all (the scan would prove nothing)"
    for needle in (marker, KEY, ROTATED_KEY, "-----BEGIN", *secrets):
        at = text.find(needle)
        assert at < 0, f"{name} logged {needle[:12]}...: {text[max(0, at - 200) : at + 100]!r}"


def test_the_asgi_gateway_logs_no_secret_and_no_conversation(
    gateway: GatewayProcess, emulator: Emulator
) -> None:
    marker = f"MARK{uuid.uuid4().hex}"
    for call in _calls(gateway.url):
        _, last = exercise(call, marker)
    gateway.wait_for_log(last)
    secrets = secrets_of(gateway.rp_dir)
    assert_clean("gateway", gateway.log_path.read_text(errors="replace"), marker, secrets)
    # The emulator (OCI) writes errors only; whatever it writes must be clean too.
    assert_clean("emulator", emulator.log_path.read_text(errors="replace"), marker, secrets, empty_ok=True)


def test_the_functions_the_authorizer_and_the_local_gateway_log_no_secret_and_no_conversation(
    localgw: LocalGw, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = f"MARK{uuid.uuid4().hex}"
    for call in _calls(localgw.url):
        first, _ = exercise(call, marker)
    assert first in localgw.function_log("chat"), "the chat function logged the calls"
    workdir = localgw.stack.workdir
    assert workdir is not None
    secrets = secrets_of(workdir / "resource-principal")
    for name in localgw.stack.functions:
        assert_clean(f"function {name}", localgw.function_log(name), marker, secrets)
    assert_clean("local API gateway", caplog.text, marker, secrets)
    # The emulator (OCI) writes errors only; whatever it writes must be clean too.
    assert_clean("emulator", emulator.log_path.read_text(errors="replace"), marker, secrets, empty_ok=True)


def test_the_scan_finds_what_it_looks_for() -> None:
    for planted in (
        "MARKx-prompt",
        KEY,
        "-----BEGIN PRIVATE KEY-----",
        "eyJtoken-0123456789abcdef0123456789",
    ):
        with pytest.raises(AssertionError, match="logged"):
            assert_clean(
                "log", f'{{"message": "{planted}"}}', "MARKx", ["eyJtoken-0123456789abcdef0123456789"]
            )
