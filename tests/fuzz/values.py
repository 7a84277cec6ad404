"""The building blocks of the fuzz strategies: values a client would send, and any JSON value at all."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

CHAT_MODELS = (
    "xai.grok-4",
    "cohere.command-a-03-2025",
    "meta.llama-3.3-70b-instruct",
    "google.gemini-2.5-flash",
    "openai.gpt-oss-120b",
    "fast",
)
EMBED_MODELS = ("cohere.embed-v4.0", "cohere.embed-english-v3.0")
PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
texts = st.text(max_size=40)
names = st.one_of(st.sampled_from(["get_weather", "lookup", "f"]), st.text(max_size=70))


def field(*valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value (5 in 6), sometimes any JSON value at all: most bodies get one thing wrong."""
    return usually(st.one_of(*valid), json_values)


def usually(
    common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int = 5
) -> st.SearchStrategy[Any]:
    """`common` `odds` times in `odds` + 1 (one_of would not do: it merges repeated branches)."""
    return st.integers(0, odds).flatmap(lambda i: common if i else rare)


def some_of(optional: dict[str, st.SearchStrategy[Any]], most: int) -> st.SearchStrategy[dict[str, Any]]:
    """A few of the optional fields (a body with all of them would always trip over one)."""
    keys = st.lists(st.sampled_from(sorted(optional)), max_size=most, unique=True)
    return keys.flatmap(lambda chosen: st.fixed_dictionaries({k: optional[k] for k in chosen}))


def merge(parts: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in reversed(parts):
        merged.update(part)
    return merged


_SCHEMA_KEYS = ("type", "properties", "items", "required", "enum", "description", "$ref", "$defs", "anyOf")
schemas = st.recursive(
    st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "object", "array", "any"])}),
    lambda inner: st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.dictionaries(names, inner, max_size=3)}
        ),
        st.fixed_dictionaries({"type": st.just("array"), "items": inner}),
        st.fixed_dictionaries({"anyOf": st.lists(inner, max_size=3)}),
        st.fixed_dictionaries({"$ref": st.sampled_from(["#/$defs/a", "#/$defs/b", "#/x", "#/$defs/"])}),
        st.fixed_dictionaries({"$defs": st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2)}),
        st.dictionaries(st.sampled_from(_SCHEMA_KEYS), json_values, max_size=3),
    ),
    max_leaves=10,
)
image_urls = st.sampled_from(
    [PNG, "https://example.com/a.png", "http://example.com/a.png", "data:text/plain,x", ""]
)
extras = st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=2)
