"""Serverless: the Functions application and the four functions, each from its image."""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.config.schema import FUNCTIONS, DeployConfig
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import Changes, Context, Resource, Spec, State
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.container_images import image_keys, image_refs
from oci_genai_gateway.deploy.resources.facts import Facts


@dataclass(frozen=True)
class FuncLimits:
    """Memory and timeout from a function's func.yaml."""

    memory_in_mbs: int
    timeout_in_seconds: int


def func_limits(name: str) -> FuncLimits:
    """What functions/<name>/func.yaml asks for (the numbers are justified there)."""
    # functions/<name>/func.yaml, shipped in the package as data (pyproject.toml package-dir).
    spec = importlib.resources.files("oci_genai_gateway.deploy.function_specs").joinpath(name, "func.yaml")
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    return FuncLimits(int(data["memory"]), int(data["timeout"]))


# OCI counts provisioned concurrency in PCUs; the function's memory sets the minimum and the step:
# 128 MB: 40, 256 MB: 20, 512 MB and more: 10 (and multiples of them).
# https://docs.oracle.com/iaas/Content/Functions/Tasks/functionsusingprovisionedconcurrency.htm
PCU_STEP_BY_MEMORY = ((128, 40), (256, 20))
PCU_STEP = 10


def pcu_step(memory_in_mbs: int) -> int:
    """The minimum, and the step, of provisioned concurrency (PCUs) for a function of this memory."""
    return next((step for memory, step in PCU_STEP_BY_MEMORY if memory_in_mbs <= memory), PCU_STEP)


def check_pcus(count: int, memory_in_mbs: int) -> None:
    """Refuse a PCU count OCI would refuse, naming the valid values."""
    step = pcu_step(memory_in_mbs)
    if count and count % step:
        raise ConfigError(
            f"functions.chat_provisioned_concurrency = {count}: OCI counts provisioned concurrency in "
            f"PCUs, and for a {memory_in_mbs} MB function it must be a multiple of {step} "
            f"({step}, {2 * step}, ...) or 0 (off); see "
            "https://docs.oracle.com/iaas/Content/Functions/Tasks/functionsusingprovisionedconcurrency.htm"
        )


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
            source = changed["source_details"]
            changed = {
                **changed,
                "source_details": oci.functions.models.UpdateContainerImageFunctionSourceDetails(
                    image=source.image, image_digest=source.image_digest
                ),
            }
        return super().update(ctx, res, scope, live, changed, tags)


def image_digest(s: State, name: str) -> str:
    """The digest of the function's image as found in (or pushed to) OCIR."""
    return str(s.attr(f"functions.image.{name}", "digest"))


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
    if not config.api_gateway.usage_plans:
        # Without usage plans API Gateway enforces no rate or quota: each function instance does.
        out["GATEWAY_LIMITS_IN_PROCESS"] = "true"
    if config.gateway.model_aliases:
        out["GATEWAY_MODEL_ALIASES"] = json.dumps(dict(config.gateway.model_aliases), sort_keys=True)
    out.update(config.gateway.settings)
    return out


def resources(config: DeployConfig, facts: Facts, source: Path | None = None) -> list[Resource]:
    """The application and the four functions, each after its image."""
    import oci

    m = oci.functions.models
    p = config.prefix
    refs = image_refs(config, facts, source)
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
        if name == "chat":
            check_pcus(config.functions.chat_provisioned_concurrency, limits.memory_in_mbs)

        def spec(s: State, name: str = name, limits: FuncLimits = limits) -> Spec:
            fields: Spec = {
                # Pinned by digest: an image rebuilt under the same tag is a change to the function.
                "source_details": m.CreateContainerImageFunctionSourceDetails(
                    image=refs[name], image_digest=image_digest(s, name) if image_deps else None
                ),
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
