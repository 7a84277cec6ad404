"""OCI Logging: a log group, the application's invoke log, the deployment's access and execution logs."""

from __future__ import annotations

from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.resource_model import Resource, Spec, State
from oci_genai_gateway.deploy.engine.sdk_calls import list_all
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind


def _kind(label: str, noun: str, lister: object, **extra: object) -> SdkKind:
    import oci

    m = oci.logging.models
    model = "".join(part.title() for part in noun.split("_"))
    group = noun == "log_group"
    # Log calls take the group first; every change is a work request.
    return SdkKind(
        label=label,
        family="logging-family",
        client="logging",
        lister=lister,  # type: ignore[arg-type]
        create_model=getattr(m, f"Create{model}Details"),
        create_call=(lambda c, s, d: c.create_log_group(d))
        if group
        else (lambda c, s, d: c.create_log(s, d)),
        get_call=(lambda c, s, i: c.get_log_group(i)) if group else (lambda c, s, i: c.get_log(s, i)),
        update_model=getattr(m, f"Update{model}Details"),
        update_call=(lambda c, s, i, d: c.update_log_group(i, d))
        if group
        else (lambda c, s, i, d: c.update_log(s, i, d)),
        delete_call=(lambda c, s, i: c.delete_log_group(i))
        if group
        else (lambda c, s, i: c.delete_log(s, i)),
        ready=("ACTIVE",),
        deleted=(),
        deleting=("DELETING",),
        work_requests=True,
        **extra,  # type: ignore[arg-type]
    )


def resources(config: DeployConfig) -> list[Resource]:
    """Service logs of the functions and the deployment, in one log group (serverless only)."""
    if not config.logging.enabled or config.target != "serverless":
        return []
    import oci

    m = oci.logging.models
    p = config.prefix
    group_kind = _kind(
        "log group",
        "log_group",
        lambda c, ctx, scope, name: list_all(c.list_log_groups, ctx.compartment_id, display_name=name),
    )
    log_kind = _kind(
        "log",
        "log",
        lambda c, ctx, scope, name: list_all(c.list_logs, scope, display_name=name),
        immutable=frozenset({"log_type"}),
    )

    def service_log(service: str, source: str, category: str) -> object:
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
            service_log(service, source, category),  # type: ignore[arg-type]
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
