"""The apigw/ deployment spec: renders, validates with the oci SDK models, and says what we mean."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from oci_genai_gateway.apigw_spec import (
    DEFAULT_VALUES,
    SpecError,
    load_template,
    placeholders,
    render,
    validate,
)
from oci_genai_gateway.core.access.guardrails import GUARDRAILS_HEADER
from oci_genai_gateway.core.access.policy import (
    BUDGET_HEADER,
    KEY_NAME_HEADER,
    MODELS_HEADER,
    REGIONS_HEADER,
    KeyPolicy,
    grant_context,
)
from oci_genai_gateway.core.errors import MethodNotAllowed, NotFound
from oci_genai_gateway.core.gateway import PUBLIC_PREFIXES
from tests.openapi import validate as validate_openai

FUNCTION_IDS = {
    "CHAT_FUNCTION_ID": "ocid1.fnfunc.oc1.iad.chat",
    "EMBEDDINGS_FUNCTION_ID": "ocid1.fnfunc.oc1.iad.embeddings",
    "MODERATIONS_FUNCTION_ID": "ocid1.fnfunc.oc1.iad.moderations",
    "MODELS_FUNCTION_ID": "ocid1.fnfunc.oc1.iad.models",
    "AUTHORIZER_FUNCTION_ID": "ocid1.fnfunc.oc1.iad.authorizer",
}
ORIGINS = ["https://app.example.com", "http://localhost:5173"]
PRODUCT_ROUTES = {
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/responses"),
    ("GET", "/v1/responses/{response_id}"),
    ("DELETE", "/v1/responses/{response_id}"),
    ("POST", "/v1/messages"),
    ("POST", "/v1/messages/count_tokens"),
    ("POST", "/v1/embeddings"),
    ("POST", "/v1/moderations"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{model}"),
    ("GET", "/health/readiness"),
}
# Every method but OPTIONS, which CORS preflights need: what the catch-alls answer.
ROUTED_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
WILDCARDS = ["/health/{path*}", "/{path*}"]
# Paths whose clients read Anthropic's error body (core/gateway.ERROR_DIALECTS).
ANTHROPIC_PATHS = {"/v1/messages", "/v1/messages/count_tokens"}


def values(**overrides: object) -> dict[str, object]:
    return {**DEFAULT_VALUES, **FUNCTION_IDS, **overrides}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return render(values(CORS_ALLOWED_ORIGINS=ORIGINS, RATE_LIMIT_RPS=25))


def is_error(route: dict[str, Any]) -> bool:
    """A catch-all: a stock response with an error status."""
    backend = route["backend"]
    return backend["type"] == "STOCK_RESPONSE_BACKEND" and backend["status"] >= 400


def route(spec: dict[str, Any], path: str, *, error: bool = False) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in spec["routes"] if r["path"] == path and is_error(r) == error]
    assert len(found) == 1
    return found[0]


def stock_error(route: dict[str, Any], status: int) -> dict[str, Any]:
    """The catch-all's error body, checked: status, JSON type, OpenAI's schema or Anthropic's shape."""
    backend = route["backend"]
    assert (backend["type"], backend["status"]) == ("STOCK_RESPONSE_BACKEND", status)
    assert {"name": "Content-Type", "value": "application/json"} in backend["headers"]
    body: dict[str, Any] = json.loads(backend["body"])
    if route["path"] in ANTHROPIC_PATHS:
        # Anthropic's shape has no code: its type says what OpenAI's type and code say together.
        assert (body["type"], set(body["error"])) == ("error", {"type", "message"})
        assert body["error"]["type"] == "invalid_request_error"
        return {"type": MethodNotAllowed.error_type, "code": MethodNotAllowed.default_code}
    validate_openai(body, "ErrorResponse")
    return body["error"]


# --- the rendered spec ---------------------------------------------------------------------------


def test_rendered_spec_validates_with_and_without_cors(spec: dict[str, Any]) -> None:
    validate(spec)
    validate(render(values()))


def test_template_placeholders_are_the_function_ids_and_the_defaulted_settings() -> None:
    assert placeholders(load_template()) == set(FUNCTION_IDS) | set(DEFAULT_VALUES)


def test_routes_and_methods_are_exactly_the_products(spec: dict[str, Any]) -> None:
    products = [r for r in spec["routes"] if not is_error(r)]
    assert {(m, r["path"]) for r in products for m in r["methods"]} == PRODUCT_ROUTES
    assert len(products) == len({path for _, path in PRODUCT_ROUTES})


