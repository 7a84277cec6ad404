"""Local gateway pieces in isolation: spec reading, path templates, policies, the authorizer cache."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from oci_genai_devstack.localgw import LocalGateway
from oci_genai_devstack.localgw.__main__ import parse_functions
from oci_genai_devstack.localgw.auth import (
    MAX_CACHE_SECONDS,
    Authenticator,
    AuthorizerFailed,
    Denial,
    Grant,
    RequestView,
    apply_set_headers,
    failure_response,
    render,
)
from oci_genai_devstack.localgw.http import Headers, request_headers
from oci_genai_devstack.localgw.invoke import FunctionReply, FunctionTarget
from oci_genai_devstack.localgw.policies import RateLimiter, client_key, preflight_response
from oci_genai_devstack.localgw.spec import (
    CorsPolicy,
    FailurePolicy,
    HeaderSet,
    RateLimit,
    StockBackend,
    parse,
)
from oci_genai_devstack.localgw.stack import render_local_spec
from oci_genai_devstack.localgw.usage_plans import UsagePlans
from oci_genai_gateway.apigw_spec import SpecError
from oci_genai_gateway.core.access.policy import client_token
from tests.openapi import validate as validate_openai

SPEC = render_local_spec(cors_origins=["http://a.example"])


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeInvoker:
    """Stands in for the fdk socket: answers plain invokes with a queued status and body."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.events: list[dict[str, Any]] = []

    async def plain(self, target: FunctionTarget, body: bytes, rid: str) -> FunctionReply:
        self.events.append(json.loads(body))
        status, payload = self.answers.pop(0)
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return FunctionReply(status, status, Headers(), raw)


def authenticator(invoker: FakeInvoker, clock: Clock) -> Authenticator:
    policy = parse(SPEC).auth
    assert policy is not None
    return Authenticator(policy, lambda _id: FunctionTarget("/unused"), invoker, clock)  # type: ignore[arg-type]


def grant_until(stamp: float) -> dict[str, Any]:
    expires = datetime.fromtimestamp(stamp, tz=UTC).isoformat()
    return {"active": True, "principal": "p", "scope": ["openai"], "expiresAt": expires, "context": {}}


def test_the_repository_spec_is_read_completely() -> None:
    deployment = parse(SPEC)
    products = [
        "/v1/chat/completions",
        "/v1/responses",
        "/v1/responses/{response_id}",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/embeddings",
        "/v1/moderations",
        "/v1/models",
        "/v1/models/{model}",
        "/health/readiness",
    ]
    # The product routes, a 405 for each of their paths, then the 404 catch-alls.
    assert [r.path for r in deployment.routes] == [*products, *products, "/health/{path*}", "/{path*}"]
    assert [r.anonymous for r in deployment.routes] == [False] * 9 + [True] + [False] * 9 + [True] * 2 + [
        False
    ]
    assert deployment.function_ids() == {"chat", "embeddings", "moderations", "models", "authorizer"}
    assert deployment.auth is not None
    assert deployment.auth.cache_key == ("authorization", "x-api-key")
    assert deployment.cors is not None
    assert deployment.cors.origins == ("http://a.example",)
    assert deployment.rate_limit == RateLimit(10, per_client=True)
    assert deployment.token_locations == ("request.auth[client_id]",)
    key_headers = [
        ("X-Gateway-Key-Name", ("${request.auth[key_name]}",), "OVERWRITE"),
        ("X-Gateway-Key-Models", ("${request.auth[models]}",), "OVERWRITE"),
        ("X-Gateway-Key-Regions", ("${request.auth[regions]}",), "OVERWRITE"),
        ("X-Gateway-Key-Monthly-Tokens", ("${request.auth[monthly_tokens]}",), "OVERWRITE"),
        ("X-Gateway-Key-Guardrails", ("${request.auth[guardrails]}",), "OVERWRITE"),
    ]
    # Every function route gets the key's name and limits as headers; the stock health answer none.
    for route in deployment.routes[:9]:
        assert [(h.name, h.values, h.if_exists) for h in route.set_headers] == key_headers, route.path
    assert deployment.routes[9].set_headers == ()


