"""A scripted OCI for in-process tests: enqueue what OCI answers (JSON, SSE events, errors, silence),
then check what the gateway sent. It is an httpx transport, so everything above HTTP is the real code."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import oci
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oci_genai_gateway.core.exchange import Reply, Request
from oci_genai_gateway.core.gateway import Gateway
from oci_genai_gateway.core.input.images import ImageFetcher
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.telemetry import NO_TELEMETRY, Telemetry
from oci_genai_gateway.core.upstream.signers import RefreshingSigner

BASE_ENV = {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..fake"}


class Hang:
    """OCI never answers (or, after a stream's events, never sends another byte)."""


@dataclass
class Json:
    """A JSON answer."""

    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Events:
    """A 200 event stream: `data:` lines, then the end, `data: [DONE]`, a dropped connection or silence."""

    events: list[dict[str, Any]]
    done: bool = False
    then: Hang | BaseException | None = None
    separator: bytes = b"\n\n"


@dataclass
class Sent:
    """One request the gateway sent to OCI."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    method: str = "POST"


class _Body(httpx.AsyncByteStream):
    def __init__(self, script: Events) -> None:
        self._script = script
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in self._script.events:
            yield b"data: " + json.dumps(event).encode() + self._script.separator
        if self._script.done:
            yield b"data: [DONE]" + self._script.separator
        if isinstance(self._script.then, Hang):
            await asyncio.Event().wait()
        if isinstance(self._script.then, BaseException):
            raise self._script.then

    async def aclose(self) -> None:
        self.closed = True


class ScriptedOci:
    """OCI Generative AI as a queue of answers; `sent` records each request it received."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.bodies: list[_Body] = []
        self._replies: deque[Json | Events | Hang | BaseException] = deque()
        self.transport = httpx.MockTransport(self._answer)

    def enqueue(self, *replies: Json | Events | Hang | BaseException) -> ScriptedOci:
        """Answers in order."""
        self._replies.extend(replies)
        return self

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.sent.append(Sent(str(request.url), dict(request.headers), body, request.method))
        assert self._replies, f"unscripted call to {request.url}"
        reply = self._replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, Hang):
            await asyncio.Event().wait()
        if isinstance(reply, Json):
            return httpx.Response(reply.status, json=reply.body, headers=reply.headers)
        assert isinstance(reply, Events)
        stream = _Body(reply)
        self.bodies.append(stream)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


class FakeMonitoring:
    """OCI Monitoring for in-process tests: keeps what was posted, answers token totals from `spent`."""

    def __init__(self, spent: Mapping[str, float] | None = None) -> None:
        self.posted: list[Any] = []  # PostMetricDataDetails, as the SDK would send them
        self.spent = dict(spent or {})
        self.queries: list[tuple[str, Any, Any]] = []
        self.fail: BaseException | None = None

    def post(self, details: Any) -> Any:
        if self.fail is not None:
            raise self.fail
        self.posted.append(details)
        return oci.monitoring.models.PostMetricDataResponseDetails(failed_metrics_count=0)

    def tokens_spent(self, team: str, start: Any, end: Any) -> float:
        self.queries.append((team, start, end))
        if self.fail is not None:
            raise self.fail
        return self.spent.get(team, 0.0)

    def datapoints(self) -> list[tuple[str, dict[str, str], float]]:
        """(metric, dimensions, value) of every datapoint posted so far."""
        return [
            (m.name, dict(m.dimensions), p.value)
            for d in self.posted
            for m in d.metric_data
            for p in m.datapoints
        ]


@functools.cache
def _signing_key() -> str:
    """One RSA key for every fake signer: generating a 2048-bit key costs ~60 ms of CPU each time."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode()


class FakeSessionSigner:
    """A session-token signer: signs with a real oci API-key signer, counts signatures and refreshes."""

    def __init__(self) -> None:
        self._real = oci.signer.Signer(
            "ocid1.tenancy.oc1..t", "ocid1.user.oc1..u", "aa:bb", None, private_key_content=_signing_key()
        )
        self.signed = 0
        self.refreshed = 0

    def __call__(self, request: Any, enforce_content_headers: bool = True) -> Any:
        self.signed += 1
        return self._real(request, enforce_content_headers=enforce_content_headers)

    def get_security_token(self) -> str:
        return "token"

    def refresh_security_token(self) -> None:
        self.refreshed += 1


def gateway(
    oci: ScriptedOci,
    monitoring: FakeMonitoring | None = None,
    clock: Callable[[], float] | None = None,
    serves: str | tuple[str, ...] | None = None,
    images: ImageFetcher | None = None,
    upstream_timeout: float | None = None,
    telemetry: Telemetry = NO_TELEMETRY,
    **env: str,
) -> tuple[Gateway, FakeSessionSigner]:
    """A gateway over `oci` (Monitoring `monitoring`, limits on `clock`, serving `serves` or every
    route), settings: BASE_ENV + `env`."""
    signer = FakeSessionSigner()
    monitoring = monitoring or FakeMonitoring()
    settings = fast_settings({**BASE_ENV, "GATEWAY_UPSTREAM_RETRIES": "0", **env})
    if upstream_timeout is not None:  # below the 1 s the environment allows: tests spend no seconds
        settings = dataclasses.replace(settings, upstream_timeout=upstream_timeout)
    authenticate = bool(settings.api_keys)  # as the HTTP server does; functions leave keys to API Gateway
    gw = Gateway.build(
        settings,
        RefreshingSigner(signer),
        transport=oci.transport,
        authenticate=authenticate,
        monitoring=monitoring,
        clock=clock or time.time,
        serves=serves,
        images=images,
        telemetry=telemetry,
    )
    return gw, signer


def fast_settings(env: Mapping[str, str]) -> Settings:
    """Settings from `env`, with the gateway's own waits (usage event, retry backoff) a few milliseconds."""
    return dataclasses.replace(Settings.from_env(env), usage_wait_seconds=0.02, retry_backoff_seconds=0.001)