def test_every_path_and_method_pair_is_routed_once(spec: dict[str, Any]) -> None:
    pairs = [(m, r["path"]) for r in spec["routes"] for m in r["methods"]]
    assert len(pairs) == len(set(pairs))
    # OPTIONS stays with the CORS policy; ANY would take it too.
    assert {m for r in spec["routes"] for m in r["methods"]} == ROUTED_METHODS


def test_other_methods_on_a_product_path_get_openais_405(spec: dict[str, Any]) -> None:
    for path in {p for _, p in PRODUCT_ROUTES}:
        allowed = {m for m, p in PRODUCT_ROUTES if p == path}
        catch_all = route(spec, path, error=True)
        assert set(catch_all["methods"]) == ROUTED_METHODS - allowed
        error = stock_error(catch_all, MethodNotAllowed.status)
        assert (error["type"], error["code"]) == (MethodNotAllowed.error_type, MethodNotAllowed.default_code)
        assert {"name": "Allow", "value": ", ".join(sorted(allowed))} in catch_all["backend"]["headers"]
        # Who may see the 405 is who may call the route (a stock answer needs no key headers).
        product = route(spec, path)
        assert catch_all["requestPolicies"]["authorization"] == product["requestPolicies"]["authorization"]


def test_any_other_path_gets_openais_404(spec: dict[str, Any]) -> None:
    for path in WILDCARDS:
        catch_all = route(spec, path, error=True)
        assert set(catch_all["methods"]) == ROUTED_METHODS
        error = stock_error(catch_all, NotFound.status)
        assert (error["type"], error["code"]) == (NotFound.error_type, "unknown_url")


def test_catch_alls_authenticate_where_the_asgi_server_does(spec: dict[str, Any]) -> None:
    # The ASGI server checks the key before routing, except under its public prefixes: an unknown
    # /v1 path without a key is a 401 there, an unknown /health/ path a 404.
    for catch_all in filter(is_error, spec["routes"]):
        public = catch_all["path"].startswith(PUBLIC_PREFIXES)
        expected = "ANONYMOUS" if public else "AUTHENTICATION_ONLY"
        assert catch_all["requestPolicies"]["authorization"] == {"type": expected}, catch_all["path"]


def test_catch_alls_follow_the_routes_they_must_not_shadow(spec: dict[str, Any]) -> None:
    # OCI documents no precedence between overlapping routes: listed after the routes they must not
    # shadow, most specific first, the catch-alls lose under first-match and most-specific alike.
    kinds = [is_error(r) for r in spec["routes"]]
    assert kinds == sorted(kinds)
    assert [r["path"] for r in spec["routes"][-len(WILDCARDS) :]] == WILDCARDS


def test_each_v1_route_goes_to_its_function(spec: dict[str, Any]) -> None:
    expected = {
        "/v1/chat/completions": FUNCTION_IDS["CHAT_FUNCTION_ID"],
        # One function for the three generation APIs (docs/PERFORMANCE.md, "One function, three APIs").
        "/v1/responses": FUNCTION_IDS["CHAT_FUNCTION_ID"],
        "/v1/responses/{response_id}": FUNCTION_IDS["CHAT_FUNCTION_ID"],
        "/v1/messages": FUNCTION_IDS["CHAT_FUNCTION_ID"],
        "/v1/messages/count_tokens": FUNCTION_IDS["CHAT_FUNCTION_ID"],
        "/v1/embeddings": FUNCTION_IDS["EMBEDDINGS_FUNCTION_ID"],
        "/v1/moderations": FUNCTION_IDS["MODERATIONS_FUNCTION_ID"],
        "/v1/models": FUNCTION_IDS["MODELS_FUNCTION_ID"],
        "/v1/models/{model}": FUNCTION_IDS["MODELS_FUNCTION_ID"],
    }
    for path, function_id in expected.items():
        assert route(spec, path)["backend"] == {"type": "ORACLE_FUNCTIONS_BACKEND", "functionId": function_id}


def test_every_v1_route_requires_authentication(spec: dict[str, Any]) -> None:
    v1 = [r for r in spec["routes"] if r["path"].startswith("/v1/")]
    assert len(v1) == 18  # the nine product routes and their 405s
    for r in v1:
        assert r["requestPolicies"]["authorization"] == {"type": "AUTHENTICATION_ONLY"}


def test_health_is_an_anonymous_stock_json_response(spec: dict[str, Any]) -> None:
    health = route(spec, "/health/readiness")
    assert health["requestPolicies"]["authorization"] == {"type": "ANONYMOUS"}
    backend = health["backend"]
    assert (backend["type"], backend["status"]) == ("STOCK_RESPONSE_BACKEND", 200)
    assert json.loads(backend["body"]) == {"status": "ok"}
    assert {"name": "Content-Type", "value": "application/json"} in backend["headers"]