def test_a_usage_plan_policy_needs_its_plans_and_subscribers() -> None:
    ids = ("chat", "embeddings", "moderations", "models", "authorizer")
    with pytest.raises(SpecError, match="usage_plans"):
        LocalGateway(SPEC, {i: FunctionTarget(f"/nonexistent/{i}.sock") for i in ids})


def test_header_values_take_the_authorizers_context_and_overwrite_the_clients() -> None:
    view = RequestView(Headers(), {}, {}, {"key_name": "team-a", "models": "meta.*"})
    assert render("${request.auth[key_name]}", view) == "team-a"
    assert render("k=${request.auth[key_name]};m=${request.auth[models]};x=${request.auth[none]}", view) == (
        "k=team-a;m=meta.*;x="
    )
    headers = Headers([("X-Gateway-Key-Name", "forged"), ("x-gateway-key-name", "again"), ("Accept", "*/*")])
    items = parse(SPEC).routes[0].set_headers
    apply_set_headers(headers, items, lambda raw: render(raw, view))
    assert headers.get_all("x-gateway-key-name") == ["team-a"]
    assert headers.get("x-gateway-key-models") == "meta.*"
    assert headers.get("x-gateway-key-monthly-tokens") == ""
    assert headers.get("accept") == "*/*"


def test_usage_plans_forward_subscribers_only_and_limit_each_by_its_tier() -> None:
    clock = Clock()
    keys = json.dumps(
        {
            "open": "sk-open-0000000000000000",
            "tight": {"key": "sk-tight-000000000000000", "rps": 1, "quota": {"requests": 2, "per": "minute"}},
        }
    )
    plans = UsagePlans.from_api_keys(keys, scope="s", clock=clock)
    tight, unlimited = client_token("s", "tight"), client_token("s", "open")
    assert plans.admit(None) is not None
    refused = plans.admit("team-x.000000000000")
    assert refused is not None
    assert refused.status == 403
    for _ in range(5):
        assert plans.admit(unlimited) is None
    assert plans.admit(tight) is None
    fast = plans.admit(tight)
    assert fast is not None
    assert (fast.status, fast.headers.get("retry-after")) == (429, "1")
    clock.now += 1
    assert plans.admit(tight) is None
    clock.now += 1
    over = plans.admit(tight)
    assert over is not None
    assert over.status == 429
    assert json.loads(over.body) == {"code": 429, "message": "Too Many Requests"}


def _usage_plans(spec: dict[str, Any]) -> None:
    spec["requestPolicies"]["usagePlans"] = {"tokenLocations": ["request.subject"]}


def _renamed_headers(spec: dict[str, Any]) -> None:
    spec["routes"][0]["requestPolicies"]["headerTransformations"]["renameHeaders"] = {"items": []}


def _http_backend(spec: dict[str, Any]) -> None:
    spec["routes"][0]["backend"] = {"type": "HTTP_BACKEND", "url": "https://x.example"}


def _scoped_route(spec: dict[str, Any]) -> None:
    spec["routes"][0]["requestPolicies"]["authorization"] = {"type": "ANY_OF", "allowedScope": ["x"]}


def _body_argument(spec: dict[str, Any]) -> None:
    spec["requestPolicies"]["authentication"]["parameters"] = {"authorization": "request.body"}


def _unknown_cache_key(spec: dict[str, Any]) -> None:
    spec["requestPolicies"]["authentication"]["cacheKey"] = ["nope"]


@pytest.mark.parametrize(
    "change",
    [_usage_plans, _renamed_headers, _http_backend, _scoped_route, _body_argument, _unknown_cache_key],
)
def test_what_is_not_emulated_is_refused_loudly(change: Any) -> None:
    spec = copy.deepcopy(SPEC)
    change(spec)
    with pytest.raises(SpecError, match=r"not emulated|cacheKey"):
        parse(spec)


