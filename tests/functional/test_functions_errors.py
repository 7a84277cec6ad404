"""Error paths of the functions: OpenAI error bodies, real statuses through API Gateway, never a 502."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.fdk_server import FdkServer
from tests.fixtures.functions import (
    PREFIX,
    FnReply,
    Functions,
    function_env,
    gateway_call,
    plain_call,
    start_function,
)
from tests.openapi import validate

LLAMA = "meta.llama-3.3-70b-instruct"
CHAT_URL = f"{PREFIX}/v1/chat/completions"
CHAT = {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}]}
OCI_CHAT = "/20231130/actions/chat"
SIX_MB = 6 * 1024 * 1024


def error_of(reply: FnReply, status: int) -> dict[str, Any]:
    """Through API Gateway: the FDK answers 200 and encodes `status`; the body is OpenAI's envelope."""
    # A 502/504 from the FDK itself would make the platform report a failed function and drop the body.
    assert reply.fdk_status == 200
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-request-id"]
    body = reply.json()
    validate(body, "ErrorResponse")
    assert set(body["error"]) == {"message", "type", "param", "code"}
    error: dict[str, Any] = body["error"]
    return error


def plain_error_of(reply: FnReply) -> dict[str, Any]:
    """On `fn invoke`: status 200 (there is no other for the caller) and the envelope in the body."""
    assert reply.fdk_status == 200
    body = reply.json()
    validate(body, "ErrorResponse")
    error: dict[str, Any] = body["error"]
    return error


@pytest.fixture(autouse=True)
def _clean(emu: Emulator) -> None:
    """Every test starts with no queued faults and an empty OCI request log."""


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"{not json", "not valid JSON"), (b"[1]", "JSON object"), (b"", "empty")],
)
def test_bad_json_is_400_in_both_forms(functions: Functions, content: bytes, fragment: str) -> None:
    error = error_of(gateway_call(functions["chat"], "POST", CHAT_URL, content), 400)
    assert fragment in error["message"]
    assert error["type"] == "invalid_request_error"
    assert plain_error_of(plain_call(functions["chat"], content)) == error


def test_unknown_model_is_404_model_not_found(functions: Functions) -> None:
    body = json.dumps({**CHAT, "model": "meta.no-such-model"})
    error = error_of(gateway_call(functions["chat"], "POST", CHAT_URL, body), 404)
    assert error["code"] == "model_not_found"
    assert plain_error_of(plain_call(functions["chat"], body))["code"] == "model_not_found"
    missing = error_of(gateway_call(functions["models"], "GET", f"{PREFIX}/v1/models/meta.nope"), 404)
    assert missing["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("name", "method", "url", "status"),
    [
        ("chat", "POST", f"{PREFIX}/v1/embeddings", 404),
        ("chat", "GET", f"{PREFIX}/v1/models", 404),
        ("chat", "POST", f"{PREFIX}/health/readiness", 404),
        ("chat", "GET", CHAT_URL, 405),
        ("embeddings", "POST", CHAT_URL, 404),
        ("embeddings", "GET", f"{PREFIX}/v1/embeddings", 405),
        ("models", "POST", f"{PREFIX}/v1/models", 405),
        ("models", "POST", f"{PREFIX}/v1/embeddings", 404),
    ],
)
def test_each_function_serves_its_own_routes_only(
    functions: Functions, emulator: Emulator, name: str, method: str, url: str, status: int
) -> None:
    error = error_of(gateway_call(functions[name], method, url, json.dumps(CHAT)), status)
    assert error["code"] == ("unknown_url" if status == 404 else "method_not_allowed")
    assert emulator.requests() == [], "a refused route must not reach OCI"


def test_upstream_429_keeps_retry_after(functions: Functions, emulator: Emulator) -> None:
    emulator.inject_fault("status=429,retry-after=7", path=OCI_CHAT)
    reply = gateway_call(functions["chat"], "POST", CHAT_URL, json.dumps(CHAT))
    error = error_of(reply, 429)
    assert error["code"] == "rate_limit_exceeded"
    assert reply.headers["retry-after"] == "7"


def test_upstream_500_is_502_yet_the_function_did_not_fail(functions: Functions, emulator: Emulator) -> None:
    emulator.inject_fault("status=500", path=OCI_CHAT)
    error = error_of(gateway_call(functions["chat"], "POST", CHAT_URL, json.dumps(CHAT)), 502)
    assert error["code"] == "upstream_error"
    emulator.inject_fault("status=500", path=OCI_CHAT)
    assert plain_error_of(plain_call(functions["chat"], json.dumps(CHAT)))["code"] == "upstream_error"


def test_upstream_failure_opening_a_stream_is_a_status(functions: Functions, emulator: Emulator) -> None:
    emulator.inject_fault("status=503", path=OCI_CHAT)
    body = json.dumps({**CHAT, "stream": True})
    assert error_of(gateway_call(functions["chat"], "POST", CHAT_URL, body), 502)["code"] == "upstream_error"


def test_a_stream_cut_mid_way_is_a_502_since_nothing_was_sent_yet(
    functions: Functions, emulator: Emulator
) -> None:
    emulator.inject_fault("cut=2", path=OCI_CHAT)
    body = json.dumps({**CHAT, "stream": True, "messages": [{"role": "user", "content": "a longer prompt"}]})
    reply = gateway_call(functions["chat"], "POST", CHAT_URL, body)
    # Functions buffer the whole body: the client gets the failure's status, not a 200 with an error.
    assert error_of(reply, 502)["code"] == "upstream_error"
    assert reply.headers["content-type"] == "application/json"


