"""API Gateway: the public gateway and its deployment, rendered from apigw/deployment.json."""

from __future__ import annotations

import json
from typing import Any

# The only import of the spec renderer (it may move): render + validate with the SDK's own models.
from oci_genai_gateway import apigw_spec
from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import Resource, Spec, State
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.usage_plans import UsagePlansKind
from oci_genai_gateway.deploy.resources.vault import read_table


def spec_values(config: DeployConfig, function_ids: dict[str, str]) -> dict[str, object]:
    """The template's placeholders (apigw/README.md) from the config and the function OCIDs."""
    return {
        **apigw_spec.DEFAULT_VALUES,
        "CHAT_FUNCTION_ID": function_ids["chat"],
        "EMBEDDINGS_FUNCTION_ID": function_ids["embeddings"],
        "MODERATIONS_FUNCTION_ID": function_ids["moderations"],
        "MODELS_FUNCTION_ID": function_ids["models"],
        "AUTHORIZER_FUNCTION_ID": function_ids["authorizer"],
        "CORS_ALLOWED_ORIGINS": list(config.gateway.cors_origins),
        "CORS_MAX_AGE_SECONDS": config.api_gateway.cors_max_age_seconds,
        "RATE_LIMIT_RPS": config.api_gateway.rate_limit_rps,
        "EXECUTION_LOG_LEVEL": config.api_gateway.execution_log_level,
        # No token locations: the template drops the usage-plan policy (apigw_spec).
        **({} if config.api_gateway.usage_plans else {"USAGE_PLAN_TOKEN_LOCATIONS": []}),
    }


def specification(config: DeployConfig, function_ids: dict[str, str]) -> Any:
    """The rendered, validated spec as an `oci.apigateway.models.ApiSpecification`."""
    try:
        rendered = apigw_spec.render(spec_values(config, function_ids))
        apigw_spec.validate(rendered)
    except apigw_spec.SpecError as exc:
        raise DeployError(f"apigw/deployment.json: {exc}") from None
    return to_model(rendered, "ApiSpecification")


def to_model(data: dict[str, Any], type_name: str) -> Any:
    """JSON data as an API Gateway SDK model, through the SDK's own deserializer."""
    import oci

    class _NeverSigns(oci.auth.signers.SecurityTokenSigner):  # type: ignore[misc]
        # BaseClient wants a signer; this one signs nothing, the client only deserializes.
        def __init__(self) -> None:
            pass

    client = oci.base_client.BaseClient(
        "apigateway",
        {},
        _NeverSigns(),
        oci.apigateway.models.apigateway_type_mapping,
        service_endpoint="https://offline.invalid",
    )
    return client.deserialize_response_data(json.dumps(data).encode(), type_name)


def _gateway_kind() -> SdkKind:
    return sdk_kind(
        "API gateway",
        "api-gateway-family",
        "gateway",
        "gateway",
        ready=("ACTIVE",),
        immutable=frozenset({"endpoint_type", "subnet_id"}),
        # Create, update and delete answer at once; the work request says when (and whether) they end.
        work_requests=True,
        work_request_client="apigw_work_requests",
    )


def _deployment_kind() -> SdkKind:
    return sdk_kind(
        "API deployment",
        "api-gateway-family",
        "deployment",
        "deployment",
        scope_field="gateway_id",
        ready=("ACTIVE",),
        immutable=frozenset({"path_prefix"}),
        work_requests=True,
        work_request_client="apigw_work_requests",
    )


FUNCTION_NAMES = ("chat", "embeddings", "moderations", "models", "authorizer")


def resources(config: DeployConfig) -> list[Resource]:
    """The gateway in the public subnet behind the 443-only NSG, and the deployment at path prefix /."""
    p = config.prefix

    def deployment(s: State) -> Spec:
        ids = {name: s.ocid(f"functions.fn.{name}") for name in FUNCTION_NAMES}
        # Path prefix "/" so that clients use base_url=https://<host>/v1 (apigw/README.md).
        return {"path_prefix": "/", "specification": specification(config, ids)}

    out = [
        Resource(
            "gateway.gateway",
            _gateway_kind(),
            f"{p}-gateway",
            lambda s: {
                "endpoint_type": "PUBLIC",
                "subnet_id": s.ocid("network.subnet-public"),
                "network_security_group_ids": [s.ocid("network.nsg")],
            },
            depends_on=("network.subnet-public", "network.nsg"),
        ),
        Resource(
            "gateway.deployment",
            _deployment_kind(),
            f"{p}-v1",
            deployment,
            depends_on=("gateway.gateway", *(f"functions.fn.{name}" for name in FUNCTION_NAMES)),
            scope=lambda s: s.ocid("gateway.gateway"),
            digest_fields=frozenset({"specification"}),
            show=("path_prefix",),
        ),
        # Every key is a usage-plan subscriber (the spec's usage-plan policy forwards only those).
        Resource(
            "gateway.usage-plans",
            UsagePlansKind(read_table),
            f"{p}-plan-*, {p}-key-*",
            lambda s: {
                "subscribers": {
                    "secret_id": s.ocid("keys.secret"),
                    "deployment_id": s.ocid("gateway.deployment"),
                }
            },
            depends_on=("gateway.deployment", "keys.secret"),
        ),
    ]
    return out if config.api_gateway.usage_plans else out[:2]
