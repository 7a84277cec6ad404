"""LiteLLM's OCI provider, unchanged, against the emulator with a real resource-principal signer."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import litellm
import pytest

from oci_genai_emulator import catalog
from tests.fixtures.emulator import COMPARTMENT, REGION, Emulator

litellm.disable_token_counter = True
litellm.suppress_debug_info = True

MODELS = ["oci/meta.llama-3.3-70b-instruct", "oci/cohere.command-a-03-2025"]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
            "required": ["city", "days"],
        },
    },
}
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "contact": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
    },
    "required": ["name", "age", "tags", "contact"],
    "additionalProperties": False,
}


@pytest.fixture
def oci_kwargs(emu: Emulator, rp_signer: Any) -> dict[str, Any]:
    """What a caller of LiteLLM's OCI provider passes besides model and messages."""
    return {
        "api_base": emu.url,
        "oci_region": REGION,
        "oci_compartment_id": COMPARTMENT,
        "oci_signer": rp_signer,
        # With zstandard installed httpx offers zstd, and cannot decode OCI's one zstd frame per
        # event (test_litellm_streams_fail_when_zstd_is_offered): ask for the identity encoding.
        "extra_headers": {"accept-encoding": "identity"},
    }


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def until_finish(stream: Any) -> list[Any]:
    """LiteLLM stream chunks up to the finish chunk: only Llama streams close, the others stay open."""
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        if chunk.choices[0].finish_reason:
            break
    return chunks


@pytest.mark.parametrize("model", MODELS)
def test_completion(model: str, oci_kwargs: dict[str, Any], emu: Emulator) -> None:
    response = litellm.completion(model=model, messages=user("What is the weather in Paris?"), **oci_kwargs)

    text = response.choices[0].message.content
    assert model.removeprefix("oci/") in text
    assert "What is the weather in Paris?" in text
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.completion_tokens == len(text.split())
    [sent] = emu.requests("/actions/chat")
    assert sent["principal"]["kind"] == "resource_principal"
    assert sent["body"]["servingMode"] == {"servingType": "ON_DEMAND", "modelId": model.removeprefix("oci/")}


@pytest.mark.parametrize("model", MODELS)
def test_streaming_completion(model: str, oci_kwargs: dict[str, Any]) -> None:
    chunks = until_finish(
        litellm.completion(model=model, messages=user("Say hi to Bob"), stream=True, **oci_kwargs)
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Say hi to Bob" in text
    assert len(chunks) > len(text.split())  # one chunk per token, not one blob
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_async_completion_and_stream(oci_kwargs: dict[str, Any]) -> None:
    response = await litellm.acompletion(model="oci/xai.grok-4", messages=user("Hi"), **oci_kwargs)
    assert "xai.grok-4" in response.choices[0].message.content

    stream = await litellm.acompletion(
        model="oci/google.gemini-2.5-flash", messages=user("Hi there"), stream=True, **oci_kwargs
    )
    text = ""
    async for chunk in stream:  # a Gemini stream stays open after its finish event
        text += chunk.choices[0].delta.content or ""
        if chunk.choices[0].finish_reason:
            break
    assert "google.gemini-2.5-flash" in text


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_and_answer_after_the_tool_ran(model: str, oci_kwargs: dict[str, Any]) -> None:
    asked = user("Use get_weather for Paris please")
    response = litellm.completion(model=model, messages=asked, tools=[WEATHER], **oci_kwargs)

    [call] = response.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    assert arguments["city"] == "Paris"
    assert isinstance(arguments["days"], int)
    assert arguments["days"] >= 1

    followup = [
        *asked,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 21}'},
    ]
    answer = litellm.completion(model=model, messages=followup, tools=[WEATHER], **oci_kwargs)
    text = answer.choices[0].message.content
    assert "get_weather" in text
    assert "temperature" in text
    assert not answer.choices[0].message.tool_calls


def test_no_tool_call_when_the_prompt_does_not_ask_for_one(oci_kwargs: dict[str, Any]) -> None:
    response = litellm.completion(
        model=MODELS[0], messages=user("Tell me a joke"), tools=[WEATHER], **oci_kwargs
    )
    assert not response.choices[0].message.tool_calls
    assert response.choices[0].message.content


