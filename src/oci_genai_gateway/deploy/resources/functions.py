"""Serverless: the OCIR repository, the four images, the Functions application and the functions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from oci_genai_gateway.deploy.config.schema import FUNCTIONS, DeployConfig
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import (
    OWNER_TAG,
    Changes,
    Context,
    Kind,
    Resource,
    Spec,
    State,
)
from oci_genai_gateway.deploy.engine.sdk_calls import list_all
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.container_images import (
    FUNCTIONS_DIR,
    Builder,
    build_step,
    content_tag,
    registry_host,
)
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


@dataclass(frozen=True)
class PushedImage:
    """An image known to be in OCIR (found by tag, or just pushed)."""

    id: str
    version: str


class ImageKind(Kind):
    """One function image, identified by its content tag; built and pushed when OCIR lacks it."""

    label = "image"
    family = "repos"

    def __init__(self, owner: str, ref: str, step_for: Any, builder: Builder) -> None:
        self._owner = owner
        self.ref = ref
        self._step_for = step_for
        self._builder = builder

    def find(self, ctx: Context, res: Resource, scope: str | None) -> list[Any]:
        """The tag in the repository (scope: the repository's name)."""
        version = self.ref.rsplit(":", 1)[1]
        images = list_all(
            ctx.clients.artifacts.list_container_images,
            ctx.compartment_id,
            repository_name=scope,
            version=version,
        )
        return [
            i for i in images if i.version == version and getattr(i, "lifecycle_state", None) != "DELETED"
        ]

    def ocid(self, live: Any) -> str:
        """Functions reference images by name, not OCID."""
        return self.ref

    def tags(self, live: Any) -> Mapping[str, str]:
        """Ownership is the repository's; a tag in it is ours."""
        return {OWNER_TAG: self._owner}

    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """Build and push, or stop with the exact commands when no container tool is here."""
        tool = self._builder.tool()
        if tool is None:
            step = self._step_for("docker")
            raise DeployError(
                f"image {self.ref} is not in OCIR and neither docker nor podman is on PATH. "
                "Build and push it "
                f"(Cloud Shell has docker):\n{step.text()}\nthen apply again, or set [images] refs."
            )
        ctx.reporter.progress(f"building and pushing {self.ref} with {tool}")
        try:
            self._builder.run(self._step_for(tool))
        except RuntimeError as exc:
            raise DeployError(f"image {self.ref}: {exc}") from None
        return PushedImage(self.ref, self.ref.rsplit(":", 1)[1])

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Never needed: a different image has a different tag."""
        return live

    def delete(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> None:
        """Delete the tag's image (found by listing, so `live.id` is its OCID)."""
        image_id = getattr(live, "id", "")
        if str(image_id).startswith("ocid1."):
            ctx.clients.artifacts.delete_container_image(image_id)

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """Found means identical (content tag)."""
        return {}


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
    import oci

    m = oci.functions.models
    return SdkKind(
        label="Functions application",
        family="functions-family",
        client="functions",
        lister=lambda c, ctx, scope, name: list_all(
            c.list_applications, ctx.compartment_id, display_name=name
        ),
        create_model=m.CreateApplicationDetails,
        create_call=lambda c, scope, d: c.create_application(d),
        get_call=lambda c, scope, i: c.get_application(i),
        update_model=m.UpdateApplicationDetails,
        update_call=lambda c, scope, i, d: c.update_application(i, d),
        delete_call=lambda c, scope, i: c.delete_application(i),
        ready=("ACTIVE",),
        immutable=frozenset({"subnet_ids", "shape"}),
    )


def _function_kind() -> FunctionKind:
    import oci

    m = oci.functions.models
    return FunctionKind(
        label="function",
        family="functions-family",
        client="functions",
        lister=lambda c, ctx, scope, name: list_all(c.list_functions, scope, display_name=name),
        create_model=m.CreateFunctionDetails,
        create_call=lambda c, scope, d: c.create_function(d),
        get_call=lambda c, scope, i: c.get_function(i),
        update_model=m.UpdateFunctionDetails,
        update_call=lambda c, scope, i, d: c.update_function(i, d),
        delete_call=lambda c, scope, i: c.delete_function(i),
        scope_field="application_id",
        ready=("ACTIVE",),
    )


def _repo_kind() -> SdkKind:
    import oci

    m = oci.artifacts.models
    return SdkKind(
        label="container repository",
        family="repos",
        client="artifacts",
        lister=lambda c, ctx, scope, name: list_all(
            c.list_container_repositories, ctx.compartment_id, display_name=name
        ),
        create_model=m.CreateContainerRepositoryDetails,
        create_call=lambda c, scope, d: c.create_container_repository(d),
        get_call=lambda c, scope, i: c.get_container_repository(i),
        update_model=m.UpdateContainerRepositoryDetails,
        update_call=lambda c, scope, i, d: c.update_container_repository(i, d),
        delete_call=lambda c, scope, i: c.delete_container_repository(i),
        deleted=("DELETED",),
        deleting=("DELETING",),
    )


def app_config(config: DeployConfig) -> dict[str, str]:
    """Settings every function gets (README table); the keys secret goes to the authorizer only."""
    out = {
        "GATEWAY_COMPARTMENT_ID": config.compartment_id,
        "GATEWAY_REGION": config.region,
        "GATEWAY_METRICS_NAMESPACE": config.metrics_namespace,
    }
    if config.gateway.model_aliases:
        out["GATEWAY_MODEL_ALIASES"] = json.dumps(dict(config.gateway.model_aliases), sort_keys=True)
    out.update(config.gateway.settings)
    return out


def image_refs(config: DeployConfig, facts: Facts) -> dict[str, str]:
    """Each function's image: given, or `<ocir>/<namespace>/<repository>:<content tag>`."""
    if config.images.refs:
        return dict(config.images.refs)
    host = registry_host(facts.region_key, config.images.registry)
    repo = config.images.repository or f"{config.prefix}-gateway"
    return {name: f"{host}/{facts.namespace}/{repo}:{content_tag(name)}" for name in FUNCTIONS}


def resources(config: DeployConfig, facts: Facts, builder: Builder) -> list[Resource]:
    """Repository and images (unless given), the application, the four functions."""
    import oci

    m = oci.functions.models
    p = config.prefix
    refs = image_refs(config, facts)
    out: list[Resource] = []
    image_deps: tuple[str, ...] = ()
    if not config.images.refs:
        repo_name = config.images.repository or f"{p}-gateway"
        if config.images.repository is None:
            out.append(
                Resource("functions.repository", _repo_kind(), repo_name, lambda s: {"is_public": False})
            )

        def repo_scope(s: State) -> str:
            # A repository we create is only listable once it exists.
            if config.images.repository is None and not s.known("functions.repository"):
                return s.ocid("functions.repository")
            return repo_name

        for name in FUNCTIONS:
            ref = refs[name]
            step_for = lambda tool, n=name, r=ref: build_step(tool, n, r, config.functions.shape)  # noqa: E731
            kind = ImageKind(p, ref, step_for, builder)
            deps = ("functions.repository",) if config.images.repository is None else ()
            out.append(Resource(f"functions.image.{name}", kind, ref, lambda s: {}, deps, repo_scope))
        image_deps = tuple(f"functions.image.{name}" for name in FUNCTIONS)
    out.append(
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
    )
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
