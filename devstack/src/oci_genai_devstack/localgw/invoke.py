"""Call functions over their fdk unix sockets with the headers the OCI platform sends."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from oci_genai_devstack.localgw.http import Headers

# Per-hop headers: they describe one connection, so neither OCI nor we pass them on.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
    | {"proxy-authorization", "proxy-authenticate", "proxy-connection"}
)
_HTTP_PREFIX = "fn-http-h-"


class FunctionUnavailable(Exception):
    """The function's socket cannot be reached or the call broke off."""


class FunctionTimeout(Exception):
    """The function did not answer within its timeout."""


@dataclass(frozen=True)
class FunctionTarget:
    """Where a function listens and how long a call may take (its func.yaml `timeout`)."""

    socket_path: str
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class FunctionReply:
    """What the FDK sent back: its own status, the client-facing status, headers and body."""

    fdk_status: int
    status: int
    headers: Headers
    body: bytes


@dataclass(frozen=True)
class HttpCall:
    """The client's request as API Gateway hands it to a function."""

    method: str
    url: str  # path + query, with the deployment prefix
    headers: Headers
    body: bytes
    client_ip: str
    request_id: str


def request_id() -> str:
    """An OCI-style opc-request-id."""
    return f"/{uuid.uuid4().hex.upper()}/{uuid.uuid4().hex.upper()}"


class Invoker:
    """One HTTP/1.1 client per function socket, kept open across calls as the platform does."""

    def __init__(self) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}

    def _client(self, socket_path: str) -> httpx.AsyncClient:
        client = self._clients.get(socket_path)
        if client is None:
            transport = httpx.AsyncHTTPTransport(uds=socket_path)
            client = httpx.AsyncClient(transport=transport, base_url="http://function")
            self._clients[socket_path] = client
        return client

    async def aclose(self) -> None:
        """Close every socket client."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def http(self, target: FunctionTarget, call: HttpCall) -> FunctionReply:
        """An "http request" invoke (Fn-Intent: httprequest), as for a route backend."""
        headers = _platform_headers(target, call.request_id, call.headers.get("content-type"))
        headers += [
            ("Fn-Intent", "httprequest"),
            ("Fn-Http-Method", call.method),
            ("Fn-Http-Request-Url", call.url),
            ("X-Real-Ip", call.client_ip),
            ("X-Forwarded-For", call.client_ip),
        ]
        headers += [(f"Fn-Http-H-{name}", value) for name, value in forwarded_headers(call)]
        return await self._post(target, headers, call.body, gateway=True)

    async def plain(self, target: FunctionTarget, body: bytes, rid: str) -> FunctionReply:
        """A plain sync invoke with a JSON body, as API Gateway calls an authorizer function."""
        headers = _platform_headers(target, rid, "application/json")
        return await self._post(target, headers, body, gateway=False)

    async def _post(
        self, target: FunctionTarget, headers: list[tuple[str, str]], body: bytes, *, gateway: bool
    ) -> FunctionReply:
        try:
            response = await self._client(target.socket_path).post(
                "/call", content=body, headers=headers, timeout=target.timeout_seconds
            )
        except httpx.TimeoutException as exc:
            raise FunctionTimeout(str(target.socket_path)) from exc
        except httpx.TransportError as exc:
            raise FunctionUnavailable(f"{target.socket_path}: {type(exc).__name__}") from exc
        return _decode(response, gateway=gateway)


def forwarded_headers(call: HttpCall) -> Headers:
    """The client's headers as the function sees them, plus the proxy headers OCI adds."""
    out = Headers((name, value) for name, value in call.headers if name.lower() not in HOP_BY_HOP)
    out.set("X-Real-Ip", call.client_ip)
    previous = call.headers.get("x-forwarded-for")
    out.set("X-Forwarded-For", f"{previous}, {call.client_ip}" if previous else call.client_ip)
    out.append("Forwarded", f"for={call.client_ip}")
    return _joined(out)


def _joined(headers: Iterable[tuple[str, str]]) -> Headers:
    # One Fn-Http-H-<Name> per name: the FDK keeps a dict, so repeats would be lost or mangled.
    merged: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers:
        merged.setdefault(name.lower(), (name, []))[1].append(value)
    sep = {"cookie": "; "}
    return Headers([(name, sep.get(key, ", ").join(values)) for key, (name, values) in merged.items()])


def _platform_headers(target: FunctionTarget, rid: str, content_type: str | None) -> list[tuple[str, str]]:
    deadline = datetime.now(UTC) + timedelta(seconds=target.timeout_seconds)
    return [
        ("Fn-Call-Id", uuid.uuid4().hex.upper()),
        ("Fn-Deadline", deadline.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"),
        ("Fn-Invoke-Type", "sync"),
        ("Opc-Request-Id", rid),
        ("Content-Type", content_type or "application/octet-stream"),
        ("Date", datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")),
    ]


def _decode(response: httpx.Response, *, gateway: bool) -> FunctionReply:
    """Undo the FDK's encapsulation: Fn-Http-Status and Fn-Http-H-* become the client's response."""
    fdk_status = response.status_code
    raw = Headers(response.headers.multi_items())
    if not gateway:
        return FunctionReply(fdk_status, fdk_status, raw, response.content)
    headers = Headers()
    for name, value in raw:
        key = name.lower()
        if key.startswith(_HTTP_PREFIX):
            headers.append(key[len(_HTTP_PREFIX) :], value)
        elif key == "content-type":
            headers.set("content-type", value)
    for name in HOP_BY_HOP:
        headers.remove(name)
    status = _int(raw.get("fn-http-status"), fdk_status)
    return FunctionReply(fdk_status, status, headers, response.content)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