def test_the_sdk_sees_the_real_status(functions: Functions, emulator: Emulator) -> None:
    emulator.inject_fault("status=429,retry-after=3", path=OCI_CHAT)
    with functions.client() as sdk, pytest.raises(openai.RateLimitError) as info:
        sdk.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hi"}])
    assert info.value.response.headers["retry-after"] == "3"
    with functions.client() as sdk, pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model=LLAMA, messages=[])


def test_body_over_the_limit_is_413(functions: Functions, emulator: Emulator) -> None:
    big = json.dumps({**CHAT, "messages": [{"role": "user", "content": "x" * SIX_MB}]})
    error = error_of(gateway_call(functions["chat"], "POST", CHAT_URL, big), 413)
    assert error["code"] == "request_too_large"
    assert str(SIX_MB) in error["message"]
    assert plain_error_of(plain_call(functions["embeddings"], big))["code"] == "request_too_large"
    assert emulator.requests() == []


def test_a_body_just_under_the_limit_is_served(functions: Functions) -> None:
    filler = "y" * (SIX_MB - 1024)
    body = json.dumps({**CHAT, "messages": [{"role": "user", "content": filler}], "max_tokens": 4})
    assert gateway_call(functions["chat"], "POST", CHAT_URL, body).status == 200


def test_models_plain_invoke_with_an_unusable_body_says_what_it_takes(functions: Functions) -> None:
    error = plain_error_of(plain_call(functions["models"], '{"id": "x"}'))
    assert error["type"] == "invalid_request_error"
    assert '{"model": "<id>"}' in error["message"]


def test_a_call_about_to_miss_its_deadline_is_a_clean_504(functions: Functions, emulator: Emulator) -> None:
    emulator.inject_fault("hold=0", path=OCI_CHAT)
    try:
        reply = gateway_call(functions["chat"], "POST", CHAT_URL, json.dumps(CHAT), deadline_seconds=3)
        error = error_of(reply, 504)
        assert error["code"] == "upstream_timeout"
        assert "function's timeout" in error["message"]  # the adapter's guard, not the core's 120 s
    finally:
        emulator.release()


def test_a_stream_about_to_miss_its_deadline_is_a_clean_504(functions: Functions, emulator: Emulator) -> None:
    emulator.inject_fault("hold=2", path=OCI_CHAT)
    body = json.dumps({**CHAT, "stream": True, "messages": [{"role": "user", "content": "a longer prompt"}]})
    try:
        reply = gateway_call(functions["chat"], "POST", CHAT_URL, body, deadline_seconds=3)
        error = error_of(reply, 504)
        assert (error["code"], "function's timeout" in error["message"]) == ("upstream_timeout", True)
    finally:
        emulator.release()


@pytest.fixture(scope="module")
def rotating_chat(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FdkServer, Path]]:
    """A chat function of its own, so that rotating its credential files affects no other test."""
    rp_dir = tmp_path_factory.mktemp("rotating-rp")
    with start_function("chat", function_env(emulator, rp_dir)) as server:
        yield server, rp_dir


def test_oci_401_rereads_the_rotated_token_files_and_retries_once(
    rotating_chat: tuple[FdkServer, Path], emulator: Emulator
) -> None:
    server, rp_dir = rotating_chat
    assert plain_call(server, json.dumps(CHAT)).status == 200  # the token is now cached in the signer
    emulator.reset()
    rotated = "ocid1.compartment.oc1..rotated"
    emulator.mint_resource_principal(rp_dir, compartment=rotated)  # the platform rotates the files
    emulator.inject_fault("status=401", path=OCI_CHAT, count=1)
    reply = gateway_call(server, "POST", CHAT_URL, json.dumps(CHAT))
    assert reply.status == 200
    validate(reply.json(), "CreateChatCompletionResponse")
    sent = emulator.requests(OCI_CHAT)
    assert [r["status"] for r in sent] == [401, 200]
    assert sent[0]["principal"]["compartment"] != rotated, "the first try used the cached token"
    assert sent[1]["principal"]["compartment"] == rotated, "the retry signed with the re-read files"


def test_persistent_oci_401_is_502_not_blaming_the_client(
    rotating_chat: tuple[FdkServer, Path], emulator: Emulator
) -> None:
    server, _ = rotating_chat
    emulator.inject_fault("status=401", path=OCI_CHAT, count=2)
    error = error_of(gateway_call(server, "POST", CHAT_URL, json.dumps(CHAT)), 502)
    assert "gateway's own credentials" in error["message"]
    assert [r["status"] for r in emulator.requests(OCI_CHAT)] == [401, 401]


def test_no_prompt_reaches_the_function_log(functions: Functions) -> None:
    secret = "a very private prompt 5f1c"
    gateway_call(
        functions["chat"],
        "POST",
        CHAT_URL,
        json.dumps({**CHAT, "messages": [{"role": "user", "content": secret}]}),
    )
    logs = functions["chat"].logs()
    assert '"event": "request"' in logs
    assert secret not in logs
