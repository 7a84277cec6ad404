"""The unsigned test/dev control plane under /_emulator/ (never part of OCI's API)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import catalog
from .faults import Fault
from .scripts import Script
from .state import EmulatorState

PREFIX = "/_emulator"


class _BadRequest(Exception):
    pass


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise _BadRequest(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _BadRequest("body must be a JSON object")
    return data


def _field(data: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = data.get(name, default)
    if value is not None and not isinstance(value, kind):
        raise _BadRequest(f"{name} must be of type {kind.__name__}")
    return value


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The control routes, bound to `state`."""

    def route(path: str, handler: Any, methods: list[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(await handler(request))
            except (_BadRequest, ValueError) as exc:
                return JSONResponse({"code": "InvalidParameter", "message": str(exc)}, status_code=400)

        return Route(PREFIX + path, endpoint, methods=methods)

    async def resource_principal(request: Request) -> dict[str, Any]:
        data = await _json(request)
        default_dir = state.config.state_dir / "resource-principals" / uuid.uuid4().hex
        out_dir = Path(_field(data, "out_dir", str) or default_dir)
        options = {
            "region": _field(data, "region", str, state.config.region),
            "ttl_seconds": _field(data, "ttl_seconds", int, 3600),
        }
        for name in ("tenancy", "compartment"):
            if data.get(name) is not None:
                options[name] = _field(data, name, str)
        # RSA key generation and file I/O: keep them off the event loop.
        return await asyncio.to_thread(_mint, state, out_dir, options)

    async def api_key(request: Request) -> dict[str, Any]:
        data = await _json(request)
        key_id, pem = _field(data, "key_id", str), _field(data, "public_key_pem", str)
        if not key_id or not pem:
            raise _BadRequest("key_id and public_key_pem are required")
        state.verifier.register_api_key(key_id, pem)
        return {"registered": key_id}

    async def add_fault(request: Request) -> dict[str, Any]:
        data = await _json(request)
        fault = Fault.parse(_field(data, "fault", str) or "")
        count = _field(data, "count", int, 1)
        if count < 1:
            raise _BadRequest("count must be at least 1")
        region = _field(data, "region", str)
        state.faults.add(
            fault,
            path=_field(data, "path", str),
            model=_field(data, "model", str),
            count=count,
            region=region,
        )
        return {"queued": state.faults.pending()}

    async def add_answer(request: Request) -> dict[str, Any]:
        data = await _json(request)
        script = Script.parse(data.get("tool_calls"), data.get("text"))
        count = _field(data, "count", int, 1)
        if count < 1:
            raise _BadRequest("count must be at least 1")
        state.scripts.add(script, model=_field(data, "model", str), count=count)
        return {"queued": state.scripts.pending()}

    async def list_answers(request: Request) -> dict[str, Any]:
        return {"queued": state.scripts.pending()}

    async def clear_answers(request: Request) -> dict[str, Any]:
        state.scripts.clear()
        return {"queued": []}

    async def list_faults(request: Request) -> dict[str, Any]:
        return {"queued": state.faults.pending()}

    async def clear_faults(request: Request) -> dict[str, Any]:
        state.faults.clear()
        return {"queued": []}

    async def release(request: Request) -> dict[str, Any]:
        return {"released": state.holds.release()}

    async def holds(request: Request) -> dict[str, Any]:
        return {"held": state.holds.held, "lingering": state.lingering.held}

    async def requests(request: Request) -> dict[str, Any]:
        return {"requests": state.log.entries()}

    async def clear_requests(request: Request) -> dict[str, Any]:
        state.log.clear()
        return {"requests": []}

    async def metrics(request: Request) -> dict[str, Any]:
        return {"metrics": list(state.metrics.records)}

    async def clear_metrics(request: Request) -> dict[str, Any]:
        state.metrics.clear()
        return {"metrics": []}

    async def reset(request: Request) -> dict[str, Any]:
        return {"released": state.reset()}

    async def regions(request: Request) -> dict[str, Any]:
        return {"regions": state.regions.describe()}

    async def throttle(request: Request) -> dict[str, Any]:
        data = await _json(request)
        region = _field(data, "region", str) or state.config.region
        share = data.get("share")
        if not isinstance(share, int | float) or not 0 <= share <= 1:
            raise _BadRequest("share must be a number between 0 and 1")
        if not state.regions.known(region):
            raise _BadRequest(f"region {region!r} is not served by this emulator")
        state.regions.set_throttle(region, float(share))
        return {"regions": state.regions.describe()}

    async def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", "region": state.config.region}

    async def catalogue(request: Request) -> dict[str, Any]:
        return {
            "endpoints": {ocid: m.display_name for ocid, m in catalog.ENDPOINTS.items()},
            "custom_endpoint_id": catalog.CUSTOM_ENDPOINT_ID,
            "cohere_endpoint_id": catalog.COHERE_ENDPOINT_ID,
        }

    return [
        route("/resource-principal", resource_principal, ["POST"]),
        route("/api-keys", api_key, ["POST"]),
        route("/faults", add_fault, ["POST"]),
        route("/faults", list_faults, ["GET"]),
        route("/faults", clear_faults, ["DELETE"]),
        route("/answers", add_answer, ["POST"]),
        route("/answers", list_answers, ["GET"]),
        route("/answers", clear_answers, ["DELETE"]),
        route("/release", release, ["POST"]),
        route("/holds", holds, ["GET"]),
        route("/requests", requests, ["GET"]),
        route("/requests", clear_requests, ["DELETE"]),
        route("/metrics", metrics, ["GET"]),
        route("/metrics", clear_metrics, ["DELETE"]),
        route("/reset", reset, ["POST"]),
        route("/health", health, ["GET"]),
        route("/regions", regions, ["GET"]),
        route("/throttle", throttle, ["POST"]),
        route("/catalog", catalogue, ["GET"]),
    ]


def _mint(state: EmulatorState, out_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Mint resource-principal files and return the env plus the credentials themselves."""
    env = state.issuer.mint_resource_principal(out_dir, **options)
    return {
        "env": env,
        "rpst": _read(env["OCI_RESOURCE_PRINCIPAL_RPST"]),
        "private_pem": _read(env["OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"]),
        "region": env["OCI_RESOURCE_PRINCIPAL_REGION"],
        "out_dir": str(out_dir.resolve()),
    }


def _read(value: str) -> str:
    """A credential env value: the file's content when it is an absolute path, else the value itself."""
    return Path(value).read_text() if os.path.isabs(value) else value
