"""The emulator's HTTP app: OCI routes behind signature checks and faults, plus the control plane."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import catalog, chat, chat_v2, control, embed, encoding, guardrails, listing, monitoring
from .auth import AuthError
from .catalog import Model
from .chat_input import read_turn
from .checks import check_chat
from .errors import OciError, inference_error, invalid, not_authenticated, not_found
from .faults import HEADER, Fault
from .state import EmulatorConfig, EmulatorState
from .validation import parse_json, validate

API = "/20231130"
log = logging.getLogger("oci_genai_emulator")


class StreamCut(Exception):
    """Raised inside a stream to drop the connection mid-way (a `cut` fault)."""


class _DropStreamCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # A deliberate cut is not a server error: keep it out of the server's error log.
        return not (record.exc_info and isinstance(record.exc_info[1], StreamCut))


@dataclass(frozen=True)
class Call:
    """One authenticated OCI request, as handlers see it."""

    request: Request
    body: Any
    fault: Fault
    state: EmulatorState
    entry: dict[str, Any]  # this request's line in the request log
    region: str  # the region addressed (regions.py)


Handler = Callable[[Call], Awaitable[Response]]


def create_app(config: EmulatorConfig) -> Starlette:
    """The emulator as an ASGI app (what `python -m oci_genai_emulator` serves)."""
    state = EmulatorState.create(config)
    logging.getLogger("uvicorn.error").addFilter(_DropStreamCuts())

    def oci(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await _oci_call(request, state, handler)

        return endpoint

    routes = [
        *control.routes(state),
        # The default region without a prefix, every region (the default too) under /<region>.
        *(
            route
            for prefix in ("", "/{region}")
            for route in (
                Route(f"{prefix}{API}/actions/chat", oci(_chat), methods=["POST"]),
                Route(f"{prefix}{API}/actions/embedText", oci(_embed), methods=["POST"]),
                Route(f"{prefix}{API}/actions/applyGuardrails", oci(_apply_guardrails), methods=["POST"]),
                Route(f"{prefix}{API}/guardrailVersions", oci(_guardrail_versions), methods=["GET"]),
                Route(f"{prefix}{API}/models", oci(_models), methods=["GET"]),
                # OCI Monitoring (custom metrics): ingestion and queries, on this same host.
                Route(f"{prefix}{monitoring.API}/metrics", oci(_post_metrics), methods=["POST"]),
                Route(
                    f"{prefix}{monitoring.API}/metrics/actions/summarizeMetricsData",
                    oci(_summarize),
                    methods=["POST"],
                ),
            )
        ),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.emulator = state
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(
        OciError(404, "NotAuthorizedOrNotFound", f"No route for {request.url.path}"), _request_id(request)
    )


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error(
        OciError(405, "MethodNotAllowed", f"{request.method} is not allowed here"), _request_id(request)
    )


def _request_id(request: Request) -> str:
    # OCI echoes a client-supplied opc-request-id as the prefix of its own.
    server_part = uuid.uuid4().hex.upper()
    client = request.headers.get("opc-request-id")
    return f"{client}/{server_part}" if client else server_part


def _error(err: OciError, request_id: str) -> Response:
    headers = {**err.headers, "opc-request-id": request_id}
    return JSONResponse(err.body(), status_code=err.status, headers=headers)


async def _oci_call(request: Request, state: EmulatorState, handler: Handler) -> Response:
    request_id = _request_id(request)
    raw = await request.body()
    entry = state.log.add(request.method, request.url.path, request.url.query)
    region = str(request.path_params.get("region", state.config.region))
    entry["region"] = region
    fault = Fault()
    try:
        if not state.regions.known(region):
            raise OciError(404, "NotAuthorizedOrNotFound", f"This emulator does not serve {region}")
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        target = raw_path.decode("latin-1") + (f"?{request.url.query}" if request.url.query else "")
        principal = state.verifier.verify(request.method, target, dict(request.headers), raw)
        entry["principal"] = {
            "kind": principal.kind,
            "tenancy": principal.tenancy,
            "compartment": principal.compartment,
        }
        body = parse_json(raw) if request.method == "POST" else None
        entry["body"] = body
        fault = _pick_fault(request, state, body, region)
        if "/actions/" in request.url.path and state.regions.throttled(region):
            fault = Fault(status=429)  # the region's steady throttling (--throttle)
        entry["fault"] = fault.describe()
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if (err := fault.error()) is not None:
            raise err
        response = await handler(Call(request, body, fault, state, entry, region))
        if fault.hold_after is not None and not isinstance(response, StreamingResponse):
            await state.holds.wait()
    except OciError as err:
        response = _error(err, request_id)
    except AuthError as err:
        entry["auth_error"] = err.reason
        response = _error(not_authenticated(str(err)), request_id)
    except Exception:
        log.exception("emulator handler failed")
        response = _error(OciError(500, "InternalServerError", "Internal error occurred."), request_id)
    entry["status"] = response.status_code
    response.headers["opc-request-id"] = request_id
    if encoding.offers_zstd(request.headers.get("accept-encoding")):
        response = encoding.compress(response)
    return response


def _pick_fault(request: Request, state: EmulatorState, body: Any, region: str) -> Fault:
    header = request.headers.get(HEADER)
    if header:
        try:
            return Fault.parse(header)
        except ValueError as exc:
            raise invalid(f"{HEADER}: {exc}") from exc
    return state.faults.take(request.url.path, _model_refs(body), region) or Fault()


def _model_refs(body: Any) -> set[str]:
    """Every name a test may use to target this request's model with a queued fault."""
    mode = body.get("servingMode") if isinstance(body, dict) else None
    if not isinstance(mode, dict):
        return set()
    refs = {str(v) for k in ("modelId", "endpointId") if (v := mode.get(k))}
    for ref in list(refs):
        model = catalog.resolve_on_demand(ref) or catalog.by_endpoint(ref)
        if model:
            refs |= {model.display_name, model.id}
    return refs


