"""OCI Logging: a log group, the application's invoke log, the deployment's access and execution logs."""

from __future__ import annotations

from collections.abc import Callable

from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import Resource, Spec, State

_FAMILY = "logging-family"


def resources(config: DeployConfig) -> list[Resource]:
    """Service logs of the functions and the deployment, in one log group (serverless only)."""
    if not config.logging.enabled or config.target != "serverless":
        return []
    import oci

    m = oci.logging.models
    p = config.prefix
    # Every change to a log or log group is a work request.
    group_kind = sdk_kind("log group", _FAMILY, "logging", "log_group", ready=("ACTIVE",), work_requests=True)
    # Log calls take their group first: get_log(log_group_id, log_id), list_logs(log_group_id).
    log_kind = sdk_kind(
        "log",
        _FAMILY,
        "logging",
        "log",
        scope_in_path=True,
        ready=("ACTIVE",),
        work_requests=True,
        immutable=frozenset({"log_type"}),
    )

    def service_log(service: str, source: str, category: str) -> Callable[[State], Spec]:
        def spec(s: State) -> Spec:
            return {
                "log_type": "SERVICE",
                "is_enabled": True,
                "retention_duration": config.logging.retention_days,
                "configuration": m.Configuration(
                    compartment_id=config.compartment_id,
                    source=m.OciService(
                        source_type="OCISERVICE", service=service, resource=s.ocid(source), category=category
                    ),
                ),
            }

        return spec

    def log(key: str, name: str, service: str, source: str, category: str) -> Resource:
        return Resource(
            f"logs.{key}",
            log_kind,
            name,
            service_log(service, source, category),
            depends_on=("logs.group", source),
            scope=lambda s: s.ocid("logs.group"),
        )

    return [
        Resource(
            "logs.group",
            group_kind,
            f"{p}-logs",
            lambda s: {"description": f"oci-genai-gateway {p}: function and API gateway logs"},
        ),
        log("invoke", f"{p}-functions-invoke", "functions", "functions.application", "invoke"),
        log("access", f"{p}-apigw-access", "apigateway", "gateway.deployment", "access"),
        log("execution", f"{p}-apigw-execution", "apigateway", "gateway.deployment", "execution"),
    ]