def test_tool_choice_forces_a_call(oci_kwargs: dict[str, Any]) -> None:
    response = litellm.completion(
        model=MODELS[0],
        messages=user("Tell me a joke"),
        tools=[WEATHER],
        tool_choice="required",
        **oci_kwargs,
    )
    assert response.choices[0].message.tool_calls[0].function.name == "get_weather"


@pytest.mark.parametrize("model", MODELS)
def test_streamed_tool_call(model: str, oci_kwargs: dict[str, Any]) -> None:
    chunks = until_finish(
        litellm.completion(
            model=model, messages=user("Use get_weather for Oslo"), tools=[WEATHER], stream=True, **oci_kwargs
        )
    )
    deltas = [d for c in chunks for d in c.choices[0].delta.tool_calls or ()]
    assert deltas[0].function.name == "get_weather"
    arguments = json.loads("".join(d.function.arguments or "" for d in deltas))
    assert arguments["city"] == "Oslo"


@pytest.mark.parametrize("model", MODELS)
def test_json_schema_response_is_valid(model: str, oci_kwargs: dict[str, Any]) -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "person", "schema": PERSON, "strict": True},
    }
    response = litellm.completion(
        model=model, messages=user("Describe a person"), response_format=response_format, **oci_kwargs
    )
    jsonschema.validate(json.loads(response.choices[0].message.content), PERSON)


def test_json_object_response(oci_kwargs: dict[str, Any]) -> None:
    response = litellm.completion(
        model=MODELS[0],
        messages=user("Answer in JSON"),
        response_format={"type": "json_object"},
        **oci_kwargs,
    )
    assert isinstance(json.loads(response.choices[0].message.content), dict)


def test_image_input_on_a_vision_model(oci_kwargs: dict[str, Any]) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"}, image]}]
    response = litellm.completion(
        model="oci/meta.llama-4-maverick-17b-128e-instruct-fp8", messages=messages, **oci_kwargs
    )
    assert "I see 1 image" in response.choices[0].message.content


def test_image_input_on_a_text_model_is_400(oci_kwargs: dict[str, Any]) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}]
    with pytest.raises(litellm.BadRequestError, match="InvalidParameter"):
        litellm.completion(model=MODELS[0], messages=messages, **oci_kwargs)


def test_dedicated_endpoint(oci_kwargs: dict[str, Any]) -> None:
    response = litellm.completion(
        model="oci/ft-llama-3.3-support-assistant",
        messages=user("Help"),
        oci_serving_mode="DEDICATED",
        oci_endpoint_id=catalog.CUSTOM_ENDPOINT_ID,
        **oci_kwargs,
    )
    assert "ft-llama-3.3-support-assistant" in response.choices[0].message.content


def test_unknown_model_is_not_found(oci_kwargs: dict[str, Any]) -> None:
    with pytest.raises(litellm.NotFoundError, match="NotAuthorizedOrNotFound"):
        litellm.completion(model="oci/meta.llama-0-nano", messages=user("Hi"), **oci_kwargs)


def test_embeddings(oci_kwargs: dict[str, Any]) -> None:
    response = litellm.embedding(
        model="oci/cohere.embed-english-v3.0", input=["hello", "world"], **oci_kwargs
    )
    assert [len(d["embedding"]) for d in response.data] == [1024, 1024]
    assert response.usage.prompt_tokens == 2


async def test_async_embeddings_with_dimensions(oci_kwargs: dict[str, Any], emu: Emulator) -> None:
    response = await litellm.aembedding(
        model="oci/cohere.embed-v4.0", input=["hello"], dimensions=512, **oci_kwargs
    )
    assert len(response.data[0]["embedding"]) == 512
    assert emu.requests("/actions/embedText")[-1]["body"]["outputDimensions"] == 512


def test_litellm_streams_fail_when_zstd_is_offered(oci_kwargs: dict[str, Any], emu: Emulator) -> None:
    # LiteLLM's httpx offers zstd once zstandard is installed; OCI then sends one zstd frame per
    # event, and httpx's decoder fails on the second frame (https://github.com/oracle/ai-optimizer
    # issue 592). The delay makes every event arrive in a read of its own, as over a real network.
    offered = {**oci_kwargs, "extra_headers": {"x-emulator-fault": "token-delay=20"}}
    stream = litellm.completion(model=MODELS[0], messages=user("Hi"), stream=True, **offered)
    with pytest.raises(Exception, match="cannot use a decompressobj multiple times"):
        for _ in stream:
            pass
    assert emu.requests("/actions/chat")[-1]["status"] == 200
