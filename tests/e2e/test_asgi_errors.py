"""Every error path through the ASGI gateway is an OpenAI-shaped error with the right status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import ALLOWED_ORIGIN, KEY, ROTATED_KEY, GatewayProcess, start_gateway, stop
from tests.openapi import validate

LLAMA = "meta.llama-3.3-70b-instruct"
HELLO = [{"role": "user", "content": "hi"}]


def post(gateway: GatewayProcess, path: str, content: bytes | None = None, **kwargs: Any) -> httpx.Response:
    """A raw POST with the test key unless headers say otherwise."""
    headers = kwargs.pop("headers", {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    return httpx.post(f"{gateway.url}{path}", content=content, headers=headers, timeout=60, **kwargs)


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert the status and the OpenAI error envelope; return the inner error."""
    assert response.status_code == status, response.text
    body = response.json()
    validate(body, "ErrorResponse")
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert response.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing bearer key"),
        ({"Authorization": "Bearer sk-wrong-key-000000"}, "Incorrect API key"),
        ({"Authorization": f"Basic {KEY}"}, "Missing bearer key"),
    ],
)
def test_missing_or_wrong_key_is_401_and_never_echoed(
    gateway: GatewayProcess, headers: dict[str, str], message: str
) -> None:
    response = httpx.get(f"{gateway.base_url}/models", headers=headers)
    error = error_of(response, 401)
    assert message in error["message"]
    assert error["code"] == "invalid_api_key"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "sk-wrong-key" not in response.text
    assert KEY not in response.text


def test_both_rotation_keys_work_and_logs_name_keys_never_values(gateway: GatewayProcess) -> None:
    for key in (KEY, ROTATED_KEY):
        assert (
            httpx.get(f"{gateway.base_url}/models", headers={"Authorization": f"Bearer {key}"}).status_code
            == 200
        )
    log = gateway.wait_for_log('"key_name": "rotated"')
    assert KEY not in log
    assert ROTATED_KEY not in log


def test_health_needs_no_key(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.url}/health/readiness")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("content", "param", "fragment"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"[1, 2]", None, "JSON object"),
        (b"", None, "empty"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "model", "Missing required parameter"),
        (b'{"model": "m", "messages": "hello"}', "messages", "non-empty array"),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}',
            "temperature",
            "number",
        ),
    ],
)
def test_malformed_requests_are_400(
    gateway: GatewayProcess, content: bytes, param: str | None, fragment: str
) -> None:
    error = error_of(post(gateway, "/v1/chat/completions", content), 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert fragment in error["message"]


def test_prompt_text_never_reaches_the_logs(client: openai.OpenAI, gateway: GatewayProcess) -> None:
    secret_prompt = "my secret prompt words zebraquokka"  # a marker no id or number can contain
    answer = client.chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": secret_prompt}]
    )
    assert answer.choices[0].message.content
    assert "zebraquokka" not in gateway.log_path.read_text()


def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="no.such-model", messages=HELLO)  # type: ignore[arg-type]
    assert info.value.body["code"] == "model_not_found"  # type: ignore[index]
    assert info.value.body["param"] == "model"  # type: ignore[index]


def test_oci_validation_failure_is_400_with_ocis_reason(client: openai.OpenAI) -> None:
    """The retired model is refused by OCI with a 400/404; either way the client gets a 4xx, never a 5xx."""
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="meta.llama-3.1-405b-instruct", messages=HELLO)  # type: ignore[arg-type]
    assert 400 <= info.value.status_code < 500


def test_unknown_route_and_wrong_method(gateway: GatewayProcess) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    error_of(httpx.get(f"{gateway.base_url}/completions", headers=auth), 404)
    error = error_of(httpx.get(f"{gateway.base_url}/chat/completions", headers=auth), 405)
    assert "POST" in error["message"]


def test_oversize_body_is_413(gateway: GatewayProcess) -> None:
    content = (
        b'{"model": "m", "messages": [{"role": "user", "content": "' + b"x" * (6 * 1024 * 1024) + b'"}]}'
    )
    error = error_of(post(gateway, "/v1/chat/completions", content), 413)
    assert error["code"] == "request_too_large"


def test_upstream_429_keeps_retry_after(client: openai.OpenAI, emulator: Emulator) -> None:
    emulator.inject_fault("status=429,retry-after=7", path="/20231130/actions/chat")
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=LLAMA, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.body["type"] == "rate_limit_error"  # type: ignore[index]


