"""Chat request validation: every bad input is a 400 naming the parameter; nothing meaningful is dropped."""

from typing import Any

import pytest

from oci_genai_gateway.core.chat.request import parse as parse_chat
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.targets import Target

USER = [{"role": "user", "content": "hi"}]


def parse(**body: Any):  # type: ignore[no-untyped-def]
    return parse_chat({"model": "meta.llama-3.3-70b-instruct", "messages": USER, **body}, Target)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": None}, "messages"),
        ({"messages": []}, "messages"),
        ({"model": ""}, "model"),
        ({"model": 3}, "model"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"temperature": 3}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": -0.1}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": 1.5}, "max_completion_tokens"),
        ({"n": 0}, "n"),
        ({"n": 2, "stream": True}, "n"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"audio": {"voice": "x"}}, "audio"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"web_search_options": "on"}, "web_search_options"),
        ({"tools": [{"type": "code_interpreter"}]}, "tools[0]"),
        ({"tools": [{"type": "function", "function": {}}]}, "tools[0].function.name"),
        ({"tool_choice": "required"}, "tool_choice"),
        (
            {
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": {"type": "function", "function": {"name": "g"}},
            },
            "tool_choice",
        ),
        ({"response_format": {"type": "xml"}}, "response_format"),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse(**body)
    assert info.value.status == 400
    assert info.value.param == param


def test_remote_image_urls_are_refused_data_urls_accepted() -> None:
    remote = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]
    with pytest.raises(InvalidRequest, match="data URLs"):
        parse(messages=remote)
    data = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        }
    ]
    assert parse(messages=data).messages[0]["content"][1]["type"] == "image_url"


def test_parameters_are_forwarded_and_max_completion_tokens_wins() -> None:
    call = parse(
        temperature=0.2,
        top_p=0.9,
        seed=7,
        stop="END",
        max_tokens=10,
        max_completion_tokens=20,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        reasoning_effort="low",
        response_format={"type": "json_object"},
        user="u1",
        metadata={"a": "b"},
    )
    assert call.params == {
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 7,
        "stop": ["END"],
        "max_tokens": 20,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "reasoning_effort": "low",
        "response_format": {"type": "json_object"},
    }


def test_stream_flags_and_parallel_tool_calls() -> None:
    call = parse(stream=True, stream_options={"include_usage": True}, parallel_tool_calls=False, n=1)
    assert call.stream
    assert call.include_usage
    assert call.single_tool_call
    assert not parse().single_tool_call
    assert parse(n=3).n == 3


def test_developer_role_becomes_system_and_text_parts_join_for_system() -> None:
    call = parse(
        messages=[
            {"role": "developer", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            *USER,
        ]
    )
    assert call.messages[0] == {"role": "system", "content": "ab"}
