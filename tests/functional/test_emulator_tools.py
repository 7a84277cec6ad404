"""Tool calls and structured output on the OCI wire (through the oci SDK client, no LiteLLM mapping)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import oci
import pytest
from oci.generative_ai_inference import models as m

from tests.fixtures.emulator import COMPARTMENT, Emulator, inference_client

WEATHER = m.FunctionDefinition(
    name="get_weather",
    description="Current weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CLOCK = m.FunctionDefinition(
    name="get_time",
    description="Current time",
    parameters={"type": "object", "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}}},
)


@pytest.fixture
def client(emu: Emulator, rp_signer: Any) -> Any:
    return inference_client(emu, rp_signer)


def generic(messages: list[Any], model: str = "meta.llama-3.3-70b-instruct", **options: Any) -> m.ChatDetails:
    return m.ChatDetails(
        compartment_id=COMPARTMENT,
        serving_mode=m.OnDemandServingMode(model_id=model),
        chat_request=m.GenericChatRequest(messages=messages, **options),
    )


def ask(text: str) -> list[Any]:
    return [m.UserMessage(content=[m.TextContent(text=text)])]


def test_generic_tool_calls_finish_with_tool_calls(client: Any) -> None:
    prompt = ask("Call get_weather and get_time for Berlin")
    choice = client.chat(generic(prompt, tools=[WEATHER, CLOCK])).data.chat_response.choices[0]

    assert choice.finish_reason == "tool_calls"
    assert [c.name for c in choice.message.tool_calls] == ["get_weather", "get_time"]
    weather, clock = choice.message.tool_calls
    assert weather.type == "FUNCTION"
    assert weather.id.startswith("chatcmpl-tool-")  # Meta models are served by vLLM on OCI
    assert json.loads(weather.arguments) == {"city": "Berlin"}
    assert json.loads(clock.arguments) == {"zone": "UTC"}
    assert weather.id != clock.id


def test_parallel_tool_calls_can_be_turned_off(client: Any) -> None:
    prompt = ask("Call get_weather and get_time for Berlin")
    request = generic(prompt, tools=[WEATHER, CLOCK], is_parallel_tool_calls=False)
    assert len(client.chat(request).data.chat_response.choices[0].message.tool_calls) == 1


@pytest.mark.parametrize(
    ("choice", "called"),
    [
        (m.ToolChoiceNone(), []),
        (m.ToolChoiceRequired(), ["get_weather"]),
        (m.ToolChoiceFunction(name="get_time"), ["get_time"]),
    ],
)
def test_tool_choice(choice: Any, called: list[str], client: Any) -> None:
    request = generic(ask("Just chat with me"), tools=[WEATHER, CLOCK], tool_choice=choice)
    message = client.chat(request).data.chat_response.choices[0].message
    assert [c.name for c in message.tool_calls or ()] == called


def test_answer_after_a_tool_message_refers_to_the_result(client: Any) -> None:
    call = m.FunctionCall(id="call_1", name="get_weather", arguments='{"city": "Berlin"}')
    messages = [
        *ask("Use get_weather for Berlin"),
        m.AssistantMessage(tool_calls=[call]),
        m.ToolMessage(tool_call_id="call_1", content=[m.TextContent(text="Sunny and 24 degrees")]),
    ]
    choice = client.chat(generic(messages, tools=[WEATHER])).data.chat_response.choices[0]
    text = choice.message.content[0].text
    assert choice.finish_reason == "stop"
    assert "get_weather" in text
    assert "Sunny and 24 degrees" in text


def test_streamed_tool_call_fragments(client: Any) -> None:
    request = generic(ask("Use get_weather for Berlin"), tools=[WEATHER], is_stream=True)
    # A Meta Llama stream: ends with [DONE] and closes.
    *events, done = [e.data for e in client.chat(request).data.events()]
    assert done == "[DONE]"
    events = [json.loads(e) for e in events]

    calls = [e["message"]["toolCalls"][0] for e in events if "toolCalls" in e.get("message", {})]
    head, *pieces, closing = calls
    assert set(head) == {"type", "id", "name"}  # the first fragment names the call, no arguments yet
    assert head["name"] == "get_weather"
    assert all(set(p) == {"type", "arguments"} for p in pieces)  # later ones carry only argument text
    assert json.loads("".join(p["arguments"] for p in pieces)) == {"city": "Berlin"}
    assert closing == {"type": "FUNCTION", "arguments": ""}
    assert events[-1]["finishReason"] == "tool_calls"


def test_cohere_tool_calls(client: Any) -> None:
    tool = m.CohereTool(
        name="get_weather",
        description="Current weather",
        parameter_definitions={"city": m.CohereParameterDefinition(type="str", is_required=True)},
    )
    request = m.ChatDetails(
        compartment_id=COMPARTMENT,
        serving_mode=m.OnDemandServingMode(model_id="cohere.command-r-08-2024"),
        chat_request=m.CohereChatRequest(message="Use get_weather for Lyon", tools=[tool]),
    )
    chat = client.chat(request).data.chat_response
    assert chat.finish_reason == "COMPLETE"  # Cohere has no tool-call finish reason
    assert [(c.name, c.parameters) for c in chat.tool_calls] == [("get_weather", {"city": "Lyon"})]
    assert chat.chat_history[-1].tool_calls[0].name == "get_weather"

    request.chat_request.is_stream = True
    response = client.chat(request).data
    events = []
    for event in response.events():  # a COHERE stream stays open after its final event
        events.append(json.loads(event.data))
        if "finishReason" in events[-1]:
            break
    response.close()
    tool_event, final = events[-2:]
    assert tool_event["toolCalls"] == [{"name": "get_weather", "parameters": {"city": "Lyon"}}]
    assert tool_event["text"] == final["text"]
    assert final["toolCalls"] == tool_event["toolCalls"]
    assert final["finishReason"] == "COMPLETE"


def test_json_schema_response_format(client: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 3},
            "when": {"type": "string", "format": "date"},
            "score": {"type": "number", "minimum": 2.5, "maximum": 5},
            "kind": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/kind"}]},
        },
        "required": ["city", "when", "score", "kind"],
        "$defs": {"kind": {"type": "string", "enum": ["a", "b"]}},
    }
    response_format = m.JsonSchemaResponseFormat(json_schema=m.ResponseJsonSchema(name="trip", schema=schema))
    choice = client.chat(
        generic(ask("Plan a trip"), response_format=response_format)
    ).data.chat_response.choices[0]
    jsonschema.validate(json.loads(choice.message.content[0].text), schema)


def test_json_object_response_format(client: Any) -> None:
    request = generic(ask("Reply in JSON"), response_format=m.JsonObjectResponseFormat())
    text = client.chat(request).data.chat_response.choices[0].message.content[0].text
    assert isinstance(json.loads(text), dict)


def test_minted_credentials_work_as_literal_values(emu: Emulator, tmp_path: Path) -> None:
    minted = emu.control("POST", "/resource-principal", {"out_dir": str(tmp_path / "rp")})
    assert minted["env"]["OCI_RESOURCE_PRINCIPAL_VERSION"] == "2.2"
    assert minted["rpst"].count(".") == 2  # a JWT
    signer = oci.auth.signers.EphemeralResourcePrincipalSigner(
        session_token=minted["rpst"], private_key=minted["private_pem"], region=minted["region"]
    )
    result = inference_client(emu, signer).chat(generic(ask("Hello")))
    assert result.status == 200
