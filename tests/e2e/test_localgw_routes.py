"""Every route end to end: OpenAI SDK -> local API Gateway -> authorizer + fdk function -> emulator."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from oci_genai_gateway.apigw_spec import FUNCTION_BODY_LIMIT_BYTES
from tests.fixtures.gateway import KEY
from tests.fixtures.localgw import GatewayFactory, LocalGw
from tests.openapi import validate

LLAMA = "meta.llama-3.3-70b-instruct"
EMBED = "cohere.embed-english-light-v3.0"
AUTH = {"Authorization": f"Bearer {KEY}"}


def as_json(model: Any) -> dict[str, Any]:
    """An SDK object back to the JSON the client received."""
    body: dict[str, Any] = json.loads(model.model_dump_json(exclude_unset=True))
    return body


def test_chat(localgw: LocalGw) -> None:
    localgw.emulator.reset()
    with localgw.client() as client:
        response = client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hi"}])
    body = as_json(response)
    validate(body, "CreateChatCompletionResponse")
    assert body["model"] == LLAMA
    assert LLAMA in body["choices"][0]["message"]["content"]
    # The function signed its OCI call with the resource principal it was given.
    (sent,) = localgw.emulator.requests("/actions/chat")
    assert sent["principal"]["kind"] == "resource_principal", sent["principal"]


def test_chat_stream_arrives_as_one_complete_sse_body(localgw: LocalGw) -> None:
    with localgw.client() as client:
        stream = client.chat.completions.create(
            model=LLAMA, messages=[{"role": "user", "content": "stream please"}], stream=True
        )
        chunks = [as_json(chunk) for chunk in stream]
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse")
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert LLAMA in text
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"


def test_stream_keeps_the_function_content_type(localgw: LocalGw) -> None:
    body = {"model": LLAMA, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(f"{localgw.url}/v1/chat/completions", json=body, headers=AUTH, timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.rstrip().endswith("data: [DONE]")


def test_embeddings(localgw: LocalGw) -> None:
    with localgw.client() as client:
        response = client.embeddings.create(model=EMBED, input=["one", "two", "three"])
    body = as_json(response)
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert {len(item["embedding"]) for item in body["data"]} == {384}
    assert body["model"] == EMBED


def test_models_list_and_retrieve(localgw: LocalGw) -> None:
    with localgw.client() as client:
        listed = [model.id for model in client.models.list()]
        retrieved = client.models.retrieve(LLAMA)
        with pytest.raises(openai.NotFoundError) as missing:
            client.models.retrieve("vendor.no-such-model")
    assert LLAMA in listed
    assert EMBED in listed
    assert "fast" in listed  # an alias from the function's configuration
    validate(as_json(retrieved), "Model")
    assert retrieved.id == LLAMA
    # The 404 is the function's OpenAI error, passed through the gateway untouched.
    assert missing.value.code == "model_not_found"


def test_request_id_reaches_the_function_and_comes_back(localgw: LocalGw) -> None:
    response = httpx.get(f"{localgw.url}/v1/models", headers=AUTH, timeout=30)
    assert response.status_code == 200
    # The function answers with the Opc-Request-Id the gateway invoked it with.
    assert response.headers["x-request-id"] == response.headers["opc-request-id"]
    assert response.headers["opc-request-id"].startswith("/")


def test_health_needs_no_key_and_is_a_stock_response(localgw: LocalGw) -> None:
    before = sum(localgw.gateway.invocations.values())
    response = httpx.get(f"{localgw.url}/health/readiness", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json"
    assert sum(localgw.gateway.invocations.values()) == before


def openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The `error` object of an OpenAI error answer with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    validate(body, "ErrorResponse")
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/assistants"),
        ("GET", "/v1/files"),
        ("GET", "/v1/models/a/b"),
        ("GET", "/"),
        ("PUT", "/x"),
    ],
)
def test_an_unknown_route_is_openais_404_from_the_spec(localgw: LocalGw, method: str, path: str) -> None:
    before = sum(localgw.gateway.invocations.values())
    response = httpx.request(method, f"{localgw.url}{path}", headers=AUTH, timeout=30)
    assert openai_error(response, 404)["code"] == "unknown_url"
    assert sum(localgw.gateway.invocations.values()) == before


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/chat/completions", "POST"),
        ("DELETE", "/v1/embeddings", "POST"),
        ("DELETE", "/v1/models", "GET"),
        ("POST", "/v1/models/some-model", "GET"),
        ("PUT", "/v1/responses/resp_1", "DELETE, GET"),
    ],
)
def test_a_wrong_method_is_openais_405_with_allow(
    localgw: LocalGw, method: str, path: str, allow: str
) -> None:
    response = httpx.request(method, f"{localgw.url}{path}", headers=AUTH, timeout=30)
    assert openai_error(response, 405)["code"] == "method_not_allowed"
    assert response.headers["allow"] == allow


def test_the_sdk_sees_a_not_found_error_for_an_unrouted_api(localgw: LocalGw) -> None:
    with localgw.client() as client, pytest.raises(openai.NotFoundError) as raised:
        client.files.list()
    assert raised.value.code == "unknown_url"


def test_health_answers_its_own_404_and_405_without_a_key(localgw: LocalGw) -> None:
    assert openai_error(httpx.get(f"{localgw.url}/health/liveness", timeout=10), 404)["code"] == "unknown_url"
    wrong = httpx.post(f"{localgw.url}/health/readiness", timeout=10)
    assert openai_error(wrong, 405)["code"] == "method_not_allowed"
    assert wrong.headers["allow"] == "GET"


def test_body_over_the_function_limit_is_413_before_any_invoke(localgw: LocalGw) -> None:
    before = localgw.gateway.invocations["embeddings"]
    over = b"x" * (FUNCTION_BODY_LIMIT_BYTES + 1)
    headers = {**AUTH, "Content-Type": "application/json"}
    response = httpx.post(f"{localgw.url}/v1/embeddings", content=over, headers=headers, timeout=60)
    assert response.status_code == 413
    assert response.json() == {"code": 413, "message": "Payload Too Large"}
    assert localgw.gateway.invocations["embeddings"] == before


def test_chunked_body_over_the_limit_is_413_too(localgw: LocalGw) -> None:
    def chunks() -> Any:
        for _ in range(7):
            yield b"x" * (1024 * 1024)

    before = localgw.gateway.invocations["embeddings"]
    headers = {**AUTH, "Content-Type": "application/json"}
    response = httpx.post(f"{localgw.url}/v1/embeddings", content=chunks(), headers=headers, timeout=60)
    # The gateway's own 413 (the function would have answered with an OpenAI error body).
    assert (response.status_code, response.json()) == (413, {"code": 413, "message": "Payload Too Large"})
    assert localgw.gateway.invocations["embeddings"] == before


def test_body_at_the_limit_reaches_the_function(localgw: LocalGw) -> None:
    at_limit = b" " * FUNCTION_BODY_LIMIT_BYTES
    headers = {**AUTH, "Content-Type": "application/json"}
    response = httpx.post(f"{localgw.url}/v1/embeddings", content=at_limit, headers=headers, timeout=60)
    # The function got it and judged it (blank JSON): an OpenAI error, not the gateway's 413.
    assert response.status_code == 400
    assert "error" in response.json()


def test_a_deployment_path_prefix_is_served_and_passed_to_the_function(
    localgw: LocalGw, extra_gateway: GatewayFactory
) -> None:
    server = extra_gateway(path_prefix="/genai")
    assert server.url.endswith("/genai")
    with localgw.client(base_url=f"{server.url}/v1") as client:
        assert client.models.retrieve(LLAMA).id == LLAMA
        reply = client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "x"}])
    assert reply.model == LLAMA
    outside = httpx.get(f"http://127.0.0.1:{server.port}/v1/models", headers=AUTH, timeout=10)
    assert outside.status_code == 404


def test_a_dead_function_is_a_502_from_the_gateway(
    localgw: LocalGw, extra_gateway: GatewayFactory, tmp_path: Any
) -> None:
    from oci_genai_devstack.localgw import FunctionTarget

    server = extra_gateway(functions={"models": FunctionTarget(str(tmp_path / "gone.sock"))})
    response = httpx.get(f"{server.url}/v1/models", headers=AUTH, timeout=10)
    assert (response.status_code, response.json()) == (502, {"code": 502, "message": "Bad Gateway"})


def test_a_trailing_space_in_a_header_value_is_not_a_502(localgw: LocalGw) -> None:
    # The ASGI server answers 200 here; httpx refuses to send such a value, http.client does not.
    url = urlsplit(localgw.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.putrequest("GET", "/v1/models")
        connection.putheader("Authorization", f"Bearer {KEY} ")
        connection.putheader("X-Client-Note", "trailing ")
        connection.endheaders()
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    assert status == 200, body
    assert json.loads(body)["object"] == "list"


@pytest.mark.parametrize("path", ["/v1/chat/comp%0Aletions", "/v1/chat/completions%00", "/v1/%7F", "/v1/%1f"])
def test_a_path_with_a_control_character_is_refused_before_any_function(localgw: LocalGw, path: str) -> None:
    before = sum(localgw.gateway.invocations.values())
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(f"{localgw.url}{path}", json=body, headers=AUTH, timeout=30)
    assert response.status_code == 400
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["code"] == "invalid_url"
    assert sum(localgw.gateway.invocations.values()) == before