async def send(
    gw: Gateway,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    **options: Any,
) -> Reply:
    """One request through `Gateway.handle`, as a transport would hand it over."""
    return await gw.handle(Request(method, path, dict(headers or {}), body, **options))


async def read_stream(reply: Reply) -> bytes:
    """A streamed reply's bytes (as the ASGI transport would send them)."""
    assert reply.stream is not None
    return b"".join([piece async for piece in reply.stream])


def sse_payloads(raw: bytes) -> list[Any]:
    """The SSE data payloads of a reply, `[DONE]` as the string."""
    out = []
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: ") :]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def generic_answer(
    text: str | None = "Hello",
    *,
    finish: str = "stop",
    usage: Mapping[str, Any] | None = None,
    tool_calls: Iterable[Mapping[str, Any]] = (),
    reasoning: str | None = None,
) -> Json:
    """A GENERIC chat answer, as OCI sends it."""
    message: dict[str, Any] = {"role": "ASSISTANT"}
    if text is not None:
        message["content"] = [{"type": "TEXT", "text": text}]
    if tool_calls:
        message["toolCalls"] = [{"type": "FUNCTION", **call} for call in tool_calls]
    if reasoning is not None:
        message["reasoningContent"] = reasoning
    choice = {"index": 0, "message": message, "finishReason": finish, "logprobs": {}}
    used = dict(usage or {"promptTokens": 3, "completionTokens": 2, "totalTokens": 5})
    chat = {
        "apiFormat": "GENERIC",
        "timeCreated": "2026-11-30T00:00:00.000Z",
        "choices": [choice],
        "usage": used,
    }
    return Json({"modelId": "m", "modelVersion": "1.0", "chatResponse": chat})


def cohere_answer(text: str = "Hello", *, finish: str = "COMPLETE", tool_calls: Iterable[Any] = ()) -> Json:
    """A COHERE chat answer."""
    chat: dict[str, Any] = {"apiFormat": "COHERE", "text": text, "finishReason": finish}
    chat["usage"] = {"promptTokens": 4, "completionTokens": 3, "totalTokens": 7}
    if tool_calls:
        chat["toolCalls"] = list(tool_calls)
    return Json({"modelId": "cohere.command-a-03-2025", "modelVersion": "1", "chatResponse": chat})


def text_event(text: str, **extra: Any) -> dict[str, Any]:
    """A GENERIC stream event carrying text."""
    return {
        "index": 0,
        "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": text}]},
        **extra,
    }


def oci_error(status: int, message: str, code: str | None = None, **headers: str) -> Json:
    """An OCI error answer `{"code", "message"}`."""
    return Json({"code": code or str(status), "message": message}, status, headers)


def embedding_answer(vectors: list[list[float]], tokens: int = 4) -> Json:
    """An embedText answer."""
    usage = {"promptTokens": tokens, "totalTokens": tokens}
    return Json({"id": "e", "embeddings": vectors, "modelId": "m", "modelVersion": "1", "usage": usage})


def model_summary(
    name: str,
    *,
    created: datetime.datetime | None = None,
    retired: datetime.datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A ModelSummary as OCI's ListModels serialises it (camelCase, RFC 3339 times)."""
    when = created or datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    item: dict[str, Any] = {
        "id": f"ocid1.generativeaimodel.oc1..{name}",
        "displayName": name,
        "lifecycleState": "ACTIVE",
        "type": "BASE",
        "capabilities": ["CHAT"],
        "vendor": name.split(".")[0],
        "timeCreated": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if retired is not None:
        item["timeOnDemandRetired"] = retired.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {**item, **fields}


def models_page(*items: dict[str, Any], next_page: str | None = None) -> Json:
    """One page of ListModels; `next_page` is OCI's `opc-next-page` token."""
    return Json({"items": list(items)}, headers={"opc-next-page": next_page} if next_page else {})