@pytest.mark.parametrize(
    ("template", "segments", "expected"),
    [
        ("/v1/models/{model}", ["v1", "models", "xai.grok-4"], {"model": "xai.grok-4"}),
        ("/v1/models/{model}", ["v1", "models"], None),
        ("/v1/models/{model}", ["v1", "models", "a", "b"], None),
        ("/v1/models", ["v1", "models"], {}),
        ("/files/{rest*}", ["files", "a", "b"], {"rest": "a/b"}),
        # OCI: a wildcard parameter matches no segment, one, or several.
        ("/files/{rest*}", ["files"], {"rest": ""}),
        ("/{rest*}", [], {"rest": ""}),
        ("/files/{rest*}", ["other"], None),
    ],
)
def test_path_templates(template: str, segments: list[str], expected: dict[str, str] | None) -> None:
    spec = {"routes": [{"path": template, "methods": ["GET"], "backend": _stock()}]}
    (route,) = parse(spec).routes
    assert route.match(segments) == expected


def _stock(status: int = 200) -> dict[str, Any]:
    return {"type": "STOCK_RESPONSE_BACKEND", "status": status}


def _routes(*routes: tuple[str, list[str]]) -> dict[str, Any]:
    return {
        "routes": [{"path": p, "methods": m, "backend": _stock(200 + i)} for i, (p, m) in enumerate(routes)]
    }


def _chosen(spec: dict[str, Any], method: str, path: str) -> str | int:
    found = parse(spec).select(method, [s for s in path.split("/") if s])
    return found if isinstance(found, int) else found[0].path


# Catch-alls listed first on purpose: the most specific route must win whatever the order.
OVERLAPPING = _routes(
    ("/{path*}", ["GET", "POST"]),
    ("/health/{path*}", ["GET", "POST"]),
    ("/v1/models/{model}", ["GET"]),
    ("/v1/models", ["GET"]),
    ("/v1/models", ["POST"]),
)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v1/models", "/v1/models"),
        ("POST", "/v1/models", "/v1/models"),
        ("GET", "/v1/models/x", "/v1/models/{model}"),
        ("POST", "/v1/models/x", "/{path*}"),  # the literal route lacks POST: the next match takes it
        ("GET", "/v1/models/x/y", "/{path*}"),
        ("GET", "/health/x", "/health/{path*}"),
        ("GET", "/health", "/health/{path*}"),
        ("GET", "/", "/{path*}"),
        ("DELETE", "/v1/models", 405),
    ],
)
def test_the_most_specific_route_wins_whatever_the_order(method: str, path: str, expected: str | int) -> None:
    assert _chosen(OVERLAPPING, method, path) == expected


def test_routing_without_catch_alls_and_ties() -> None:
    spec = _routes(("/a/{x}", ["GET"]), ("/a/{y}", ["GET"]))
    assert parse(spec).select("GET", ["a", "b"]) == (parse(spec).routes[0], {"x": "b"})  # the first of equals
    assert _chosen(spec, "POST", "/a/b") == 405
    assert _chosen(spec, "GET", "/b") == 404


def test_a_wildcard_before_the_last_segment_is_refused() -> None:
    with pytest.raises(SpecError, match="wildcard"):
        parse(_routes(("/{rest*}/tail", ["GET"])))


def test_token_bucket_bursts_to_the_rate_then_refills_over_time() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(3, per_client=True), clock)
    assert [limiter.admit("10.0.0.1") for _ in range(3)] == [None, None, None]
    assert limiter.admit("10.0.0.1") == pytest.approx(1 / 3)
    assert limiter.admit("10.0.0.2") is None  # another client, another bucket
    clock.now += 1 / 3
    assert limiter.admit("10.0.0.1") is None
    assert limiter.admit("10.0.0.1") is not None


def test_total_rate_key_shares_one_bucket() -> None:
    limiter = RateLimiter(RateLimit(1, per_client=False), Clock())
    assert limiter.admit("10.0.0.1") is None
    assert limiter.admit("10.0.0.2") is not None


def test_ipv6_clients_are_grouped_by_64_prefix() -> None:
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert client_key("2001:db8:0:1::1") != client_key("2001:db8::1")
    assert client_key("192.0.2.7") == "192.0.2.7"


