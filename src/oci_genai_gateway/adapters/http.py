"""What both transports share: request ids, the access log line, JSON rendering, header folding."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from oci_genai_gateway.core.errors import InternalError
from oci_genai_gateway.core.exchange import Reply
from oci_genai_gateway.core.sse import json_bytes

access_log = logging.getLogger("oci_genai_gateway.access")
log = logging.getLogger(__name__)

# Generated ids and OCI's own ("/HEX/HEX") pass; anything else a client sends is replaced, not echoed.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")
_UNRENDERABLE = json.dumps(
    InternalError("The gateway failed to render its answer.").to_body(), separators=(",", ":")
).encode()


def request_id(candidates: Iterable[str | None]) -> str:
    """The first acceptable id among `candidates` (client's, then platform's), else a new one."""
    for candidate in candidates:
        if candidate and _REQUEST_ID.match(candidate):
            return candidate
    return f"req_{uuid.uuid4().hex}"


def lower_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """Header names lower-cased; a list value (the FDK's form) becomes its first item."""
    out: dict[str, str] = {}
    for key, value in dict(headers or {}).items():
        out[str(key).lower()] = str(value[0]) if isinstance(value, list) and value else str(value)
    return out


def render_json(body: Mapping[str, Any] | None) -> bytes:
    """The one JSON encoding of every reply body; it never raises (a reply is always sent)."""
    try:
        return json_bytes(body)
    except (TypeError, ValueError, RecursionError):
        log.exception("reply body not renderable", extra={"event": "bug"})
        return _UNRENDERABLE


def reply_bytes(reply: Reply) -> bytes:
    """A non-streaming reply's body as bytes."""
    return reply.content if reply.content is not None else render_json(reply.body)


def log_request(method: str, reply: Reply, started: float, **fields: Any) -> None:
    """One access-log line per request, the same fields on every transport (never a body or key)."""
    access_log.info(
        "request",
        extra={
            "event": "request",
            "method": method,
            "path": reply.route,
            "status": reply.status,
            "key_name": reply.principal,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            **fields,
        },
    )