def _serving_model(details: Any, call: Call, *, capability: str) -> Model:
    """The model a validated ChatDetails/EmbedTextDetails targets, or OCI's 404/400."""
    mode = details.serving_mode
    if mode.serving_type == "DEDICATED":
        model = catalog.by_endpoint(mode.endpoint_id or "")
        if model is None:
            raise not_found(f"Endpoint {mode.endpoint_id} not found or not authorized")
        return model
    model = catalog.resolve_on_demand(mode.model_id or "", capability)
    if model is None:
        raise not_found(f"Entity with key {mode.model_id} not found")
    if not call.state.regions.serves(call.region, model):
        raise not_found(f"Entity with key {mode.model_id} not found")  # as OCI answers where it is not
    if not model.on_demand:
        # Listed ACTIVE with the capability, but nothing serves it on demand.
        raise inference_error(404, f"Entity with key {model.id} not found")
    if model.type == "CUSTOM":
        raise invalid(f"Model {mode.model_id} is a fine-tuned model; call it through its dedicated endpoint")
    if model.retired_on_demand(datetime.now(UTC)):
        retired = model.time_on_demand_retired.date() if model.time_on_demand_retired else ""
        raise invalid(f"Model {model.display_name} was retired for on-demand serving on {retired}")
    if capability not in model.capabilities:
        raise invalid(f"Model {model.display_name} does not support {capability}")
    return model


