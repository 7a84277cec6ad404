"""The rendered deployment spec as the typed policies the local gateway executes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.apigw_spec import SpecError

# Fields the local gateway reads, or may ignore because they change nothing observable here.
_TOP_KEYS = frozenset({"requestPolicies", "routes", "loggingPolicies"})
_POLICY_KEYS = frozenset({"authentication", "cors", "rateLimiting", "usagePlans"})
_ROUTE_KEYS = frozenset({"path", "methods", "requestPolicies", "backend", "loggingPolicies"})
_ROUTE_POLICY_KEYS = frozenset({"authorization", "headerTransformations"})
_AUTHORIZATIONS = frozenset({"ANONYMOUS", "AUTHENTICATION_ONLY"})
# `{name}` in a route path matches one segment; OCI's `{name*}` matches the rest of the path.
_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\*?)\}$")
_CONTEXT_VAR = re.compile(r"^request\.(headers|query|path)\[([^\]]+)\]$|^request\.host$")
# Where a usage-plan client token may be (the authorizer's context included).
_TOKEN_VAR = re.compile(r"^request\.(auth|headers|query|path)\[([^\]]+)\]$|^request\.host$")


@dataclass(frozen=True)
class FunctionBackend:
    """ORACLE_FUNCTIONS_BACKEND: invoke this function."""

    function_id: str


@dataclass(frozen=True)
class StockBackend:
    """STOCK_RESPONSE_BACKEND: answer with a fixed status, body and headers."""

    status: int
    body: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class HeaderSet:
    """One `setHeaders` item of a header transformation; values may hold `${request.auth[x]}`."""

    name: str
    values: tuple[str, ...]
    if_exists: str  # OVERWRITE | APPEND | SKIP


@dataclass(frozen=True)
class Route:
    """One route: a path template, its methods, its backend, who may call it, headers it sets."""

    path: str
    methods: frozenset[str]
    backend: FunctionBackend | StockBackend
    anonymous: bool
    set_headers: tuple[HeaderSet, ...] = ()

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """Path parameters when `segments` (already decoded) fit this route's template."""
        template = [s for s in self.path.split("/") if s]
        params: dict[str, str] = {}
        for index, part in enumerate(template):
            param = _PARAM.match(part)
            if param and param.group(2):
                # `{rest*}` swallows the remaining segments, none included: a wildcard parameter
                # matches no segment, one, or several.
                # https://docs.oracle.com/en-us/iaas/Content/APIGateway/Tasks/apigatewayaddingparamswildcards.htm
                params[param.group(1)] = "/".join(segments[index:])
                return params
            if index >= len(segments):
                return None
            if param:
                params[param.group(1)] = segments[index]
            elif part != segments[index]:
                return None
        return params if len(segments) == len(template) else None

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sort key: per segment a literal beats `{name}`, which beats `{name*}`."""
        ranks: list[int] = []
        for part in (s for s in self.path.split("/") if s):
            param = _PARAM.match(part)
            ranks.append(0 if param and param.group(2) else 1 if param else 2)
        return (*ranks, 3)  # a template that ends here is more specific than a wildcard in its place


@dataclass(frozen=True)
class FailurePolicy:
    """MODIFY_RESPONSE: what the client gets when authentication fails."""

    status: int
    body: str
    set_headers: tuple[HeaderSet, ...]


@dataclass(frozen=True)
class AuthPolicy:
    """CUSTOM_AUTHENTICATION with a multi-argument authorizer function."""

    function_id: str
    anonymous_allowed: bool
    parameters: tuple[tuple[str, str], ...]
    cache_key: tuple[str, ...]
    failure: FailurePolicy | None


@dataclass(frozen=True)
class CorsPolicy:
    """The CORS request policy."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    exposed: tuple[str, ...]
    credentials: bool
    max_age: int

    def allows(self, origin: str) -> bool:
        """Whether a browser on `origin` may call the API."""
        return "*" in self.origins or origin in self.origins


@dataclass(frozen=True)
class RateLimit:
    """The rateLimiting request policy."""

    per_second: int
    per_client: bool  # CLIENT_IP; False means TOTAL


@dataclass(frozen=True)
class Deployment:
    """Everything the local gateway needs from one rendered spec."""

    routes: tuple[Route, ...]
    auth: AuthPolicy | None
    cors: CorsPolicy | None
    rate_limit: RateLimit | None
    token_locations: tuple[str, ...] | None = None  # the usage-plan policy

    def select(self, method: str, segments: list[str]) -> tuple[Route, dict[str, str]] | int:
        """The most specific route for `method` and the decoded path `segments`, or 404/405."""
        # OCI does not document how it chooses between overlapping routes, so the spec lists its
        # catch-alls after the routes they must not shadow: most-specific and first-listed agree.
        matches = [(route, params) for route in self.routes if (params := route.match(segments)) is not None]
        allowed = [(r, p) for r, p in matches if method in r.methods or "ANY" in r.methods]
        if not allowed:
            return 405 if matches else 404
        return max(allowed, key=lambda found: found[0].specificity)  # the first of equals wins

    def function_ids(self) -> set[str]:
        """Every function the spec invokes (route backends and the authorizer)."""
        ids = {r.backend.function_id for r in self.routes if isinstance(r.backend, FunctionBackend)}
        if self.auth is not None:
            ids.add(self.auth.function_id)
        return ids