@pytest.mark.parametrize("status", [500, 503])
def test_upstream_failure_is_502(client: openai.OpenAI, emulator: Emulator, status: int) -> None:
    emulator.inject_fault(f"status={status}", path="/20231130/actions/chat")
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model=LLAMA, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.status_code == 502
    assert info.value.body["code"] == "upstream_error"  # type: ignore[index]


def test_upstream_failure_when_opening_a_stream_is_a_status_not_a_broken_stream(
    client: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.inject_fault("status=503", path="/20231130/actions/chat")
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model=LLAMA, messages=HELLO, stream=True)  # type: ignore[arg-type]
    assert info.value.status_code == 502


def test_stream_cut_mid_way_ends_with_an_error_event(client: openai.OpenAI, emulator: Emulator) -> None:
    emulator.inject_fault("cut=2", path="/20231130/actions/chat")
    stream = client.chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "a long enough prompt"}], stream=True
    )
    received = [next(stream)]
    with pytest.raises(openai.APIError, match="OCI Generative AI failed"):
        received.extend(stream)
    assert received[0].choices[0].delta.role == "assistant", "the chunks before the cut reached the client"


def test_oci_401_refreshes_the_token_and_retries_once(client: openai.OpenAI, emulator: Emulator) -> None:
    emulator.inject_fault("status=401", path="/20231130/actions/chat", count=1)
    answer = client.chat.completions.create(model=LLAMA, messages=HELLO)  # type: ignore[arg-type]
    assert answer.choices[0].message.content
    statuses = [r["status"] for r in emulator.requests("/actions/chat")]
    assert statuses == [401, 200]


def test_persistent_oci_401_is_a_502_that_does_not_blame_the_client_key(
    client: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.inject_fault("status=401", path="/20231130/actions/chat", count=2)
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model=LLAMA, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.status_code == 502
    assert "gateway's own credentials" in info.value.body["message"]  # type: ignore[index]


def test_rotated_token_files_are_picked_up_without_client_errors(emulator: Emulator, tmp_path: Path) -> None:
    """Credentials near expiry are re-read before signing; a rotation mid-run costs the client nothing."""
    proc = start_gateway(emulator, tmp_path, rp_ttl_seconds=45)  # inside the SDK's 60 s refresh window
    try:
        with proc.client() as sdk:
            sdk.chat.completions.create(model=LLAMA, messages=HELLO)  # type: ignore[arg-type]
            emulator.reset()
            emulator.mint_resource_principal(
                proc.rp_dir, ttl_seconds=45, compartment="ocid1.compartment.oc1..rotated"
            )
            for _ in range(3):
                assert sdk.chat.completions.create(model=LLAMA, messages=HELLO).choices  # type: ignore[arg-type]
        principals = [r["principal"] for r in emulator.requests("/actions/chat")]
        assert [r["status"] for r in emulator.requests("/actions/chat")] == [200, 200, 200]
        assert all(p.get("compartment") == "ocid1.compartment.oc1..rotated" for p in principals)
    finally:
        stop(proc.process)


def test_upstream_timeout_is_504(emulator: Emulator, tmp_path: Path) -> None:
    proc = start_gateway(emulator, tmp_path, GATEWAY_UPSTREAM_TIMEOUT="1")
    try:
        emulator.inject_fault("hold=0", path="/20231130/actions/chat")
        with proc.client() as sdk, pytest.raises(openai.APIStatusError) as info:
            sdk.chat.completions.create(model=LLAMA, messages=HELLO)  # type: ignore[arg-type]
        assert info.value.status_code == 504
        assert info.value.body["code"] == "upstream_timeout"  # type: ignore[index]
    finally:
        emulator.release()
        stop(proc.process)


def test_cors_allows_the_configured_origin_only(gateway: GatewayProcess) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = httpx.options(
        f"{gateway.base_url}/chat/completions", headers={"Origin": ALLOWED_ORIGIN, **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    refused = httpx.options(
        f"{gateway.base_url}/chat/completions", headers={"Origin": "http://evil.example", **preflight}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    actual = httpx.get(
        f"{gateway.base_url}/models", headers={"Origin": ALLOWED_ORIGIN, "Authorization": f"Bearer {KEY}"}
    )
    assert actual.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_bad_settings_stop_the_server_with_one_clear_line(emulator: Emulator, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.fixtures.gateway import gateway_env

    env = gateway_env(emulator, {}, GATEWAY_COMPARTMENT_ID="not-an-ocid")
    done = subprocess.run(
        [sys.executable, "-m", "oci_genai_gateway", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "GATEWAY_COMPARTMENT_ID" in lines[0]