async def _chat(call: Call) -> Response:
    details = validate(call.body, "ChatDetails")
    model = _serving_model(details, call, capability="CHAT")
    turn = read_turn(call.body["chatRequest"])
    if turn.api_format not in model.api_formats:
        raise invalid(
            f"Model {model.display_name} requires apiFormat {' or '.join(model.api_formats)}, "
            f"not {turn.api_format}"
        )
    if turn.images and not model.vision:
        raise invalid(f"Model {model.display_name} does not support image input")
    check_chat(model, turn)
    script = call.state.scripts.take(_model_refs(call.body), [t.name for t in turn.tools])
    if script is not None:
        call.entry["scripted"] = script.describe()
    choices = chat.answer(turn, model, script)
    if turn.stream:
        if turn.api_format == "COHEREV2":
            return _sse(chat_v2.stream(model, turn, choices[0]), call)
        return _sse(chat.stream(model, turn, choices), call)
    if turn.api_format == "COHERE":
        return JSONResponse(chat.cohere_result(model, turn, choices[0]))
    if turn.api_format == "COHEREV2":
        return JSONResponse(chat_v2.result(model, turn, choices[0]))
    return JSONResponse(chat.generic_result(model, turn, choices))


def _sse(answer: chat.Stream, call: Call) -> StreamingResponse:
    # No charset suffix: the oci SDK only treats an exact "text/event-stream" as a stream.
    frames = [f"data: {json.dumps(e, separators=(',', ':'))}{answer.separator}" for e in answer.events]
    if answer.ends_with_done:
        frames.append(f"data: [DONE]{answer.separator}")
    return StreamingResponse(
        _stream(frames, call.fault, call.state, linger=not answer.ends_with_done),
        headers={"content-type": "text/event-stream"},
    )


async def _stream(
    frames: Sequence[str], fault: Fault, state: EmulatorState, *, linger: bool
) -> AsyncIterator[bytes]:
    """Send the frames one by one (faults count frames, `[DONE]` included), then end as OCI does."""
    for sent, frame in enumerate(frames):
        if fault.cut_after is not None and sent >= fault.cut_after:
            raise StreamCut
        if fault.hold_after is not None and sent == fault.hold_after:
            await state.holds.wait()
        if fault.token_delay_ms:
            await asyncio.sleep(fault.token_delay_ms / 1000)
        yield frame.encode()
    if fault.hold_after is not None and fault.hold_after >= len(frames):
        await state.holds.wait()
    if fault.cut_after is not None and fault.cut_after >= len(frames):
        raise StreamCut
    if linger:
        # Without [DONE], OCI leaves the connection open after the last event: a client must stop
        # at the finish (or usage) event, not wait for EOF. Ends when the client leaves (Starlette
        # cancels the stream on disconnect), on a reset, or after the linger time.
        seconds = None if fault.linger_ms is None else fault.linger_ms / 1000
        await state.lingering.wait(seconds)


async def _embed(call: Call) -> Response:
    details = validate(call.body, "EmbedTextDetails")
    model = _serving_model(details, call, capability="TEXT_EMBEDDINGS")
    # Hashing up to 96 long vectors is a few ms of CPU: keep it off the event loop.
    return JSONResponse(await asyncio.to_thread(embed.embed_result, model, call.body))


async def _apply_guardrails(call: Call) -> Response:
    validate(call.body, "ApplyGuardrailsDetails")
    return JSONResponse(guardrails.apply(call.body))


async def _guardrail_versions(call: Call) -> Response:
    if not call.request.headers.get("opc-compartment-id"):
        raise invalid("Missing required header 'opc-compartment-id'")
    return JSONResponse(guardrails.versions(call.request.query_params))


async def _post_metrics(call: Call) -> Response:
    now = datetime.now(UTC)
    return JSONResponse(monitoring.post_metric_data(call.body, call.state.metrics, now))


async def _summarize(call: Call) -> Response:
    query = call.request.query_params
    now = datetime.now(UTC)
    return JSONResponse(monitoring.summarize_metrics_data(call.body, query, call.state.metrics, now))


async def _models(call: Call) -> Response:
    regions, region = call.state.regions, call.region
    body, next_page = listing.list_models(
        call.request.query_params, call.state.config.page_size, lambda m: regions.serves(region, m)
    )
    headers = {"opc-next-page": next_page} if next_page else {}
    return JSONResponse(body, headers=headers)
