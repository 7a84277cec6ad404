"""Bounds on what a client may send, checked before any work is done on it (docs/RELIABILITY.md)."""

from __future__ import annotations

import itertools
import operator
import re
from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest

# Nesting of the whole JSON body, scanned on the raw bytes before json.loads: a deeply nested body
# would otherwise make every recursive consumer (the json module, LiteLLM, OCI) fail or spin.
MAX_JSON_DEPTH = 64
MAX_MESSAGES = 2048
MAX_CONTENT_PARTS = 256  # per message
MAX_TOOLS = 128  # OpenAI's own limit
MAX_TOOL_CALLS = 128  # per assistant message
MAX_NAME_CHARS = 64  # function and participant names (OpenAI's limit)
MAX_ID_CHARS = 256  # tool call ids, `user`, `prompt_cache_key`, `safety_identifier`
# Every tool schema and the response_format schema together, counted as LiteLLM's OCI transform
# expands them (each local `$ref` inlined, cycles cut): a 2 KB schema whose $defs refer twice to
# the previous one expands 2^n-fold and held the CPU for seconds before this bound.
MAX_SCHEMA_NODES = 20_000
MAX_SCHEMA_DEPTH = 64  # levels of one expanded schema
MAX_STOP = 4
MAX_STOP_CHARS = 256
MAX_METADATA_PAIRS = 16  # OpenAI's metadata limits: 16 pairs, 64-character keys, 512-character values
MAX_METADATA_KEY_CHARS = 64
MAX_METADATA_VALUE_CHARS = 512
MAX_LOGIT_BIAS = 1024
MAX_TOKENS = 2**31 - 1  # max_tokens / max_completion_tokens
MAX_DIMENSIONS = 16_384  # embeddings `dimensions`
# A client-supplied name is echoed in an error message at most this long.
_ECHO_CHARS = 64

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_LEAF_PASSES = 4
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def echo(name: str) -> str:
    """A client-supplied name, shortened for an error message."""
    return name if len(name) <= _ECHO_CHARS else name[:_ECHO_CHARS] + "..."


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text `raw` nests arrays/objects deeper than `limit`, in linear C-level passes.

    Exact for any text json.loads accepts up to the point where it stops; an invalid text may be
    misjudged, but json.loads refuses it before nesting any deeper than this scan saw.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    # Escapes first (a backslash pair, then an escaped quote), so every remaining quote delimits a
    # string; the even pieces between quotes are outside strings.
    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(text.split(b'"')[::2]).translate(_BRACKETS, _NOT_BRACKETS)
    if b"[" * (limit + 1) in brackets:
        return True
    # Each pass dropping the empty pairs (the leaves) lowers the deepest nesting by one; after k
    # passes a peak stands for at least 2(k + 1) bytes, which bounds the lists below.
    for _ in range(_LEAF_PASSES):
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break
        brackets, limit = shorter, limit - 1
    # Split at each valley "][": piece i is "[" * o + "]" * c (boundary brackets cancel), and its
    # peak sits at the sum of (o - c) over the pieces before it, plus its own o.
    pieces = brackets.split(b"][")
    opens = list(map(bytes.count, pieces, itertools.repeat(b"[")))
    closes = map(bytes.count, pieces, itertools.repeat(b"]"))
    peaks = map(operator.add, itertools.accumulate(map(operator.sub, opens, closes), initial=0), opens)
    return max(peaks, default=0) > limit


def may_hold_surrogates(text: str) -> bool:
    """Whether `text` (already UTF-8-decoded JSON) has an escape that may decode to a surrogate."""
    return _SURROGATE_ESCAPE.search(text) is not None


class SchemaBudget:
    """Counts schema nodes as LiteLLM's OCI transform expands them; 400 once over the bounds."""

    def __init__(self, nodes: int = MAX_SCHEMA_NODES, depth: int = MAX_SCHEMA_DEPTH) -> None:
        self.left = nodes
        self.nodes = nodes
        self.depth = depth

    def spend(self, schema: Any, param: str) -> None:
        """Count `schema` (a tool's `parameters` or a response format's `schema`) against the budget."""
        defs = schema.get("$defs") if isinstance(schema, dict) else None
        self._walk(schema, defs if isinstance(defs, dict) else {}, set(), 1, param)

    def _walk(self, node: Any, defs: dict[str, Any], resolving: set[str], level: int, param: str) -> None:
        # Mirrors litellm.llms.oci.common_utils.resolve_oci_schema_refs: `#/$defs/<...>/<key>` is
        # replaced by defs[key] (or left as is when missing), a key already being resolved by a stub.
        if level > self.depth:
            raise InvalidRequest(
                f"Invalid '{param}': the schema nests deeper than {self.depth} levels.", param=param
            )
        self.left -= 1
        if self.left < 0:
            raise InvalidRequest(
                f"Invalid '{param}': the tool and response schemas together exceed {self.nodes} nodes "
                "(with every $ref expanded).",
                param=param,
            )
        if isinstance(node, list):
            for item in node:
                self._walk(item, defs, resolving, level + 1, param)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            key = ref.split("/")[-1]
            if key in resolving or key not in defs:
                return
            resolving.add(key)
            try:
                self._walk(defs[key], defs, resolving, level, param)
            finally:
                resolving.discard(key)
            return
        # Any other $ref is left as it is, and its object walked like any other by LiteLLM's passes.
        for value in node.values():
            self._walk(value, defs, resolving, level + 1, param)