def test_authentication_is_the_multi_argument_authorizer(spec: dict[str, Any]) -> None:
    auth = spec["requestPolicies"]["authentication"]
    assert auth["type"] == "CUSTOM_AUTHENTICATION"
    assert auth["functionId"] == FUNCTION_IDS["AUTHORIZER_FUNCTION_ID"]
    # One key, two header forms: Anthropic's SDKs send x-api-key.
    assert auth["parameters"] == {
        "authorization": "request.headers[Authorization]",
        "x-api-key": "request.headers[x-api-key]",
    }
    assert auth["cacheKey"] == ["authorization", "x-api-key"]
    # OCI honours a route's ANONYMOUS authorization only when the deployment allows anonymous access.
    assert auth["isAnonymousAccessAllowed"] is True
    assert "tokenHeader" not in auth  # single-argument mode would send a different call shape


def test_auth_failure_answers_openais_401(spec: dict[str, Any]) -> None:
    failure = spec["requestPolicies"]["authentication"]["validationFailurePolicy"]
    assert (failure["type"], failure["responseCode"]) == ("MODIFY_RESPONSE", "401")
    body = json.loads(failure["responseMessage"])
    validate_openai(body, "ErrorResponse")
    assert body["error"]["code"] == "invalid_api_key"
    headers = {i["name"]: i for i in failure["responseHeaderTransformations"]["setHeaders"]["items"]}
    assert headers["WWW-Authenticate"]["values"][0].startswith("Bearer ")
    assert headers["Content-Type"]["values"] == ["application/json"]
    assert {i["ifExists"] for i in headers.values()} == {"OVERWRITE"}


def test_cors_takes_origins_from_values_and_allows_the_sdk_headers(spec: dict[str, Any]) -> None:
    cors = spec["requestPolicies"]["cors"]
    assert cors["allowedOrigins"] == ORIGINS
    assert {"GET", "POST", "OPTIONS"} <= set(cors["allowedMethods"])
    # A wildcard would not cover Authorization in browsers, so it is listed by name.
    assert {"Authorization", "Content-Type", "X-Api-Key", "Anthropic-Version"} <= set(cors["allowedHeaders"])
    assert "*" not in cors["allowedHeaders"]
    assert cors["isAllowCredentialsEnabled"] is False
    assert cors["maxAgeInSeconds"] == DEFAULT_VALUES["CORS_MAX_AGE_SECONDS"]
    assert "Retry-After" in cors["exposedHeaders"]


def test_no_origins_means_no_cors_policy_anywhere() -> None:
    rendered = render(values(CORS_ALLOWED_ORIGINS=[]))
    assert "cors" not in rendered["requestPolicies"]
    assert all("cors" not in r.get("requestPolicies", {}) for r in rendered["routes"])


def test_usage_plans_meter_each_key_by_the_authorizers_client_id(spec: dict[str, Any]) -> None:
    # A token from request.headers[Authorization] would have to equal the whole header value; the
    # authorizer's context names the key instead (core/key_policy.grant_context).
    assert spec["requestPolicies"]["usagePlans"] == {"tokenLocations": ["request.auth[client_id]"]}
    assert "client_id" in grant_context(KeyPolicy("team"), "scope")
    assert "usagePlans" not in render(values(USAGE_PLAN_TOKEN_LOCATIONS=[]))["requestPolicies"]


def test_function_routes_get_the_keys_name_and_limits_as_headers_a_client_cannot_forge(
    spec: dict[str, Any],
) -> None:
    context = grant_context(KeyPolicy("team"), "scope")
    expected = {
        KEY_NAME_HEADER: "key_name",
        MODELS_HEADER: "models",
        REGIONS_HEADER: "regions",
        BUDGET_HEADER: "monthly_tokens",
        GUARDRAILS_HEADER: "guardrails",
    }
    functions = [r for r in spec["routes"] if r["backend"]["type"] == "ORACLE_FUNCTIONS_BACKEND"]
    assert len(functions) >= 4  # every function route, those added later included
    for r in functions:
        items = r["requestPolicies"]["headerTransformations"]["setHeaders"]["items"]
        got = {i["name"].lower(): i for i in items}
        assert set(got) == set(expected), r["path"]
        for header, field in expected.items():
            assert field in context
            # OVERWRITE: a header of the same name sent by the client is replaced.
            assert got[header] == {
                "name": got[header]["name"],
                "values": [f"${{request.auth[{field}]}}"],
                "ifExists": "OVERWRITE",
            }


