"""Serverless: the Functions application and the four functions, each from its image."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from oci_genai_gateway.deploy.config.schema import FUNCTIONS, DeployConfig
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import Changes, Context, Resource, Spec, State
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.container_images import FUNCTIONS_DIR, image_keys, image_refs
from oci_genai_gateway.deploy.resources.facts import Facts


@dataclass(frozen=True)
class FuncLimits:
    """Memory and timeout from a function's func.yaml."""

    memory_in_mbs: int
    timeout_in_seconds: int


def func_limits(name: str) -> FuncLimits:
    """What functions/<name>/func.yaml asks for (the numbers are justified there)."""
    data = yaml.safe_load((FUNCTIONS_DIR / name / "func.yaml").read_text(encoding="utf-8"))
    return FuncLimits(int(data["memory"]), int(data["timeout"]))


class FunctionKind(SdkKind):
    """Functions: the image goes in source_details; no provisioned concurrency reads back as NONE."""

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """Plain diff, with an unset provisioned concurrency treated as strategy NONE."""
        out = super().diff(ctx, res, live, spec)
        wanted = spec.get("provisioned_concurrency_config")
        if live.provisioned_concurrency_config is None and getattr(wanted, "strategy", None) == "NONE":
            out.pop("provisioned_concurrency_config", None)
        return out

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """UpdateFunctionDetails takes the Update* source model."""
        import oci

        if "source_details" in changed:
            image = changed["source_details"].image
            changed = {
                **changed,
                "source_details": oci.functions.models.UpdateContainerImageFunctionSourceDetails(image=image),
            }
        return super().update(ctx, res, scope, live, changed, tags)


def _app_kind() -> SdkKind:
    return sdk_kind(
        "Functions application",
        "functions-family",
        "functions",
        "application",
        ready=("ACTIVE",),
        immutable=frozenset({"subnet_ids", "shape"}),
    )


def _function_kind() -> SdkKind:
    # Created with application_id in the details, listed by it: list_functions(application_id).
    return sdk_kind(
        "function",
        "functions-family",
        "functions",
        "function",
        cls=FunctionKind,
        scope_field="application_id",
        listed_in_scope=True,
        ready=("ACTIVE",),
    )


def app_config(config: DeployConfig) -> dict[str, str]:
    """Settings every function gets (README table); the keys secret goes to the authorizer only."""
    out = {
        "GATEWAY_COMPARTMENT_ID": config.compartment_id,
        "GATEWAY_REGION": config.region,
        "GATEWAY_METRICS_NAMESPACE": config.metrics_namespace,
    }
    if config.regions:
        out["GATEWAY_REGIONS"] = ",".join(config.regions)
    if config.gateway.model_aliases:
        out["GATEWAY_MODEL_ALIASES"] = json.dumps(dict(config.gateway.model_aliases), sort_keys=True)
    out.update(config.gateway.settings)
    return out


def resources(config: DeployConfig, facts: Facts) -> list[Resource]:
    """The application and the four functions, each after its image."""
    import oci

    m = oci.functions.models
    p = config.prefix
    refs = image_refs(config, facts)
    image_deps = image_keys(config)
    out = [
        Resource(
            "functions.application",
            _app_kind(),
            f"{p}-gateway",
            lambda s: {
                "subnet_ids": [s.ocid("network.subnet-private")],
                "shape": config.functions.shape,
                "config": app_config(config),
            },
            depends_on=("network.subnet-private",),
            show=("config",),
        )
    ]
    for name in FUNCTIONS:
        limits = func_limits(name)

        def spec(s: State, name: str = name, limits: FuncLimits = limits) -> Spec:
            fields: Spec = {
                "source_details": m.CreateContainerImageFunctionSourceDetails(image=refs[name]),
                "memory_in_mbs": limits.memory_in_mbs,
                "timeout_in_seconds": limits.timeout_in_seconds,
                "config": {"GATEWAY_API_KEYS_SECRET_ID": s.ocid("keys.secret")}
                if name == "authorizer"
                else {},
            }
            if name == "chat":
                count = config.functions.chat_provisioned_concurrency
                fields["provisioned_concurrency_config"] = (
                    m.ConstantProvisionedConcurrencyConfig(count=count)
                    if count
                    else m.NoneProvisionedConcurrencyConfig()
                )
            return fields

        deps = ("functions.application", *image_deps, *(("keys.secret",) if name == "authorizer" else ()))
        out.append(
            Resource(
                f"functions.fn.{name}",
                _function_kind(),
                name,
                spec,
                depends_on=deps,
                scope=lambda s: s.ocid("functions.application"),
                show=("memory_in_mbs", "timeout_in_seconds"),
            )
        )
    return out
