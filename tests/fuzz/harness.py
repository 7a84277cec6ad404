"""The three front doors in process, each over an OCI that answers whatever it is sent: the ASGI app,
an fdk function (the real fdk runner builds its context), and the local API Gateway over such functions."""

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from oci_genai_devstack.localgw import LocalGateway
from oci_genai_devstack.localgw.invoke import FunctionTarget, Invoker
from oci_genai_devstack.localgw.stack import AUTHORIZER, render_local_spec
from oci_genai_gateway.adapters.asgi import create_app
from oci_genai_gateway.adapters.fn import ROUTE_FAMILIES, FunctionRuntime
from oci_genai_gateway.authorizer import Authorizer, StaticKeys, respond
from oci_genai_gateway.core.gateway import Gateway
from tests.fakes import (
    Events,
    Json,
    ScriptedOci,
    cohere_answer,
    embedding_answer,
    gateway,
    generic_answer,
    model_summary,
    models_page,
    text_event,
)


def _import_fdk() -> None:
    """Import the fdk once, undoing what its import does to the root logger (DEBUG, its own handler)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    importlib.import_module("fdk.runner")
    importlib.import_module("fdk.response")
    root.setLevel(level)
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)


_import_fdk()
KEY = "sk-fuzz-key-000000000001"
FUNCTION_ROUTES = {"chat": ("/v1/chat/completions", "POST"), "embeddings": ("/v1/embeddings", "POST")}
FUNCTION_ROUTES["models"] = ("/v1/models", "GET")
FUNCTION_ROUTES["moderations"] = ("/v1/moderations", "POST")
USAGE = {"promptTokens": 3, "completionTokens": 2, "totalTokens": 5}


class AnsweringOci(ScriptedOci):
    """A ScriptedOci that, when nothing is scripted, answers each call as OCI would: chat (GENERIC or
    COHERE, streamed or not) and embedText with one vector per input."""

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        if not self._replies:
            body = json.loads(request.content) if request.content else {}
            self._replies.append(_reply_to(body, str(request.url)))
        return await super()._answer(request)


def _reply_to(body: dict[str, Any], url: str) -> Json | Events:
    if "/models?" in url:  # ListModels, one page
        embed = model_summary("cohere.embed-v4.0", capabilities=["TEXT_EMBEDDINGS"])
        return models_page(model_summary("xai.grok-4"), embed)
    if url.endswith("/actions/embedText"):
        return embedding_answer([[0.5, -0.25] for _ in body["inputs"]], len(body["inputs"]))
    if url.endswith("/actions/applyGuardrails"):
        categories = [{"name": "OVERALL", "score": 0.0}, {"name": "BLOCKLIST", "score": 0.0}]
        results = {"contentModeration": {"categories": categories}, "personallyIdentifiableInformation": []}
        return Json(
            {"results": {**results, "promptInjection": {"score": 0.0}}, "guardrailVersion": {"version": "1"}}
        )
    chat = body["chatRequest"]
    cohere = chat.get("apiFormat") == "COHERE"
    if not chat.get("isStream"):
        return cohere_answer("Hello") if cohere else generic_answer("Hello")
    if cohere:
        final = {"apiFormat": "COHERE", "text": "Hello", "finishReason": "COMPLETE", "usage": USAGE}
        return Events([{"apiFormat": "COHERE", "text": "Hello"}, final])
    return Events([text_event("Hello"), {"index": 0, "finishReason": "stop"}, {"usage": USAGE}])


def fuzz_gateway(
    *, keys: bool = True, serves: str | tuple[str, ...] | None = None, **settings: str
) -> tuple[Gateway, AnsweringOci]:
    """A gateway over an answering OCI (its model list too); no image fetching (no network in tests)."""
    oci = AnsweringOci()
    env = {"GATEWAY_FETCH_IMAGE_URLS": "false", "GATEWAY_MODEL_ALIASES": '{"fast": "xai.grok-3-mini"}'}
    if keys:
        env["GATEWAY_API_KEYS"] = f"fuzz:{KEY}"
    gw, _ = gateway(oci, serves=serves, **env, **settings)
    return gw, oci


def asgi_client(gw: Gateway) -> httpx.AsyncClient:
    """An httpx client speaking to the ASGI app in process."""
    # An exception out of the app becomes the plain 500 a real server would send, not a raise here.
    transport = httpx.ASGITransport(app=create_app(gw), raise_app_exceptions=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@dataclass(frozen=True)
class FdkAnswer:
    """What the fdk sends back to the platform: its own status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Code:
    """What fdk.customer_code.Function offers the runner: the handler."""

    def __init__(self, handler: Callable[..., Any]) -> None:
        self._handler = handler

    def handler(self) -> Callable[..., Any]:
        return self._handler


async def fdk_call(handler: Callable[..., Any], headers: Mapping[str, str], body: bytes) -> FdkAnswer:
    """One call as the fdk's HTTP server makes it: header names case-folded, the runner, the response."""
    from fdk import constants, runner

    folded = {name.casefold(): value for name, value in headers.items()}
    reply = await runner.handle_request(
        _Code(handler), constants.HTTPSTREAM, headers=folded, data=io.BytesIO(body)
    )
    out = {str(k).lower(): str(v) for k, v in reply.context().GetResponseHeaders().items()}
    return FdkAnswer(reply.status(), out, reply.body_bytes())


def function_handler(route: str, method: str, gw: Gateway) -> Callable[..., Any]:
    """The fdk handler of the function serving `method route`, over `gw`."""
    return FunctionRuntime(lambda: gw, route, method).handle


def authorizer_handler() -> Callable[..., Any]:
    """The authorizer function's handler (functions/authorizer/func.py) over one static key."""
    from fdk import response

    decider = Authorizer(StaticKeys({"fuzz": KEY}), grant_seconds=60)

    def handler(ctx: Any, data: io.BytesIO | None = None) -> Any:
        status, body = respond(lambda: decider, data.getvalue() if data is not None else b"")
        return response.Response(
            ctx, response_data=body, headers={"Content-Type": "application/json"}, status_code=status
        )

    return handler


class InProcessInvoker(Invoker):
    """localgw's invoker with each function socket answered by the fdk runner in process."""

    def __init__(self, handlers: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__()
        self._handlers = dict(handlers)

    def _client(self, socket_path: str) -> httpx.AsyncClient:
        handler = self._handlers[socket_path]

        async def answer(request: httpx.Request) -> httpx.Response:
            got = await fdk_call(handler, dict(request.headers), request.content)
            return httpx.Response(got.status, headers=got.headers, content=got.body)

        return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://function")


def local_gateway() -> tuple[LocalGateway, dict[str, AnsweringOci]]:
    """The API Gateway spec executed over the four functions in process (rate limit out of the way)."""
    handlers: dict[str, Callable[..., Any]] = {AUTHORIZER: authorizer_handler()}
    ocis: dict[str, AnsweringOci] = {}
    for name, (route, method) in FUNCTION_ROUTES.items():
        gw, ocis[name] = fuzz_gateway(keys=False, serves=ROUTE_FAMILIES.get(route, route))
        handlers[name] = function_handler(route, method, gw)
    targets = {name: FunctionTarget(name) for name in handlers}
    # No usage plans: the fuzz authorizer grants every key without a subscriber.
    spec = render_local_spec(rate_limit_rps=1_000_000, usage_plans=False)
    local = LocalGateway(spec, targets, path_prefix="/genai")
    local.invoker = InProcessInvoker(handlers)
    assert local.authenticator is not None
    local.authenticator.invoker = local.invoker
    return local, ocis