def test_rate_limit_is_per_client_ip_and_keeps_its_integer_type(spec: dict[str, Any]) -> None:
    assert spec["requestPolicies"]["rateLimiting"] == {"rateInRequestsPerSecond": 25, "rateKey": "CLIENT_IP"}


# --- render --------------------------------------------------------------------------------------


def test_missing_value_is_named() -> None:
    incomplete = values()
    del incomplete["MODELS_FUNCTION_ID"]
    with pytest.raises(SpecError, match=r"\$\{MODELS_FUNCTION_ID\}"):
        render(incomplete)


def test_unknown_value_is_named() -> None:
    with pytest.raises(SpecError, match="CORS_ALLOWED_ORIGIN'"):
        render(values(CORS_ALLOWED_ORIGIN=ORIGINS))


def test_values_must_be_json_data() -> None:
    with pytest.raises(SpecError, match="RATE_LIMIT_RPS"):
        render(values(RATE_LIMIT_RPS=object()))


def test_embedded_placeholders_take_text_and_oci_context_variables_pass_through() -> None:
    template = {
        "a": "prefix-${NAME}-suffix",
        "n": "${COUNT}",
        "ctx": "${request.headers[X-Forwarded-For]}",
        "l": ["${LIST}"],
    }
    out = render({"NAME": "x", "COUNT": 3, "LIST": ["p", "q"]}, template)
    assert out == {
        "a": "prefix-x-suffix",
        "n": 3,
        "ctx": "${request.headers[X-Forwarded-For]}",
        "l": [["p", "q"]],
    }
    with pytest.raises(SpecError, match="NAME"):
        render({"NAME": ["x"], "COUNT": 3, "LIST": []}, template)


def test_render_does_not_modify_the_template() -> None:
    template = load_template()
    before = copy.deepcopy(template)
    render(values(), template)
    assert template == before


# --- validate ------------------------------------------------------------------------------------


def broken(spec: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copied = copy.deepcopy(spec)
    change(copied)
    return copied


@pytest.mark.parametrize(
    ("change", "where"),
    [
        pytest.param(
            lambda s: s["requestPolicies"].update(bodyLimit=1),
            r"\$\.requestPolicies\.bodyLimit",
            id="unknown-top-field",
        ),
        pytest.param(
            lambda s: s["routes"][0]["backend"].update(timeoutInSeconds=30),
            "backend.timeoutInSeconds",
            id="unknown-nested-field",
        ),
        pytest.param(
            lambda s: s["requestPolicies"]["rateLimiting"].update(rateKey="BOGUS"), "rateKey", id="bad-enum"
        ),
        pytest.param(
            lambda s: s["routes"][0].update(methods=["POST", "FETCH"]), r"methods\[1\]", id="bad-method"
        ),
        pytest.param(
            lambda s: s["routes"][0]["backend"].pop("functionId"), "functionId", id="missing-function-id"
        ),
        pytest.param(
            lambda s: s["requestPolicies"]["authentication"].pop("functionId"),
            "authentication.functionId",
            id="missing-authorizer",
        ),
        pytest.param(
            lambda s: s["requestPolicies"]["cors"].pop("allowedOrigins"),
            "allowedOrigins",
            id="missing-origins",
        ),
        pytest.param(
            lambda s: next(r for r in s["routes"] if r["path"] == "/health/readiness")["backend"].pop(
                "status"
            ),
            "status",
            id="missing-stock-status",
        ),
        pytest.param(
            lambda s: s["routes"][0]["backend"].update(type="LAMBDA_BACKEND"),
            "backend",
            id="unknown-backend-type",
        ),
        pytest.param(
            lambda s: s["requestPolicies"]["cors"].update(maxAgeInSeconds="600"),
            "maxAgeInSeconds",
            id="string-for-int",
        ),
        pytest.param(
            lambda s: s["requestPolicies"]["cors"].update(isAllowCredentialsEnabled="false"),
            "isAllowCredentialsEnabled",
            id="string-for-bool",
        ),
        pytest.param(
            lambda s: s["routes"][0].update(backend=None), r"routes\[0\]\.backend", id="null-backend"
        ),
        pytest.param(
            lambda s: s["requestPolicies"]["authentication"].update(type="API_KEY"),
            "authentication",
            id="unknown-auth-type",
        ),
    ],
)
def test_validate_rejects(spec: dict[str, Any], change: Callable[[dict[str, Any]], None], where: str) -> None:
    with pytest.raises(SpecError, match=where):
        validate(broken(spec, change))


def test_validate_rejects_a_non_numeric_rate() -> None:
    with pytest.raises(SpecError):
        validate(render(values(RATE_LIMIT_RPS="lots")))
