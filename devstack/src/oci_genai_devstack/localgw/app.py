"""The local gateway's ASGI app: one rendered deployment spec executed over real fdk functions."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from oci_genai_devstack.localgw import http
from oci_genai_devstack.localgw.auth import (
    Authenticator,
    AuthorizerFailed,
    Clock,
    Denial,
    RequestView,
    apply_set_headers,
    context_value,
    failure_response,
    render,
)
from oci_genai_devstack.localgw.http import BodyTooLarge, Headers, Receive, Response, Scope, Send
from oci_genai_devstack.localgw.invoke import (
    FunctionTarget,
    FunctionTimeout,
    FunctionUnavailable,
    HttpCall,
    Invoker,
    request_id,
)
from oci_genai_devstack.localgw.policies import (
    RateLimiter,
    add_cors_headers,
    is_preflight,
    preflight_response,
    too_many_requests,
)
from oci_genai_devstack.localgw.spec import FunctionBackend, Route, StockBackend, parse
from oci_genai_devstack.localgw.usage_plans import UsagePlans
from oci_genai_gateway import apigw_spec
from oci_genai_gateway.apigw_spec import SpecError

log = logging.getLogger(__name__)


class LocalGateway:
    """Does per request what OCI API Gateway does with the spec: a development and test tool only."""

    def __init__(
        self,
        spec: Mapping[str, Any],
        functions: Mapping[str, FunctionTarget],
        *,
        path_prefix: str = "/",
        clock: Clock = time.time,
        body_limit: int = apigw_spec.FUNCTION_BODY_LIMIT_BYTES,
        validate: bool = True,
        usage_plans: UsagePlans | None = None,
    ) -> None:
        if validate:
            apigw_spec.validate(spec)
        self.deployment = parse(spec)
        self._functions = dict(functions)
        missing = sorted(self.deployment.function_ids() - self._functions.keys())
        if missing:
            raise SpecError(f"no socket for function {missing[0]!r}")
        if self.deployment.token_locations is not None and usage_plans is None:
            # In OCI the plans and subscribers are resources of their own, not part of the spec.
            raise SpecError(
                "the spec has a usage-plans policy: give its plans and subscribers (usage_plans=)"
            )
        self.usage_plans = usage_plans
        self.prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
        self.body_limit = body_limit
        self.invoker = Invoker()
        self.invocations: Counter[str] = Counter()  # function id -> route invokes (for tests)
        rate = self.deployment.rate_limit
        self.limiter = RateLimiter(rate, clock) if rate is not None else None
        auth = self.deployment.auth
        self.authenticator = (
            Authenticator(auth, self.target, self.invoker, clock) if auth is not None else None
        )

    def target(self, function_id: str) -> FunctionTarget:
        """Where `function_id` listens now."""
        return self._functions[function_id]

    def bind(self, function_id: str, target: FunctionTarget) -> None:
        """Point a function at another socket, as a redeploy with new config does on OCI."""
        self._functions[function_id] = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = http.request_headers(scope)
        rid = request_id()
        started = time.monotonic()
        try:
            response = await self._handle(scope, receive, headers, rid)
        except Exception:
            log.exception("local gateway failed", extra={"event": "localgw_bug"})
            response = http.gateway_error(500)
        add_cors_headers(self.deployment.cors, headers, response)
        response.headers.set("opc-request-id", rid)
        log.info(
            "%s %s -> %d (%.0f ms)",
            scope["method"],
            scope["path"],  # the path only: a query string could carry a secret
            response.status,
            (time.monotonic() - started) * 1000,
            extra={"event": "localgw_request"},
        )
        await http.send_response(send, response)

    async def _handle(self, scope: Scope, receive: Receive, headers: Headers, rid: str) -> Response:
        method = str(scope["method"]).upper()
        raw_path = bytes(scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw_path = raw_path.split("?", 1)[0]
        if http.has_control_characters(raw_path):
            # Routing sees `comp%0Aletions` decoded, a path no route has, while URL parsers that
            # drop such bytes see `completions`; refuse it rather than let anyone guess.
            return http.openai_error(400, "The request path contains a control character.", "invalid_url")
        if http.has_bad_header_value(headers):
            # A malformed request that a strict HTTP parser refuses before any policy runs.
            return http.gateway_error(400)
        if raw_path != self.prefix and not raw_path.startswith(self.prefix + "/"):
            return http.gateway_error(404)
        client_ip = scope["client"][0] if scope.get("client") else "0.0.0.0"
        if self.limiter is not None:
            wait = self.limiter.admit(client_ip)
            if wait is not None:
                return too_many_requests(wait)
        cors = self.deployment.cors
        if cors is not None and is_preflight(method, headers):
            answer = preflight_response(cors, headers)
            if answer is not None:
                return answer
            # A refused origin gets no policy answer: the request is routed like any other.
        found = self._route(method, raw_path[len(self.prefix) :] or "/")
        if isinstance(found, int):
            return http.gateway_error(found)
        route, params = found
        if _declared_length(headers) > self.body_limit:
            return http.gateway_error(413)
        query = scope.get("query_string", b"").decode("latin-1")
        view = RequestView(headers, dict(parse_qsl(query)), params)
        refusal, view = await self._authenticate(route, view, rid)
        if refusal is None:
            refusal = self._usage_plan(route, view)
        if refusal is not None:
            return refusal
        try:
            body = await http.read_body(receive, self.body_limit)
        except BodyTooLarge:
            return http.gateway_error(413)
        if isinstance(route.backend, StockBackend):
            stock = route.backend
            return Response(stock.status, stock.body.encode(), Headers(stock.headers))
        url = raw_path + (f"?{query}" if query else "")
        forwarded = Headers(headers)
        # Header transformations: values such as ${request.auth[key_name]} from the authorizer.
        apply_set_headers(forwarded, route.set_headers, lambda raw: render(raw, view))
        call = HttpCall(method, url, forwarded, body, client_ip, rid)
        return await self._invoke(route.backend, call)

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | int:
        """The most specific matching route and its path parameters, or 404/405."""
        trimmed = path.strip("/")
        # Split the raw path before decoding, so that %2F stays inside one segment.
        segments = [unquote(s) for s in trimmed.split("/")] if trimmed else []
        return self.deployment.select(method, segments)

    async def _authenticate(
        self, route: Route, view: RequestView, rid: str
    ) -> tuple[Response | None, RequestView]:
        """(None, the view with the grant's context) when the request may go on, else the refusal."""
        auth = self.authenticator
        if route.anonymous or auth is None:
            return None, view
        data = auth.arguments(view)
        try:
            decision = Denial() if data is None else await auth.decide(data, rid)
        except AuthorizerFailed as exc:
            log.warning("authorizer failed: %s", exc, extra={"event": "localgw_authorizer_failed"})
            return http.gateway_error(502), view
        if isinstance(decision, Denial):
            return failure_response(auth.policy.failure, decision), view
        return None, RequestView(view.headers, view.query, view.path_params, decision.context)

    def _usage_plan(self, route: Route, view: RequestView) -> Response | None:
        """The usage-plan check of an authenticated request (anonymous routes carry no token)."""
        locations = self.deployment.token_locations
        if self.usage_plans is None or not locations or route.anonymous:
            return None
        token = next((v for loc in locations if (v := context_value(loc, view))), None)
        return self.usage_plans.admit(token)

    async def _invoke(self, backend: FunctionBackend, call: HttpCall) -> Response:
        self.invocations[backend.function_id] += 1
        try:
            reply = await self.invoker.http(self.target(backend.function_id), call)
        except FunctionTimeout:
            return http.gateway_error(504)
        except FunctionUnavailable as exc:
            log.warning("function unavailable: %s", exc, extra={"event": "localgw_function_down"})
            return http.gateway_error(502)
        if reply.fdk_status != 200:
            # An uncaught exception (502) or a timeout (504) inside the function: OCI hides the
            # function's text behind its own error.
            return http.gateway_error(504 if reply.fdk_status == 504 else 502)
        return Response(reply.status, reply.body, reply.headers)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.invoker.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length") or 0)
    except ValueError:
        return 0
