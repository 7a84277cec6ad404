"""Render the apigw/ deployment-spec template and validate it with the oci SDK's own models."""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

# apigw/deployment.json, shipped in the wheel as the data package oci_genai_gateway.apigw (pyproject.toml).
TEMPLATE = importlib.resources.files("oci_genai_gateway.apigw").joinpath("deployment.json")

# The deployment spec has no request-body-size field: OCI Functions caps an invoke body at 6 MB,
# so that is the limit behind the gateway; the local gateway enforces the same number.
FUNCTION_BODY_LIMIT_BYTES = 6 * 1024 * 1024

# Settings that have a sensible default; function OCIDs never do.
DEFAULT_VALUES: Mapping[str, object] = MappingProxyType(
    {
        "CORS_ALLOWED_ORIGINS": [],
        "CORS_MAX_AGE_SECONDS": 600,
        "RATE_LIMIT_RPS": 10,
        "EXECUTION_LOG_LEVEL": "WARN",
        # Usage plans meter and limit per key: the client token is the authorizer's `client_id`.
        "USAGE_PLAN_TOKEN_LOCATIONS": ["request.auth[client_id]"],
    }
)

# Upper-case only, so OCI's own context variables (`${request.headers[X]}`) pass through untouched.
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_SCALARS = (str, int, float, bool, type(None))


class SpecError(ValueError):
    """The template, its values or the rendered spec is wrong; the message names the spot."""


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Read the JSON template (the packaged apigw/deployment.json unless `path` names another)."""
    source = TEMPLATE if path is None else path
    template = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(template, dict):
        raise SpecError(f"{source} must hold a JSON object")
    return template


def placeholders(template: object) -> set[str]:
    """Every `${NAME}` the template uses."""
    found: set[str] = set()
    _walk_strings(template, lambda s: found.update(_PLACEHOLDER.findall(s)))
    return found


def render(values: Mapping[str, object], template: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Fill every placeholder; a string that is exactly `${NAME}` takes the value's JSON type."""
    source = load_template() if template is None else template
    used = placeholders(source)
    missing = sorted(used - values.keys())
    if missing:
        raise SpecError(f"no value for placeholder ${{{missing[0]}}}")
    unused = sorted(values.keys() - used)
    if unused:
        raise SpecError(f"value {unused[0]!r} matches no placeholder in the template")
    for name, value in values.items():
        if not _is_json(value):
            raise SpecError(f"value {name!r} is not JSON data")
    spec = _substitute(source, values)
    if not isinstance(spec, dict):
        raise SpecError("the template must render to a JSON object")
    _drop_empty_cors(spec)
    _drop_empty_usage_plans(spec)
    return spec


def validate(spec: Mapping[str, Any]) -> None:
    """Raise SpecError unless `spec` survives the SDK's ApiSpecification round trip unchanged."""
    client = _deserializer()
    try:
        model = client.deserialize_response_data(json.dumps(spec).encode(), "ApiSpecification")
        back = client.sanitize_for_serialization(model)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"the SDK rejects the spec: {exc}") from exc
    _diff(spec, back, "$")
    _check_model(model, "$")


def _substitute(node: object, values: Mapping[str, object]) -> object:
    if isinstance(node, dict):
        return {key: _substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, values) for item in node]
    if not isinstance(node, str):
        return node
    whole = _PLACEHOLDER.fullmatch(node)
    if whole:
        return values[whole.group(1)]
    return _PLACEHOLDER.sub(lambda m: _inline(m.group(1), values[m.group(1)]), node)


def _inline(name: str, value: object) -> str:
    # Inside a longer string only text-like values make sense; a list there is a template bug.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SpecError(f"${{{name}}} is embedded in a string, so its value must be a string or integer")
    return str(value)


def _drop_empty_cors(spec: dict[str, Any]) -> None:
    # "No origins" is expressed as no CORS policy: OCI requires allowedOrigins to be non-empty,
    # and without the policy the gateway answers no preflight, so browsers refuse cross-origin use.
    holders = [spec.get("requestPolicies")]
    holders += [route.get("requestPolicies") for route in spec.get("routes", [])]
    for policies in holders:
        if isinstance(policies, dict):
            cors = policies.get("cors")
            if isinstance(cors, dict) and cors.get("allowedOrigins") == []:
                del policies["cors"]


def _drop_empty_usage_plans(spec: dict[str, Any]) -> None:
    # No token locations means no usage-plan policy (tokenLocations is required): every key passes
    # without a subscriber, and rates and quotas are not enforced by API Gateway.
    policies = spec.get("requestPolicies")
    if isinstance(policies, dict):
        plans = policies.get("usagePlans")
        if isinstance(plans, dict) and plans.get("tokenLocations") == []:
            del policies["usagePlans"]


def _is_json(value: object) -> bool:
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, list | tuple):
        return all(_is_json(item) for item in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _walk_strings(node: object, visit: Any) -> None:
    if isinstance(node, Mapping):
        for value in node.values():
            _walk_strings(value, visit)
    elif isinstance(node, list):
        for item in node:
            _walk_strings(item, visit)
    elif isinstance(node, str):
        visit(node)


def _deserializer() -> Any:
    """A BaseClient used only for its (de)serializer; it never signs or sends anything."""
    import oci  # deferred: validation is a deploy/test-time concern

    class _NeverSigns(oci.auth.signers.SecurityTokenSigner):  # type: ignore[misc]
        # BaseClient insists on a signer or a complete config; this one has no key at all.
        def __init__(self) -> None:
            pass

    return oci.base_client.BaseClient(
        "apigateway",
        {},
        _NeverSigns(),
        oci.apigateway.models.apigateway_type_mapping,
        service_endpoint="https://offline.invalid",
    )


def _diff(given: object, back: object, path: str) -> None:
    # Unknown fields vanish, bad enums become UNKNOWN_ENUM_VALUE, coerced types change: all differ.
    if isinstance(given, Mapping) and isinstance(back, Mapping):
        for key in given:
            if key not in back:
                raise SpecError(f"{path}.{key}: not a field the SDK model knows (or null)")
            _diff(given[key], back[key], f"{path}.{key}")
        for key in back:
            if key not in given:
                raise SpecError(f"{path}.{key}: added by the SDK round trip")
        return
    if isinstance(given, list) and isinstance(back, list):
        if len(given) != len(back):
            raise SpecError(f"{path}: list length changed from {len(given)} to {len(back)}")
        for index, (a, b) in enumerate(zip(given, back, strict=True)):
            _diff(a, b, f"{path}[{index}]")
        return
    if type(given) is not type(back) or given != back:
        raise SpecError(f"{path}: {given!r} became {back!r} (bad type or enum value)")


def _check_model(node: object, path: str) -> None:
    """Required fields are set and every polymorphic field resolved to a concrete subtype."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _check_model(item, f"{path}[{index}]")
        return
    if isinstance(node, dict):
        for key, item in node.items():
            _check_model(item, f"{path}.{key}")
        return
    if not hasattr(node, "swagger_types"):
        return
    model: Any = node
    cls = type(model)
    if "get_subtype" in vars(cls):
        # Only abstract bases define get_subtype themselves; landing on one means an unknown type.
        raise SpecError(f"{path}: unknown discriminator for {cls.__name__}")
    for attr in model.swagger_types:
        json_name = model.attribute_map[attr]
        value = getattr(model, attr)
        doc = getattr(cls, attr).__doc__ or ""
        if value is None and "**[Required]**" in doc:
            raise SpecError(f"{path}.{json_name}: required by {cls.__name__} but missing")
        _check_model(value, f"{path}.{json_name}")
