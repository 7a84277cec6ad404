"""Hypothesis strategies for hostile OpenAI requests: bodies that are almost right, raw bytes, headers, paths.

Every field is drawn either from values a client would send or from arbitrary JSON, so both the
happy path and each wrong type of each parameter are reached; raw bodies are then mutated.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.api_bodies import messages_bodies, responses_bodies
from tests.fuzz.harness import KEY
from tests.fuzz.values import (
    CHAT_MODELS,
    EMBED_MODELS,
    extras,
    field,
    image_urls,
    json_values,
    merge,
    names,
    schemas,
    some_of,
    texts,
    usually,
)

ROUTES = (
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/responses",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/models",
    "/v1/models/xai.grok-4",
    "/v1/responses/resp_1",
    "/health/readiness",
)
parts = st.fixed_dictionaries(
    {"type": field(usually(st.sampled_from(["text", "image_url"]), st.just("input_audio")))},
    optional={
        "text": field(texts),
        "image_url": field(
            st.fixed_dictionaries({"url": field(image_urls)}, optional={"detail": field(st.just("low"))}),
            image_urls,
        ),
    },
)
tool_calls = st.lists(
    st.fixed_dictionaries(
        {
            "id": field(st.just("call_1")),
            "type": field(st.just("function")),
            "function": field(
                st.fixed_dictionaries({"name": field(names), "arguments": field(st.just('{"a": 1}'))})
            ),
        }
    ),
    max_size=3,
)
_MESSAGE_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "name": field(names),
    "tool_call_id": field(st.just("call_1")),
    "tool_calls": field(tool_calls),
    "reasoning_content": field(texts),  # an answer's reasoning sent back (assistant turns)
}
messages = st.lists(
    st.tuples(
        st.fixed_dictionaries(
            {
                "role": field(
                    usually(st.just("user"), st.sampled_from(["system", "developer", "assistant", "tool"]), 2)
                ),
                "content": field(texts, st.lists(parts, max_size=3)),
            }
        ),
        some_of(_MESSAGE_OPTIONAL, 2),
    ).map(merge),
    min_size=1,
    max_size=4,
)
functions = st.fixed_dictionaries(
    {"name": field(names)},
    optional={"description": field(texts), "parameters": field(schemas), "strict": field(st.booleans())},
)
tools = st.lists(
    st.fixed_dictionaries({"type": field(st.just("function")), "function": field(functions)}), max_size=3
)
tool_choices = st.one_of(
    st.sampled_from(["none", "auto", "required"]),
    st.fixed_dictionaries(
        {"type": field(st.just("function")), "function": field(st.fixed_dictionaries({"name": field(names)}))}
    ),
)
response_formats = st.fixed_dictionaries(
    {"type": field(st.sampled_from(["text", "json_object", "json_schema"]))},
    optional={
        "json_schema": field(
            st.fixed_dictionaries(
                {"name": field(names)},
                optional={
                    "schema": field(schemas),
                    "strict": field(st.booleans()),
                    "description": field(texts),
                },
            )
        )
    },
)
_CHAT_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "stream": field(st.booleans()),
    "stream_options": field(st.fixed_dictionaries({}, optional={"include_usage": field(st.booleans())})),
    "temperature": field(st.floats(-1, 3)),
    "top_p": field(st.floats(-0.5, 1.5)),
    "frequency_penalty": field(st.floats(-3, 3)),
    "presence_penalty": field(st.floats(-3, 3)),
    "seed": field(st.integers(-(2**64), 2**64)),
    "max_tokens": field(st.integers(-2, 2**32)),
    "max_completion_tokens": field(st.integers(-2, 2**32)),
    "n": field(st.integers(-1, 4)),
    "stop": field(texts, st.lists(texts, max_size=6)),
    "logit_bias": field(
        st.dictionaries(st.from_regex(r"\A[0-9]{1,6}\Z"), st.integers(-150, 150), max_size=3)
    ),
    "tools": field(tools),
    "tool_choice": field(tool_choices),
    "parallel_tool_calls": field(st.booleans()),
    "response_format": field(response_formats),
    "reasoning_effort": field(st.sampled_from(["none", "minimal", "low", "medium", "high"])),
    "logprobs": field(st.booleans()),
    "top_logprobs": field(st.integers(0, 5)),
    "modalities": field(st.just(["text"])),
    "metadata": field(st.dictionaries(st.text(max_size=70), st.text(max_size=20), max_size=17)),
    "user": field(texts),
    "store": field(st.booleans()),
    "service_tier": field(st.sampled_from(["auto", "default"])),
    "prediction": field(st.just({"type": "content", "content": "x"})),
    "audio": json_values,
    "functions": json_values,
}


chat_bodies = st.tuples(
    st.fixed_dictionaries({"model": field(st.sampled_from(CHAT_MODELS)), "messages": field(messages)}),
    some_of(_CHAT_OPTIONAL, 4),
    usually(st.just({}), extras, 3),
).map(merge)
_EMBED_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "encoding_format": field(st.sampled_from(["float", "base64"])),
    "dimensions": field(st.integers(-1, 2**20)),
    "user": field(texts),
    "input_type": field(st.sampled_from(["search_query", "search_document", "classification"])),
    "truncate": field(st.sampled_from(["NONE", "START", "END"])),
}
embedding_bodies = st.tuples(
    st.fixed_dictionaries(
        {
            "model": field(st.sampled_from(EMBED_MODELS)),
            "input": field(texts, st.lists(texts, max_size=5), st.lists(st.integers(0, 9), max_size=3)),
        }
    ),
    some_of(_EMBED_OPTIONAL, 3),
    usually(st.just({}), extras, 3),
).map(merge)


# Byte sequences that broke, or could break, a JSON front door.
_NASTY = (
    b'"\\ud800"',
    b'"\\udc00x"',
    b'"\\ud83d\\ude00"',
    b"\xed\xa0\x80",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"NaN",
    b"-Infinity",
    b"1e999999",
    b"9" * 5000,
    b'"\\u0000"',
    b"[" * 70,
    b"{" * 70,
    b'{"a":' * 70,
    b"\\",
    b'"',
    b"\x00",
)


@st.composite
def raw_bodies(draw: st.DrawFn, bodies: st.SearchStrategy[dict[str, Any]]) -> bytes:
    """A body's JSON bytes, often mutated: cut short, spliced with nasty bytes, or nested deep."""
    raw = json.dumps(draw(bodies), ensure_ascii=draw(st.booleans())).encode()
    how = draw(usually(st.just("as is"), st.sampled_from(["cut", "splice", "nest", "bytes"]), 5))
    if how == "cut":
        return raw[: max(1, len(raw) * draw(st.sampled_from([3, 10, 30, 50, 70, 90, 99])) // 100)]
    if how == "splice":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from(_NASTY)) + raw[at:]
    if how == "nest":
        depth = draw(st.sampled_from([63, 64, 65, 200, 100_000]))
        key = draw(st.sampled_from([b"[", b'{"a":']))
        end = b"]" if key == b"[" else b"}"
        return b'{"model":"xai.grok-4","messages":' + key * depth + raw + end * depth + b"}"
    if how == "bytes":
        return draw(st.binary(max_size=64))
    return raw


_token = st.from_regex(r"\A[A-Za-z0-9-]{1,20}\Z")
_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
headers = st.fixed_dictionaries(
    {
        "authorization": usually(
            st.just(f"Bearer {KEY}"), st.one_of(st.just("Bearer sk-wrong-key-0000000000"), _value), 8
        )
    },
    optional={
        "content-type": st.one_of(st.just("application/json"), _value),
        "x-request-id": _value,
        "accept": _value,
    },
).flatmap(lambda fixed: st.dictionaries(_token, _value, max_size=2).map(lambda extra: {**extra, **fixed}))
_segment = st.one_of(
    st.sampled_from(
        ["v1", "chat", "completions", "models", "embeddings", "responses", "messages", "health", "..", ""]
    ),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#%"), max_size=10),
    st.sampled_from(["%2F", "%00", "%2e%2e", "%ZZ", "%C3%A9", "%ED%A0%80", "%0A"]),
)
paths = st.one_of(
    st.sampled_from(ROUTES),
    st.tuples(
        st.sampled_from(["", "/deploy", "/a/b"]), st.sampled_from(ROUTES), st.sampled_from(["", "/", "?x=1"])
    ).map("".join),
    # One leading slash: httpx (the test client) refuses a path that starts with "//".
    st.lists(_segment, max_size=5).map(lambda segments: "/" + "/".join(segments).lstrip("/")),
)
methods = usually(st.just("POST"), st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]), 2)


def _request(
    method: st.SearchStrategy[str], path: st.SearchStrategy[str], body: st.SearchStrategy[bytes]
) -> st.SearchStrategy[tuple[str, str, dict[str, str], bytes]]:
    return st.tuples(method, path, headers, body)


# (method, path, headers, body): mostly the routes with their own kind of body, some anything at all.
_kinds = [
    *[_request(st.just("POST"), st.just("/v1/chat/completions"), raw_bodies(chat_bodies))] * 6,
    *[_request(st.just("POST"), st.just("/v1/embeddings"), raw_bodies(embedding_bodies))] * 2,
    *[_request(st.just("POST"), st.just("/v1/responses"), raw_bodies(responses_bodies))] * 3,
    *[_request(st.just("POST"), st.just("/v1/messages"), raw_bodies(messages_bodies))] * 3,
    _request(st.just("POST"), st.just("/v1/messages/count_tokens"), raw_bodies(messages_bodies)),
    _request(st.just("GET"), st.sampled_from(ROUTES[2:]), st.just(b"")),
    _request(methods, paths, st.one_of(raw_bodies(chat_bodies), st.binary(min_size=1, max_size=32))),
]
requests = st.sampled_from(_kinds).flatmap(lambda kind: kind)
