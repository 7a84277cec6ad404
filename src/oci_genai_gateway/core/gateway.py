"""The gateway's request handling, shared by every transport: route, call core, shape the reply."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core import chat, embeddings
from oci_genai_gateway.core.deps import Deps
from oci_genai_gateway.core.errors import (
    GatewayError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
)
from oci_genai_gateway.core.models import ModelCatalog, oci_fetcher
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.sse import frame
from oci_genai_gateway.core.validate import parse_json_object

log = logging.getLogger(__name__)

_JSON = {"Content-Type": "application/json"}
_SSE = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_MODEL_PATH = re.compile(r"^/v1/models/(?P<model>.+)$")


@dataclass(frozen=True)
class Reply:
    """A transport-neutral response: a JSON body, or an SSE byte stream."""

    status: int
    body: dict[str, Any] | None = None
    stream: AsyncIterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(exc: GatewayError) -> Reply:
    """Render any GatewayError once, the same way for every transport."""
    return Reply(exc.status, exc.to_body(), headers={**_JSON, **exc.headers})


def route_path(path: str) -> str:
    """The OpenAI route inside a URL path (API Gateway prefixes it with the deployment path)."""
    path = path.split("?", 1)[0]
    for marker in ("/v1/", "/health/"):
        at = path.find(marker)
        if at >= 0:
            return path[at:].rstrip("/") or "/"
    return path


@dataclass
class Gateway:
    """Core dependencies plus the model catalogue; one per process (or per function container)."""

    deps: Deps
    catalog: ModelCatalog

    @classmethod
    def build(cls, settings: Settings, signer: Any, llm: Any) -> Gateway:
        """Wire the gateway from explicit parts (entry points build the parts)."""
        deps = Deps(settings=settings, signer=signer, llm=llm)
        return cls(deps, ModelCatalog(settings, oci_fetcher(settings, signer)))

    async def handle(self, method: str, path: str, body: bytes) -> Reply:
        """Serve one request; every failure becomes an OpenAI error reply, never an exception."""
        try:
            handler = self._route(method.upper(), route_path(path))
            if len(body) > self.deps.settings.max_body_bytes:
                raise PayloadTooLarge(f"The request body exceeds {self.deps.settings.max_body_bytes} bytes.")
            return await handler(body)
        except GatewayError as exc:
            return error_reply(exc)
        except Exception:
            log.exception("unhandled error", extra={"event": "bug"})
            return error_reply(InternalError("The gateway failed to process the request."))

    def _route(self, method: str, path: str) -> Callable[[bytes], Awaitable[Reply]]:
        routes: dict[str, dict[str, Callable[[bytes], Awaitable[Reply]]]] = {
            "/v1/chat/completions": {"POST": self.chat},
            "/v1/embeddings": {"POST": self.embeddings},
            "/v1/models": {"GET": self.list_models},
            "/health/readiness": {"GET": self.readiness},
            "/health/liveness": {"GET": self.readiness},
        }
        by_method = routes.get(path)
        if by_method is None:
            match = _MODEL_PATH.match(path)
            if match is None:
                raise NotFound(f"Unknown route: {path}", code="unknown_url")
            model = match["model"]
            by_method = {"GET": lambda _body: self.get_model(model)}
        handler = by_method.get(method)
        if handler is None:
            raise MethodNotAllowed(f"Method {method} is not allowed on {path}; use {', '.join(by_method)}.")
        return handler

    async def chat(self, body: bytes) -> Reply:
        """POST /v1/chat/completions."""
        call = chat.parse(parse_json_object(body), self.deps)
        if call.stream:
            chunks = await chat.open_stream(call, self.deps)
            return Reply(200, stream=frame(chunks), headers=dict(_SSE))
        return Reply(200, await chat.create(call, self.deps), headers=dict(_JSON))

    async def embeddings(self, body: bytes) -> Reply:
        """POST /v1/embeddings."""
        call = embeddings.parse(parse_json_object(body), self.deps)
        return Reply(200, await embeddings.create(call, self.deps), headers=dict(_JSON))

    async def list_models(self, _body: bytes) -> Reply:
        """GET /v1/models."""
        entries = await self.catalog.entries()
        return Reply(200, {"object": "list", "data": [e.to_dict() for e in entries]}, headers=dict(_JSON))

    async def get_model(self, model: str) -> Reply:
        """GET /v1/models/{model}."""
        return Reply(200, (await self.catalog.get(model)).to_dict(), headers=dict(_JSON))

    async def readiness(self, _body: bytes) -> Reply:
        """GET /health/readiness: the process is up and configured (no upstream call)."""
        return Reply(200, {"status": "ok"}, headers=dict(_JSON))