def test_wildcards_in_the_cors_policy() -> None:
    cors = CorsPolicy(("*",), ("*",), ("*",), (), credentials=False, max_age=0)
    request = Headers(
        [
            ("origin", "http://any.example"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-one, x-two"),
        ]
    )
    answer = preflight_response(cors, request)
    assert answer is not None
    assert answer.headers.get("access-control-allow-origin") == "*"
    assert answer.headers.get("access-control-allow-methods") == "PUT"
    assert answer.headers.get("access-control-allow-headers") == "x-one, x-two"
    assert answer.headers.get("access-control-max-age") is None
    assert answer.headers.get("vary") is None


def test_failure_policy_header_transformations() -> None:
    policy = FailurePolicy(
        403,
        "no",
        (
            HeaderSet("WWW-Authenticate", ("Bearer realm=x",), "OVERWRITE"),
            HeaderSet("X-A", ("1", "2"), "APPEND"),
            HeaderSet("Content-Type", ("text/plain",), "SKIP"),
        ),
    )
    response = failure_response(policy, Denial('Bearer error="invalid_token"'))
    assert (response.status, response.body) == (403, b"no")
    assert response.headers.get_all("www-authenticate") == ["Bearer realm=x"]
    assert response.headers.get_all("x-a") == ["1", "2"]
    assert response.headers.get("content-type") == "application/json"  # SKIP kept the gateway's


def test_without_a_failure_policy_the_authorizers_challenge_is_used() -> None:
    response = failure_response(None, Denial("Bearer realm=r"))
    assert response.status == 401
    assert response.headers.get("www-authenticate") == "Bearer realm=r"


async def test_grants_are_cached_until_expires_at() -> None:
    clock = Clock()
    invoker = FakeInvoker((200, grant_until(clock.now + 60)), (200, grant_until(clock.now + 200)))
    auth = authenticator(invoker, clock)
    data = auth.arguments(RequestView(Headers([("Authorization", "Bearer k")]), {}, {}))
    assert data == {"authorization": "Bearer k"}
    assert isinstance(await auth.decide(data, "r1"), Grant)
    clock.now += 59
    assert isinstance(await auth.decide(data, "r2"), Grant)
    assert auth.calls == 1
    assert invoker.events == [{"type": "USER_DEFINED", "data": {"authorization": "Bearer k"}}]
    clock.now += 2
    await auth.decide(data, "r3")
    assert auth.calls == 2


async def test_a_far_expires_at_is_capped_at_an_hour() -> None:
    clock = Clock()
    auth = authenticator(FakeInvoker((200, grant_until(clock.now + 86_400))), clock)
    grant = await auth.decide({"authorization": "Bearer k"}, "r")
    assert isinstance(grant, Grant)
    assert grant.expires_at == clock.now + MAX_CACHE_SECONDS


async def test_no_argument_means_no_authorizer_call_and_either_key_header_is_enough() -> None:
    auth = authenticator(FakeInvoker(), Clock())
    assert auth.arguments(RequestView(Headers(), {}, {})) is None
    api_key = auth.arguments(RequestView(Headers([("X-Api-Key", "k")]), {}, {}))
    assert api_key == {"x-api-key": "k"}
    both = auth.arguments(RequestView(Headers([("Authorization", "Bearer k"), ("x-api-key", "k")]), {}, {}))
    assert both == {"authorization": "Bearer k", "x-api-key": "k"}


async def test_the_two_header_forms_of_one_key_are_cached_apart() -> None:
    clock = Clock()
    invoker = FakeInvoker((200, grant_until(clock.now + 60)), (200, grant_until(clock.now + 60)))
    auth = authenticator(invoker, clock)
    assert isinstance(await auth.decide({"authorization": "k"}, "r1"), Grant)
    assert isinstance(await auth.decide({"x-api-key": "k"}, "r2"), Grant)
    assert isinstance(await auth.decide({"x-api-key": "k"}, "r3"), Grant)
    assert auth.calls == 2


@pytest.mark.parametrize("answer", [(502, {"error": "x"}), (200, b"not json"), (200, {"principal": "p"})])
async def test_an_authorizer_without_a_clear_answer_fails(answer: tuple[int, Any]) -> None:
    auth = authenticator(FakeInvoker(answer), Clock())
    with pytest.raises(AuthorizerFailed):
        await auth.decide({"authorization": "Bearer k"}, "r")


def test_cli_function_list() -> None:
    targets = parse_functions("chat=/tmp/a.sock, models=/tmp/b.sock", 45.0)
    assert targets == {
        "chat": FunctionTarget("/tmp/a.sock", 45.0),
        "models": FunctionTarget("/tmp/b.sock", 45.0),
    }
    with pytest.raises(SpecError):
        parse_functions("chat=relative.sock", 30.0)


async def asgi_call(
    app: LocalGateway, method: str, raw_path: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> tuple[int, dict[str, str], bytes]:
    """One request straight into the ASGI app (no server, so bytes no HTTP parser lets through)."""
    scope = {
        "type": "http",
        "method": method,
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": b"",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    head = {n.decode(): v.decode() for n, v in start["headers"]}
    return start["status"], head, body["body"]


def unreachable_gateway() -> LocalGateway:
    """The repository spec over sockets that do not exist: any invoke would be a 502."""
    ids = ("chat", "embeddings", "moderations", "models", "authorizer")
    targets = {i: FunctionTarget(f"/nonexistent/{i}.sock") for i in ids}
    return LocalGateway(SPEC, targets, usage_plans=UsagePlans([]))


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/v1/chat/comp%0Aletions",
        b"/v1/chat/comp%0aletions",
        b"/v1/%00",
        b"/v1/models/a%1Fb",
        b"/v1/%7F",
        b"/v1/a\x01b",
    ],
)
async def test_control_characters_in_the_path_are_refused_in_openais_envelope(raw_path: bytes) -> None:
    app = unreachable_gateway()
    status, headers, body = await asgi_call(app, "POST", raw_path, [(b"authorization", b"Bearer k")])
    assert status == 400
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    validate_openai(error, "ErrorResponse")
    assert error["error"]["code"] == "invalid_url"
    assert app.authenticator is not None
    assert (app.authenticator.calls, sum(app.invocations.values())) == (0, 0)


async def test_a_control_character_in_a_header_value_is_a_bad_request() -> None:
    app = unreachable_gateway()
    headers = [(b"authorization", b"Bearer k"), (b"x-odd", b"a\x01b")]
    status, _, body = await asgi_call(app, "GET", b"/v1/models", headers)
    # The gateway's own 400, not a 502 from a function connection that refuses the value.
    assert (status, json.loads(body)) == (400, {"code": 400, "message": "Bad Request"})


def test_header_values_lose_their_optional_whitespace_only() -> None:
    scope = {"headers": [(b"x-a", b" v \t"), (b"x-b", b"in\tside"), (b"x-c", b"")]}
    assert list(request_headers(scope)) == [("x-a", "v"), ("x-b", "in\tside"), ("x-c", "")]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/v1/assistants", 404),
        ("GET", "/v1/responses/x/input_items", 404),
        ("PUT", "/v1/responses/x", 405),
        ("GET", "/v1/messages", 405),
        ("GET", "/v1/chat/completions", 405),
        ("DELETE", "/v1/models", 405),
        ("HEAD", "/v1/models/x", 405),
        ("GET", "/v1/models/x/y", 404),
        ("GET", "/", 404),
        ("GET", "/health/liveness", 404),
        ("POST", "/health/readiness", 405),
    ],
)
def test_the_repository_spec_answers_other_paths_and_methods_itself(
    method: str, path: str, status: int
) -> None:
    found = parse(SPEC).select(method, [s for s in path.split("/") if s])
    assert not isinstance(found, int)
    backend = found[0].backend
    assert isinstance(backend, StockBackend)
    assert backend.status == status


def test_options_is_left_to_the_cors_policy() -> None:
    # No route declares OPTIONS, so a preflight is the CORS policy's; anything else is the gateway's.
    assert parse(SPEC).select("OPTIONS", ["v1", "anything"]) == 405