def parse(spec: Mapping[str, Any]) -> Deployment:
    """Read a rendered spec; raise SpecError on anything the local gateway would silently skip."""
    _only(spec, _TOP_KEYS, "$")
    policies = spec.get("requestPolicies", {})
    _only(policies, _POLICY_KEYS, "$.requestPolicies")
    auth = _auth(policies["authentication"]) if "authentication" in policies else None
    routes = tuple(_route(r, i, auth) for i, r in enumerate(spec.get("routes", [])))
    cors = _cors(policies["cors"]) if "cors" in policies else None
    rate = policies.get("rateLimiting")
    limit = None
    if rate is not None:
        limit = RateLimit(int(rate["rateInRequestsPerSecond"]), rate["rateKey"] == "CLIENT_IP")
    return Deployment(routes, auth, cors, limit, _usage_plans(policies.get("usagePlans")))


def _usage_plans(node: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    if node is None:
        return None
    locations = tuple(node.get("tokenLocations") or ())
    for location in locations:
        if not _TOKEN_VAR.match(location):
            raise SpecError(f"$.requestPolicies.usagePlans: token location {location!r} is not emulated")
    return locations


def _only(node: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(node) - allowed)
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}: not emulated by the local gateway")


def _route(node: Mapping[str, Any], index: int, auth: AuthPolicy | None) -> Route:
    where = f"$.routes[{index}]"
    _only(node, _ROUTE_KEYS, where)
    policies = node.get("requestPolicies", {})
    _only(policies, _ROUTE_POLICY_KEYS, f"{where}.requestPolicies")
    # Without a route policy OCI requires authentication whenever the deployment has one.
    kind = policies.get("authorization", {}).get("type", "AUTHENTICATION_ONLY")
    if kind not in _AUTHORIZATIONS:
        raise SpecError(f"{where}: authorization {kind} is not emulated by the local gateway")
    if kind == "ANONYMOUS" and auth is not None and not auth.anonymous_allowed:
        raise SpecError(f"{where}: ANONYMOUS needs isAnonymousAccessAllowed on the authentication policy")
    parts = [s for s in str(node["path"]).split("/") if s]
    if any((param := _PARAM.match(part)) and param.group(2) for part in parts[:-1]):
        raise SpecError(f"{where}.path: a {{name*}} wildcard before the last segment is not emulated")
    methods = frozenset(m.upper() for m in node.get("methods", ["ANY"]))
    transforms = policies.get("headerTransformations", {})
    _only(transforms, frozenset({"setHeaders"}), f"{where}.requestPolicies.headerTransformations")
    return Route(
        node["path"],
        methods,
        _backend(node["backend"], where),
        kind == "ANONYMOUS" or auth is None,
        _set_headers(transforms.get("setHeaders", {})),
    )


def _set_headers(node: Mapping[str, Any]) -> tuple[HeaderSet, ...]:
    return tuple(
        HeaderSet(item["name"], tuple(item["values"]), item.get("ifExists", "OVERWRITE"))
        for item in node.get("items", [])
    )


def _backend(node: Mapping[str, Any], where: str) -> FunctionBackend | StockBackend:
    kind = node.get("type")
    if kind == "ORACLE_FUNCTIONS_BACKEND":
        return FunctionBackend(node["functionId"])
    if kind == "STOCK_RESPONSE_BACKEND":
        headers = tuple((h["name"], h["value"]) for h in node.get("headers", []))
        return StockBackend(int(node["status"]), node.get("body", ""), headers)
    raise SpecError(f"{where}.backend: {kind} is not emulated by the local gateway")


def _auth(node: Mapping[str, Any]) -> AuthPolicy:
    where = "$.requestPolicies.authentication"
    if node.get("type") != "CUSTOM_AUTHENTICATION" or "parameters" not in node:
        raise SpecError(f"{where}: only the multi-argument CUSTOM_AUTHENTICATION is emulated")
    parameters = tuple(node["parameters"].items())
    for name, expression in parameters:
        if not _CONTEXT_VAR.match(expression):
            raise SpecError(f"{where}.parameters.{name}: context variable {expression!r} is not emulated")
    names = [name for name, _ in parameters]
    cache_key = tuple(node.get("cacheKey") or names)
    if not set(cache_key) <= set(names):
        raise SpecError(f"{where}.cacheKey: names an argument that parameters does not define")
    failure = node.get("validationFailurePolicy")
    return AuthPolicy(
        node["functionId"],
        bool(node.get("isAnonymousAccessAllowed", False)),
        parameters,
        cache_key,
        _failure(failure, where) if failure is not None else None,
    )


def _failure(node: Mapping[str, Any], where: str) -> FailurePolicy:
    if node.get("type") != "MODIFY_RESPONSE":
        raise SpecError(f"{where}.validationFailurePolicy: {node.get('type')} is not emulated")
    transforms = node.get("responseHeaderTransformations", {})
    _only(
        transforms,
        frozenset({"setHeaders"}),
        f"{where}.validationFailurePolicy.responseHeaderTransformations",
    )
    sets = _set_headers(transforms.get("setHeaders", {}))
    return FailurePolicy(int(node.get("responseCode", "401")), node.get("responseMessage", ""), sets)


def _cors(node: Mapping[str, Any]) -> CorsPolicy:
    return CorsPolicy(
        origins=tuple(node["allowedOrigins"]),
        methods=tuple(m.upper() for m in node.get("allowedMethods", ["*"])),
        headers=tuple(node.get("allowedHeaders", [])),
        exposed=tuple(node.get("exposedHeaders", [])),
        credentials=bool(node.get("isAllowCredentialsEnabled", False)),
        max_age=int(node.get("maxAgeInSeconds", 0)),
    )
