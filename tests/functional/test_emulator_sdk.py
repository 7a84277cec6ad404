"""The oci SDK's own clients, unchanged, against the emulator: chat, streaming, embeddings, model listing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import oci
import pytest
from oci.generative_ai_inference import models as m

from oci_genai_emulator import catalog
from tests.fixtures.emulator import COMPARTMENT, Emulator, inference_client

LLAMA = "meta.llama-3.3-70b-instruct"
COMMAND_A = "cohere.command-a-03-2025"


@pytest.fixture(params=["api_key", "resource_principal"])
def client(request: pytest.FixtureRequest, emu: Emulator) -> Any:
    """An inference client signing with an API key or with a minted resource principal."""
    if request.param == "api_key":
        return inference_client(
            emu, request.getfixturevalue("api_key_signer"), request.getfixturevalue("api_key_config")
        )
    return inference_client(emu, request.getfixturevalue("rp_signer"))


def generic(text: str, model: str = LLAMA, **options: Any) -> m.ChatDetails:
    return m.ChatDetails(
        compartment_id=COMPARTMENT,
        serving_mode=m.OnDemandServingMode(model_id=model),
        chat_request=m.GenericChatRequest(
            messages=[m.UserMessage(content=[m.TextContent(text=text)])], **options
        ),
    )


def cohere(text: str, model: str = COMMAND_A, **options: Any) -> m.ChatDetails:
    return m.ChatDetails(
        compartment_id=COMPARTMENT,
        serving_mode=m.OnDemandServingMode(model_id=model),
        chat_request=m.CohereChatRequest(message=text, **options),
    )


def events(response: Any, *, until: str = "[DONE]") -> list[dict[str, Any]]:
    """The parsed SSE events of a streamed SDK response, read as a client must read OCI streams.

    Meta Llama streams end with `data: [DONE]` and close; the others stay open after their last
    event, so a reader stops at the event carrying `until` ("finishReason" or "usage").
    """
    received: list[dict[str, Any]] = []
    for event in response.data.events():
        if event.data == "[DONE]":
            break
        received.append(json.loads(event.data))
        if until in received[-1]:
            break
    response.data.close()
    return received


def test_generic_chat_answers_with_oci_chat_result(client: Any) -> None:
    response = client.chat(generic("What is the weather in Paris?", max_tokens=200))

    result = response.data
    assert response.status == 200
    assert response.headers["opc-request-id"]
    assert result.model_id == LLAMA
    assert result.model_version == "1.0.1"
    chat = result.chat_response
    assert chat.api_format == "GENERIC"
    assert chat.time_created is not None
    [choice] = chat.choices
    assert choice.finish_reason == "stop"
    assert choice.message.role == "ASSISTANT"
    text = choice.message.content[0].text
    assert LLAMA in text
    assert "What is the weather in Paris?" in text
    assert chat.usage.completion_tokens == len(text.split())
    assert chat.usage.total_tokens == chat.usage.prompt_tokens + chat.usage.completion_tokens


def test_chat_output_is_deterministic_and_depends_on_the_input(client: Any) -> None:
    first = client.chat(generic("Tell me about Lisbon")).data.chat_response.choices[0].message.content[0].text
    again = client.chat(generic("Tell me about Lisbon")).data.chat_response.choices[0].message.content[0].text
    other = client.chat(generic("Tell me about Porto")).data.chat_response.choices[0].message.content[0].text
    assert first == again != other


def test_generic_max_tokens_truncates_with_length(client: Any) -> None:
    choice = client.chat(
        generic("Count the stars over Madrid tonight", max_tokens=3)
    ).data.chat_response.choices[0]
    assert choice.finish_reason == "length"
    assert len(choice.message.content[0].text.split()) == 3


def test_generic_stop_sequence_ends_the_text(client: Any) -> None:
    choice = client.chat(generic("Please say banana and more", stop=["banana"])).data.chat_response.choices[0]
    text = choice.message.content[0].text
    assert choice.finish_reason == "stop"
    assert "banana" not in text
    assert text.endswith("Please say")


def test_num_generations_returns_distinct_indexed_choices(client: Any) -> None:
    choices = client.chat(generic("Name a colour", num_generations=3)).data.chat_response.choices
    assert [c.index for c in choices] == [0, 1, 2]
    assert len({c.message.content[0].text for c in choices}) == 3


def test_generic_stream_is_oci_sse_with_usage_event(client: Any) -> None:
    request = generic(
        "Stream a short answer about Oslo",
        is_stream=True,
        stream_options=m.StreamOptions(is_include_usage=True),
    )
    received = events(client.chat(request))

    opening, *tokens, final, usage = received
    assert opening["message"]["content"] == [{"type": "TEXT", "text": ""}]
    assert opening["index"] == 0
    text = "".join(e["message"]["content"][0]["text"] for e in tokens)
    assert "Oslo" in text
    assert len(tokens) == len(text.split())
    assert all(e["message"]["role"] == "ASSISTANT" for e in received[:-1])
    assert all("pad" in e for e in received)
    assert final == {"message": {"role": "ASSISTANT"}, "finishReason": "stop", "pad": final["pad"]}
    assert usage["usage"]["completionTokens"] == len(tokens)


def test_generic_stream_without_include_usage_has_no_usage_event(client: Any) -> None:
    received = events(client.chat(generic("Hello there", is_stream=True)))
    assert received[-1]["finishReason"] == "stop"
    assert not any("usage" in e for e in received)


def test_cohere_chat_answers_with_cohere_response(client: Any) -> None:
    result = client.chat(cohere("Hello Cohere, how are you?", max_tokens=100)).data

    assert result.model_id == COMMAND_A
    chat = result.chat_response
    assert chat.api_format == "COHERE"
    assert chat.finish_reason == "COMPLETE"
    assert COMMAND_A in chat.text
    assert "Hello Cohere" in chat.text
    assert [h.role for h in chat.chat_history] == ["USER", "CHATBOT"]
    assert chat.chat_history[-1].message == chat.text
    assert chat.usage.completion_tokens == len(chat.text.split())


def test_cohere_max_tokens_reports_max_tokens(client: Any) -> None:
    chat = client.chat(cohere("Describe the sea near Bergen", max_tokens=2)).data.chat_response
    assert chat.finish_reason == "MAX_TOKENS"
    assert len(chat.text.split()) == 2


def test_cohere_stream_sends_tokens_then_full_final_event(client: Any) -> None:
    received = events(
        client.chat(cohere("Stream something about Rome", is_stream=True)), until="finishReason"
    )

    *tokens, final = received
    assert all(e["apiFormat"] == "COHERE" and set(e) == {"apiFormat", "text", "pad"} for e in tokens)
    assert final["text"] == "".join(e["text"] for e in tokens)
    assert final["finishReason"] == "COMPLETE"
    assert final["chatHistory"][-1]["role"] == "CHATBOT"


def test_dedicated_endpoint_serves_the_fine_tuned_model(client: Any) -> None:
    details = m.ChatDetails(
        compartment_id=COMPARTMENT,
        serving_mode=m.DedicatedServingMode(endpoint_id=catalog.CUSTOM_ENDPOINT_ID),
        chat_request=m.GenericChatRequest(messages=[m.UserMessage(content=[m.TextContent(text="Help me")])]),
    )
    result = client.chat(details).data
    custom = catalog.by_endpoint(catalog.CUSTOM_ENDPOINT_ID)
    assert custom is not None
    assert custom.type == "CUSTOM"
    assert result.model_id == custom.id
    assert "ft-llama-3.3-support-assistant" in result.chat_response.choices[0].message.content[0].text


def test_dedicated_cohere_endpoint_speaks_cohere(client: Any) -> None:
    details = m.ChatDetails(
        compartment_id=COMPARTMENT,
        serving_mode=m.DedicatedServingMode(endpoint_id=catalog.COHERE_ENDPOINT_ID),
        chat_request=m.CohereChatRequest(message="Hi"),
    )
    assert client.chat(details).data.chat_response.finish_reason == "COMPLETE"


def test_unknown_model_is_404_not_authorized_or_not_found(client: Any) -> None:
    with pytest.raises(oci.exceptions.ServiceError) as raised:
        client.chat(generic("Hi", model="meta.llama-9-1t-instruct"))
    assert raised.value.status == 404
    assert raised.value.code == "NotAuthorizedOrNotFound"
    assert raised.value.request_id


def test_embed_text_returns_unit_vectors_of_the_model_dimension(client: Any) -> None:
    def embed(model: str, inputs: list[str], **options: Any) -> Any:
        mode = m.OnDemandServingMode(model_id=model)
        return client.embed_text(
            m.EmbedTextDetails(compartment_id=COMPARTMENT, serving_mode=mode, inputs=inputs, **options)
        ).data

    result = embed("cohere.embed-english-v3.0", ["first text", "second text"], input_type="SEARCH_DOCUMENT")
    assert result.id
    assert result.model_id == "cohere.embed-english-v3.0"
    assert result.model_version
    assert [len(v) for v in result.embeddings] == [1024, 1024]
    assert all(math.isclose(sum(x * x for x in v), 1.0, abs_tol=1e-4) for v in result.embeddings)
    assert result.embeddings[0] != result.embeddings[1]
    assert result.usage.prompt_tokens == 4
    assert embed("cohere.embed-english-v3.0", ["first text"]).embeddings[0] == result.embeddings[0]
    assert len(embed("cohere.embed-english-light-v3.0", ["x"]).embeddings[0]) == 384
    assert len(embed("cohere.embed-v4.0", ["x"], output_dimensions=256).embeddings[0]) == 256
    assert len(embed("cohere.embed-v4.0", ["x"]).embeddings[0]) == 1536


def test_embed_text_truncation_rules(client: Any) -> None:
    mode = m.OnDemandServingMode(model_id="cohere.embed-english-v3.0")
    long_text = " ".join(f"w{i}" for i in range(600))

    def embed(truncate: str) -> Any:
        details = m.EmbedTextDetails(
            compartment_id=COMPARTMENT, serving_mode=mode, inputs=[long_text], truncate=truncate
        )
        return client.embed_text(details).data

    with pytest.raises(oci.exceptions.ServiceError) as raised:
        embed("NONE")
    assert raised.value.status == 400
    assert raised.value.code == "InvalidParameter"
    start, end = embed("START"), embed("END")
    assert start.usage.prompt_tokens == end.usage.prompt_tokens == 512
    assert start.embeddings != end.embeddings


def test_embed_text_rejects_more_than_96_inputs(client: Any) -> None:
    mode = m.OnDemandServingMode(model_id="cohere.embed-english-v3.0")
    details = m.EmbedTextDetails(compartment_id=COMPARTMENT, serving_mode=mode, inputs=["x"] * 97)
    with pytest.raises(oci.exceptions.ServiceError) as raised:
        client.embed_text(details)
    assert raised.value.status == 400
    assert raised.value.code == "InvalidParameter"


def test_output_dimensions_only_where_the_model_supports_them(client: Any) -> None:
    for model, dims in (("cohere.embed-english-v3.0", 256), ("cohere.embed-v4.0", 300)):
        mode = m.OnDemandServingMode(model_id=model)
        details = m.EmbedTextDetails(
            compartment_id=COMPARTMENT, serving_mode=mode, inputs=["x"], output_dimensions=dims
        )
        with pytest.raises(oci.exceptions.ServiceError) as raised:
            client.embed_text(details)
        assert raised.value.status == 400


def test_resource_principal_env_works_with_the_sdk_factory(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in emu.mint_resource_principal(tmp_path / "rp").items():
        monkeypatch.setenv(name, value)
    signer = oci.auth.signers.get_resource_principals_signer()
    result = inference_client(emu, signer).chat(generic("Hi from a function")).data
    assert result.chat_response.choices[0].finish_reason == "stop"
    assert emu.requests("/actions/chat")[-1]["principal"]["kind"] == "resource_principal"
