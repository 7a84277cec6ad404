"""One request through each front door, checked against the properties (shared by tests and bench/fuzz.py)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx

from oci_genai_devstack.localgw import LocalGateway
from oci_genai_gateway.adapters.fn import ROUTE_FAMILIES
from tests.fuzz.harness import asgi_client, fdk_call, function_handler, fuzz_gateway, local_gateway
from tests.fuzz.properties import Violation, check

Request = tuple[str, str, dict[str, str], bytes]


class AsgiDoor:
    """The ASGI app (compose target) in process."""

    name = "asgi"

    def __init__(self) -> None:
        self.gateway, self.oci = fuzz_gateway()
        self.client = asgi_client(self.gateway)

    async def send(self, request: Request) -> int:
        """Send one request; its status, or Violation on a bad answer."""
        method, path, headers, body = request
        reply = await self.client.request(method, path, headers=headers, content=body)
        check(reply.status_code, reply.headers.get("content-type", ""), reply.content, path=path)
        return reply.status_code

    async def aclose(self) -> None:
        """Release the client."""
        await self.client.aclose()


class FunctionDoor:
    """The chat, embeddings and models functions under the fdk runner, invoked by API Gateway or plainly."""

    name = "fn"

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[..., Any]] = {}
        for route, method in (
            ("/v1/chat/completions", "POST"),
            ("/v1/embeddings", "POST"),
            ("/v1/models", "GET"),
        ):
            gw, _ = fuzz_gateway(keys=False, serves=ROUTE_FAMILIES.get(route, route))
            self.handlers[route] = function_handler(route, method, gw)

    async def send(self, request: Request, *, plain: bool = False) -> int:
        """Invoke the function whose route `path` names (chat otherwise), as API Gateway would."""
        method, path, client_headers, body = request
        route = next((r for r in self.handlers if r in path), "/v1/chat/completions")
        headers = _platform(route)
        if not plain:
            headers |= {
                "Fn-Intent": "httprequest",
                "Fn-Http-Method": method,
                "Fn-Http-Request-Url": f"/genai{path}",
            }
            headers |= {f"Fn-Http-H-{name}": value for name, value in client_headers.items()}
        answer = await fdk_call(self.handlers[route], headers, body)
        if answer.status != 200:
            raise Violation(f"the fdk answered {answer.status}: {answer.body[:300]!r}")
        status = int(answer.headers.get("fn-http-status", "200"))
        content_type = answer.headers.get("fn-http-h-content-type") or answer.headers.get("content-type", "")
        if plain:
            # A plain invoke's caller sees no status: the body alone tells, so read it as the status.
            status = _status_of(answer.body, status)
        check(status, content_type, answer.body, path=path)
        return status


def _status_of(body: bytes, status: int) -> int:
    """400 for a client's error envelope, 500 for a server's (type server_error or api_error)."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return status
    if not isinstance(error, dict):
        return status
    return 500 if error.get("type") in ("server_error", "api_error") else 400


def _platform(route: str) -> dict[str, str]:
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    return {
        "Fn-Call-Id": "01FUZZ",
        "Fn-Deadline": deadline.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "Opc-Request-Id": "/FUZZ/0001",
        "Content-Type": "application/json",
    }


class LocalGatewayDoor:
    """The API Gateway spec (authorizer, routes, catch-alls) over the functions, all in process."""

    name = "localgw"

    def __init__(self) -> None:
        self.local: LocalGateway
        self.local, self.ocis = local_gateway()
        transport = httpx.ASGITransport(app=self.local, raise_app_exceptions=False)  # type: ignore[arg-type]
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def send(self, request: Request) -> int:
        """Send one request under the deployment prefix; its status."""
        method, path, headers, body = request
        reply = await self.client.request(method, f"/genai{path}", headers=headers, content=body)
        check(
            reply.status_code,
            reply.headers.get("content-type", ""),
            reply.content,
            api_gateway=True,
            path=path,
        )
        return reply.status_code

    async def aclose(self) -> None:
        """Release the client and the function clients."""
        await self.client.aclose()
        await self.local.invoker.aclose()
