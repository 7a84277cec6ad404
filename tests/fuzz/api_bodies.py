"""Hostile bodies for /v1/responses (OpenAI's Responses API) and /v1/messages (Anthropic's Messages API)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.fuzz.values import (
    CHAT_MODELS,
    PNG,
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

# The Responses API (OpenAI): input items of every kind the gateway reads, and some it refuses.
_response_parts = st.fixed_dictionaries(
    {"type": field(st.sampled_from(["input_text", "input_image", "output_text", "input_file"]))},
    optional={"text": field(texts), "image_url": field(image_urls), "detail": field(st.just("low"))},
)
_input_items = st.one_of(
    st.fixed_dictionaries(
        {
            "role": field(st.sampled_from(["user", "system", "developer", "assistant"])),
            "content": field(texts, st.lists(_response_parts, max_size=3)),
        },
        optional={"type": field(st.just("message"))},
    ),
    st.fixed_dictionaries(
        {
            "type": field(st.just("function_call")),
            "call_id": field(st.just("call_1")),
            "name": field(names),
            "arguments": field(st.just('{"a": 1}')),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": field(st.just("function_call_output")),
            "call_id": field(st.just("call_1")),
            "output": field(texts),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["item_reference", "reasoning", "file_search_call"]),
            "id": field(st.just("x")),
        },
        optional={
            "summary": field(
                st.just([]),
                st.lists(
                    st.fixed_dictionaries({"type": field(st.just("summary_text")), "text": field(texts)}),
                    max_size=2,
                ),
            ),
            "content": field(
                st.lists(st.fixed_dictionaries({"type": field(texts), "text": field(texts)}), max_size=2)
            ),
            "encrypted_content": field(texts, st.just("ocigw.r1.e30")),
        },
    ),
    # Codex's items: custom (freeform) tool calls and their outputs, function calls in a namespace.
    st.fixed_dictionaries(
        {
            "type": field(st.sampled_from(["custom_tool_call", "custom_tool_call_output", "function_call"])),
            "call_id": field(st.just("call_1")),
        },
        optional={
            "name": field(names),
            "namespace": field(names),
            "input": field(texts),
            "arguments": field(st.just("{}"), texts),
            "output": field(texts, st.lists(_response_parts, max_size=2)),
        },
    ),
)
_tool_types = st.sampled_from(["web_search", "custom", "namespace", "mcp", "local_shell"])
_response_tool = st.fixed_dictionaries(
    {"type": field(usually(st.just("function"), _tool_types)), "name": field(names)},
    optional={"parameters": field(schemas), "description": field(texts), "strict": field(st.booleans())},
)
_response_tools = st.lists(
    st.one_of(
        _response_tool,
        st.fixed_dictionaries(
            {
                "type": field(st.just("namespace")),
                "name": field(names),
                "tools": field(st.lists(_response_tool, max_size=2)),
            },
            optional={"description": field(texts)},
        ),
        st.fixed_dictionaries(
            {"type": field(st.just("custom")), "name": field(names)},
            optional={
                "format": field(
                    st.fixed_dictionaries(
                        {"type": field(st.sampled_from(["text", "grammar", "regex"]))},
                        optional={"syntax": field(st.just("lark")), "definition": field(texts)},
                    )
                )
            },
        ),
    ),
    max_size=3,
)
_text_formats = st.fixed_dictionaries(
    {"type": field(st.sampled_from(["text", "json_object", "json_schema"]))},
    optional={"name": field(names), "schema": field(schemas), "strict": field(st.booleans())},
)
_RESPONSES_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "instructions": field(texts),
    "tools": field(_response_tools),
    "tool_choice": field(
        st.sampled_from(["auto", "none", "required"]),
        st.fixed_dictionaries({"type": field(st.sampled_from(["function", "custom"])), "name": field(names)}),
        st.fixed_dictionaries(
            {"type": field(st.sampled_from(["web_search_preview", "mcp", "allowed_tools"]))}
        ),
        st.fixed_dictionaries(
            {
                "type": field(st.just("allowed_tools")),
                "mode": field(st.sampled_from(["auto", "required"])),
                "tools": field(
                    st.lists(
                        st.fixed_dictionaries({"type": field(st.just("function")), "name": field(names)})
                    )
                ),
            }
        ),
    ),
    "text": field(st.fixed_dictionaries({}, optional={"format": field(_text_formats)})),
    "max_output_tokens": field(st.integers(-2, 2**32)),
    "temperature": field(st.floats(-1, 3)),
    "top_p": field(st.floats(-0.5, 1.5)),
    "parallel_tool_calls": field(st.booleans()),
    "reasoning": field(
        st.fixed_dictionaries(
            {},
            optional={
                "effort": field(st.sampled_from(["none", "low", "high", "xhigh"])),
                "summary": field(texts, st.just("auto")),
                "mode": field(texts),
            },
        )
    ),
    "stream": field(st.booleans()),
    "store": field(st.booleans()),
    "metadata": field(st.dictionaries(st.text(max_size=70), st.text(max_size=20), max_size=17)),
    "previous_response_id": field(st.just("resp_1")),
    "include": field(st.lists(st.sampled_from(["reasoning.encrypted_content", "file_search_call.results"]))),
}
responses_bodies = st.tuples(
    st.fixed_dictionaries(
        {
            "model": field(st.sampled_from(CHAT_MODELS)),
            "input": field(texts, st.lists(_input_items, min_size=1, max_size=4)),
        }
    ),
    some_of(_RESPONSES_OPTIONAL, 4),
    usually(st.just({}), extras, 3),
).map(merge)

# The Messages API (Anthropic): content blocks of every kind, tools, system and thinking.
_blocks = st.fixed_dictionaries(
    {
        "type": field(
            st.sampled_from(
                ["text", "image", "tool_use", "tool_result", "thinking", "document", "tool_addition"]
            )
        )
    },
    optional={
        "text": field(texts),
        "id": field(st.just("toolu_1")),
        "name": field(names),
        "input": field(st.dictionaries(st.text(max_size=5), json_values, max_size=2)),
        "tool_use_id": field(st.just("toolu_1")),
        "content": field(
            texts,
            st.lists(
                st.fixed_dictionaries(
                    {"type": field(st.sampled_from(["text", "tool_reference", "image"]))},
                    optional={"text": field(texts), "tool_name": field(names)},
                ),
                max_size=2,
            ),
        ),
        "tool": field(
            st.fixed_dictionaries(
                {"type": field(st.sampled_from(["tool_reference", "tool_definition", "mcp_tool_reference"]))},
                optional={"name": field(names), "definition": field(json_values)},
            )
        ),
        "is_error": field(st.booleans()),
        "thinking": field(texts),
        "signature": field(texts, st.just("ocigw.r1.e30")),
        "source": field(
            st.fixed_dictionaries(
                {"type": field(st.sampled_from(["base64", "url"]))},
                optional={
                    "media_type": field(st.just("image/png")),
                    "data": field(st.just(PNG.split(",", 1)[1])),
                    "url": field(image_urls),
                },
            )
        ),
    },
)
_anthropic_messages = st.lists(
    st.fixed_dictionaries(
        {
            "role": field(usually(st.just("user"), st.sampled_from(["assistant", "system"]), 2)),
            "content": field(texts, st.lists(_blocks, max_size=3)),
        }
    ),
    min_size=1,
    max_size=4,
)
_MESSAGES_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "system": field(
        texts, st.lists(st.fixed_dictionaries({"type": field(st.just("text")), "text": field(texts)}))
    ),
    "tools": field(
        st.lists(
            st.fixed_dictionaries(
                {"name": field(names)},
                optional={
                    "description": field(texts),
                    "input_schema": field(schemas),
                    "defer_loading": field(st.booleans()),
                    "type": field(
                        st.sampled_from(
                            ["custom", "web_search_20250305", "tool_search_tool_bm25", "bash_20250124"]
                        )
                    ),
                    "input_examples": field(st.lists(json_values, max_size=2)),
                },
            ),
            max_size=3,
        )
    ),
    "tool_choice": field(
        st.fixed_dictionaries(
            {"type": field(st.sampled_from(["auto", "any", "tool", "none"]))},
            optional={"name": field(names), "disable_parallel_tool_use": field(st.booleans())},
        )
    ),
    "stop_sequences": field(st.lists(texts, max_size=6)),
    "temperature": field(st.floats(-1, 3)),
    "top_p": field(st.floats(-0.5, 1.5)),
    "top_k": field(st.integers(-1, 100)),
    "stream": field(st.booleans()),
    "thinking": field(
        st.fixed_dictionaries(
            {"type": field(st.sampled_from(["enabled", "disabled", "adaptive", "between_tools"]))},
            optional={
                "budget_tokens": field(st.integers(-1, 2**20)),
                "display": field(st.sampled_from(["summarized", "omitted", "shown"])),
            },
        )
    ),
    "output_config": field(
        st.fixed_dictionaries(
            {},
            optional={
                "effort": field(st.sampled_from(["low", "medium", "high", "xhigh", "max", "extreme"])),
                "format": field(
                    st.fixed_dictionaries(
                        {"type": field(st.just("json_schema"))}, optional={"schema": field(schemas)}
                    )
                ),
            },
        )
    ),
    "context_management": field(
        st.fixed_dictionaries(
            {
                "edits": field(
                    st.lists(
                        st.fixed_dictionaries(
                            {
                                "type": field(
                                    st.sampled_from(
                                        [
                                            "clear_tool_uses_20250919",
                                            "clear_thinking_20251015",
                                            "compact_20260112",
                                        ]
                                    )
                                )
                            },
                            optional={
                                "trigger": field(
                                    st.fixed_dictionaries(
                                        {"type": field(st.sampled_from(["input_tokens", "tool_uses"]))},
                                        optional={"value": field(st.integers(-1, 10))},
                                    )
                                ),
                                "keep": field(
                                    st.just("all"),
                                    st.fixed_dictionaries(
                                        {
                                            "type": field(
                                                st.sampled_from(["tool_uses", "thinking_turns", "all"])
                                            )
                                        },
                                        optional={"value": field(st.integers(-1, 3))},
                                    ),
                                ),
                                "exclude_tools": field(st.lists(names, max_size=2)),
                                "clear_tool_inputs": field(st.booleans(), st.lists(names, max_size=2)),
                            },
                        ),
                        max_size=3,
                    )
                )
            }
        )
    ),
    "metadata": field(st.fixed_dictionaries({}, optional={"user_id": field(texts)})),
}
messages_bodies = st.tuples(
    st.fixed_dictionaries(
        {
            "model": field(st.sampled_from(CHAT_MODELS)),
            "max_tokens": field(st.integers(-1, 2**32)),
            "messages": field(_anthropic_messages),
        }
    ),
    some_of(_MESSAGES_OPTIONAL, 4),
    usually(st.just({}), extras, 3),
).map(merge)
