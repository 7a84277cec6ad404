"""CUSTOM_AUTHENTICATION: call the multi-argument authorizer function and cache its grants."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oci_genai_devstack.localgw.http import Headers, Response
from oci_genai_devstack.localgw.invoke import FunctionTarget, FunctionTimeout, FunctionUnavailable, Invoker
from oci_genai_devstack.localgw.spec import AuthPolicy, FailurePolicy, HeaderSet

Clock = Callable[[], float]
# OCI caches an authorizer's answer until its expiresAt, but never for more than an hour.
MAX_CACHE_SECONDS = 3600.0
_VARIABLE = re.compile(r"^request\.(auth|headers|query|path)\[([^\]]+)\]$")
_EXPRESSION = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class RequestView:
    """The parts of a request that context variables can name (`auth`: the authorizer's context)."""

    headers: Headers
    query: Mapping[str, str]
    path_params: Mapping[str, str]
    auth: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """An `active: true` answer."""

    principal: str | None
    scope: tuple[str, ...]
    context: Mapping[str, Any]
    expires_at: float | None


@dataclass(frozen=True)
class Denial:
    """An `active: false` answer, or a request that carries none of the arguments."""

    www_authenticate: str | None = None


class AuthorizerFailed(Exception):
    """The authorizer could not decide (5xx, timeout, nonsense): the gateway answers 502."""


def context_value(expression: str, request: RequestView) -> str | None:
    """Evaluate one `request.*` context variable; None when the request lacks it."""
    if expression == "request.host":
        return request.headers.get("host")
    match = _VARIABLE.match(expression)
    if match is None:
        return None
    source, name = match.groups()
    if source == "headers":
        return request.headers.get(name)
    if source == "auth":
        value = request.auth.get(name)
        return None if value is None else str(value)
    return (request.query if source == "query" else request.path_params).get(name)


def render(template: str, request: RequestView) -> str:
    """A header value with its `${request...}` expressions filled in (an absent one is empty)."""
    return _EXPRESSION.sub(lambda m: context_value(m.group(1).strip(), request) or "", template)


def apply_set_headers(headers: Headers, items: tuple[HeaderSet, ...], value: Callable[[str], str]) -> None:
    """A `setHeaders` transformation: OVERWRITE replaces, APPEND adds, SKIP keeps an existing header."""
    for item in items:
        exists = headers.get(item.name) is not None
        if exists and item.if_exists == "SKIP":
            continue
        if item.if_exists != "APPEND":
            headers.remove(item.name)
        for raw in item.values:
            headers.append(item.name, value(raw))


@dataclass
class Authenticator:
    """Decides a request's authentication the way OCI API Gateway does with an authorizer function."""

    policy: AuthPolicy
    target: Callable[[str], FunctionTarget]
    invoker: Invoker
    clock: Clock = time.time
    calls: int = 0  # authorizer invocations so far (cache hits do not count)
    _cache: dict[tuple[str, ...], Grant] = field(default_factory=dict)

    def arguments(self, request: RequestView) -> dict[str, str] | None:
        """The authorizer's `data` (the arguments the request has), or None when it has none of them.

        OCI's pages on multi-argument authorizers do not say what a missing argument does; the spec
        passes the key in either of two headers, so any one present is enough for a call here, and a
        request with none is anonymous (apigw/README.md, "Authentication").
        """
        data: dict[str, str] = {}
        for name, expression in self.policy.parameters:
            value = context_value(expression, request)
            if value is not None:
                data[name] = value
        return data or None

    async def decide(self, data: Mapping[str, str], request_id: str) -> Grant | Denial:
        """A cached grant, or the authorizer function's fresh answer."""
        key = tuple(data.get(name, "") for name in self.policy.cache_key)
        cached = self._cache.get(key)
        if cached is not None and cached.expires_at is not None and cached.expires_at > self.clock():
            return cached
        self._cache.pop(key, None)
        answer = await self._call(data, request_id)
        if isinstance(answer, Grant) and answer.expires_at is not None:
            # Only grants are cached: a key added to the authorizer works at once.
            self._cache[key] = answer
        return answer

    async def _call(self, data: Mapping[str, str], request_id: str) -> Grant | Denial:
        self.calls += 1
        event = json.dumps({"type": "USER_DEFINED", "data": dict(data)}).encode()
        try:
            reply = await self.invoker.plain(self.target(self.policy.function_id), event, request_id)
        except (FunctionTimeout, FunctionUnavailable) as exc:
            raise AuthorizerFailed(type(exc).__name__) from exc
        if reply.status != 200:
            raise AuthorizerFailed(f"authorizer answered {reply.status}")
        try:
            answer = json.loads(reply.body)
        except ValueError:
            raise AuthorizerFailed("authorizer answered something other than JSON") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
            raise AuthorizerFailed("authorizer answer has no boolean `active`")
        if not answer["active"]:
            challenge = answer.get("wwwAuthenticate")
            return Denial(challenge if isinstance(challenge, str) else None)
        return Grant(
            principal=answer.get("principal"),
            scope=tuple(answer.get("scope") or ()),
            context=answer.get("context") or {},
            expires_at=self._expiry(answer.get("expiresAt")),
        )

    def _expiry(self, value: object) -> float | None:
        if not isinstance(value, str):
            return None
        try:
            stamp = datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
        return min(stamp, self.clock() + MAX_CACHE_SECONDS)


def failure_response(policy: FailurePolicy | None, denial: Denial) -> Response:
    """The 401 (or the policy's MODIFY_RESPONSE) a client gets when authentication fails."""
    headers = Headers([("content-type", "application/json")])
    if denial.www_authenticate:
        headers.set("www-authenticate", denial.www_authenticate)
    if policy is None:
        return Response(401, b'{"code":401,"message":"Unauthorized"}', headers)
    apply_set_headers(headers, policy.set_headers, lambda raw: raw)
    return Response(policy.status, policy.body.encode(), headers)
