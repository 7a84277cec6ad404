"""The emulator speaks COHEREV2 on signed requests: the SDK's models validate the request, answers
and streams come back in the `CohereChatResponseV2` shape, tool choice, thinking and images are
honoured, and the formats each model takes are enforced (emulator/README.md, chat_v2.py)."""

from __future__ import annotations

from typing import Any

from oci.generative_ai_inference import models as m

from oci_genai_emulator import catalog
from tests.fixtures.emulator import COMPARTMENT, Emulator
from tests.functional.test_emulator_variants import call, events, has, streamed, text_part, wire

COMMAND_A = "cohere.command-a-03-2025"
WEATHER = {
    "type": "FUNCTION",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
PNG = "data:image/png;base64,iVBORw0KGgo="


def v2(prompt: str | list[dict[str, Any]], *, endpoint: str | None = None, **options: Any) -> dict[str, Any]:
    content = [text_part(prompt)] if isinstance(prompt, str) else prompt
    serving = (
        {"servingType": "DEDICATED", "endpointId": endpoint}
        if endpoint
        else {"servingType": "ON_DEMAND", "modelId": COMMAND_A}
    )
    return {
        "compartmentId": COMPARTMENT,
        "servingMode": serving,
        "chatRequest": {
            "apiFormat": "COHEREV2",
            "messages": [{"role": "USER", "content": content}],
            **options,
        },
    }


def test_a_v2_answer_has_the_sdk_shape_and_usage(emu: Emulator, rp_signer: Any) -> None:
    status, result = call(emu, rp_signer, v2("Tell me about Oslo"))
    assert status == 200, result
    chat = result["chatResponse"]
    assert (chat["apiFormat"], chat["finishReason"]) == ("COHEREV2", "COMPLETE")
    assert set(chat) <= set(m.CohereChatResponseV2().attribute_map.values())
    (part,) = chat["message"]["content"]
    assert part["type"] == "TEXT"
    assert f"from {COMMAND_A}" in part["text"]
    assert chat["usage"]["totalTokens"] == chat["usage"]["promptTokens"] + chat["usage"]["completionTokens"]


def test_required_tools_choice_makes_a_call_with_an_id_and_none_forbids_it(
    emu: Emulator, rp_signer: Any
) -> None:
    status, result = call(emu, rp_signer, v2("Say hello", tools=[WEATHER], toolsChoice="REQUIRED"))
    assert status == 200, result
    message = result["chatResponse"]["message"]
    (tool_call,) = message["toolCalls"]
    assert tool_call["id"].startswith("get_weather_")
    assert (tool_call["type"], tool_call["function"]["name"]) == ("FUNCTION", "get_weather")
    assert isinstance(tool_call["function"]["arguments"], str)
    assert message["toolPlan"]
    assert result["chatResponse"]["finishReason"] == "TOOL_CALL"

    status, result = call(emu, rp_signer, v2("Use get_weather for Oslo", tools=[WEATHER], toolsChoice="NONE"))
    assert status == 200, result
    assert "toolCalls" not in result["chatResponse"]["message"]


def test_a_v2_stream_sends_message_pieces_and_a_role_only_finish_with_usage(
    emu: Emulator, rp_signer: Any
) -> None:
    body = v2("Use get_weather for Lyon", tools=[WEATHER])
    with wire(emu, rp_signer, streamed(body, usage=True)) as w:
        received = events(w.read_until(has("finishReason")))
        assert w.held_open()
    *pieces, final = received
    assert all(e["apiFormat"] == "COHEREV2" for e in received)
    assert final["message"] == {"role": "ASSISTANT"}
    assert final["finishReason"] == "TOOL_CALL"
    assert final["usage"]["totalTokens"] > 0
    plan = "".join(e["message"].get("toolPlan", "") for e in pieces)
    calls = [c for e in pieces for c in e["message"].get("toolCalls", [])]
    assert plan
    assert [c["function"]["name"] for c in calls] == ["get_weather"]


def test_command_a_reasoning_thinks_unless_told_not_to(emu: Emulator, rp_signer: Any) -> None:
    endpoint = catalog.REASONING_ENDPOINT_ID
    status, result = call(
        emu, rp_signer, v2("Why is the sky blue", endpoint=endpoint, thinking={"type": "ENABLED"})
    )
    assert status == 200, result
    thinking, text = result["chatResponse"]["message"]["content"]
    assert (thinking["type"], text["type"]) == ("THINKING", "TEXT")
    assert result["chatResponse"]["usage"]["completionTokensDetails"]["reasoningTokens"] > 0
    with wire(emu, rp_signer, streamed(v2("Why", endpoint=endpoint))) as w:
        received = events(w.read_until(has("finishReason")))
    assert received[0]["message"]["content"][0]["type"] == "THINKING"

    status, result = call(emu, rp_signer, v2("Why", endpoint=endpoint, thinking={"type": "DISABLED"}))
    assert status == 200, result
    assert [p["type"] for p in result["chatResponse"]["message"]["content"]] == ["TEXT"]


def test_command_a_refuses_thinking_and_images_and_vision_refuses_v1(emu: Emulator, rp_signer: Any) -> None:
    status, result = call(emu, rp_signer, v2("hi", thinking={"type": "ENABLED"}))
    assert status == 400
    assert "thinking" in result["message"]
    image = [text_part("What is this"), {"type": "IMAGE_URL", "imageUrl": {"url": PNG}}]
    status, result = call(emu, rp_signer, v2(image))
    assert status == 400
    status, result = call(emu, rp_signer, v2(image, endpoint=catalog.VISION_ENDPOINT_ID))
    assert status == 200, result
    assert "I see 1 image" in result["chatResponse"]["message"]["content"][0]["text"]
    v1 = {
        "compartmentId": COMPARTMENT,
        "servingMode": {"servingType": "DEDICATED", "endpointId": catalog.VISION_ENDPOINT_ID},
        "chatRequest": {"apiFormat": "COHERE", "message": "hi"},
    }
    status, result = call(emu, rp_signer, v1)
    assert status == 400
    assert "COHEREV2" in result["message"]


def test_a_v2_field_the_sdk_does_not_know_is_refused(emu: Emulator, rp_signer: Any) -> None:
    status, result = call(emu, rp_signer, v2("hi", toolChoice={"type": "REQUIRED"}))
    assert status == 400
    assert "toolChoice" in result["message"]
