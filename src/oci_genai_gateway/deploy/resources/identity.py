"""IAM: the dynamic group (identity domain or legacy IAM) and the least-privilege policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import (
    Changes,
    Context,
    Kind,
    Resource,
    Spec,
    State,
    is_pending,
)
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.facts import Facts

# https://docs.oracle.com/en-us/iaas/Content/Identity/policysyntax/subject.htm (identity-domain subjects)
# https://docs.oracle.com/en-us/iaas/Content/Identity/policysyntax/location.htm (`compartment id <ocid>`)
DRG_SCHEMA = "urn:ietf:params:scim:schemas:oracle:idcs:DynamicResourceGroup"


def dynamic_group_name(config: DeployConfig) -> str:
    """The dynamic group's name."""
    suffix = {"serverless": "functions", "scaled": "pool"}.get(config.target, "vm")
    return f"{config.prefix}-{suffix}"


def subject(facts: Facts, name: str) -> str:
    """How a policy names the dynamic group: quoted and domain-qualified in identity-domain tenancies."""
    return f"'{facts.domain.name}'/'{name}'" if facts.domain else name


def matching_rule(config: DeployConfig, vm_id: str | None = None) -> str:
    """Functions of the compartment, or the compartment's instances narrowed to the VM once it exists.

    The scaled target's instances come and go with the pool: a rule can name only compartments,
    instance OCIDs and defined tags, so it is every instance of the compartment (docs/SCALING.md:
    give the scaled target a compartment of its own).
    """
    c = config.compartment_id
    if config.target == "serverless":
        return f"ALL {{resource.type = 'fnfunc', resource.compartment.id = '{c}'}}"
    if config.target == "scaled":
        return f"ALL {{instance.compartment.id = '{c}'}}"
    if vm_id is None or is_pending(vm_id):
        return f"ALL {{instance.compartment.id = '{c}'}}"
    return f"ALL {{instance.compartment.id = '{c}', instance.id = '{vm_id}'}}"


def statements(config: DeployConfig, facts: Facts, secret_id: str) -> list[str]:
    """Exactly what the gateway needs: Generative AI, the keys secret, its metrics; API Gateway invokes."""
    c = config.compartment_id
    where = f"compartment id {c}"
    dg = subject(facts, dynamic_group_name(config))
    out = [f"allow dynamic-group {dg} to use generative-ai-family in {where}"]
    if config.target == "serverless":
        out.append(
            f"allow any-user to use functions-family in {where} where ALL "
            f"{{request.principal.type = 'ApiGateway', request.resource.compartment.id = '{c}'}}"
        )
    out.append(
        f"allow dynamic-group {dg} to read secret-bundles in {where} where target.secret.id = '{secret_id}'"
    )
    # Usage metering posts to, and budgets read from, the deployment's own Monitoring namespace.
    # https://docs.oracle.com/en-us/iaas/Content/Identity/Reference/monitoringpolicyreference.htm
    out.append(
        f"allow dynamic-group {dg} to use metrics in {where} "
        f"where target.metrics.namespace = '{config.metrics_namespace}'"
    )
    return out


def _oci_tags(live: Any) -> dict[str, str]:
    ext = getattr(live, "urn_ietf_params_scim_schemas_oracle_idcs_extension_oci_tags", None)
    items = getattr(ext, "freeform_tags", None) or []
    return {t.key: t.value for t in items}


class DomainDynamicGroupKind(Kind):
    """A dynamic group in an identity domain (IdentityDomainsClient at the domain's URL)."""

    label = "dynamic group"
    family = "dynamic-groups"

    def __init__(self, url: str) -> None:
        self.url = url

    def _client(self, ctx: Context) -> Any:
        return ctx.clients.get("identity_domains", endpoint=self.url)

    def find(self, ctx: Context, res: Resource, scope: str | None) -> list[Any]:
        """By display name (a SCIM filter)."""
        found = self._client(ctx).list_dynamic_resource_groups(
            filter=f'displayName eq "{res.name}"', attribute_sets=["all"]
        )
        return [g for g in (found.data.resources or []) if g.display_name == res.name]

    def ocid(self, live: Any) -> str:
        """The group's OCID (operations use its SCIM id)."""
        return str(live.ocid or live.id)

    def tags(self, live: Any) -> Mapping[str, str]:
        """Freeform tags sit in the OCI tags extension."""
        return _oci_tags(live)

    def _model(self, res: Resource, spec: Spec, tags: dict[str, str]) -> Any:
        import oci

        m = oci.identity_domains.models
        return m.DynamicResourceGroup(
            schemas=[DRG_SCHEMA],
            display_name=res.name,
            matching_rule=spec["matching_rule"],
            description=spec["description"],
            urn_ietf_params_scim_schemas_oracle_idcs_extension_oci_tags=m.ExtensionOCITags(
                freeform_tags=[m.FreeformTags(key=k, value=v) for k, v in sorted(tags.items())]
            ),
        )

    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """Synchronous: the response is the group."""
        return (
            self._client(ctx)
            .create_dynamic_resource_group(dynamic_resource_group=self._model(res, spec, tags))
            .data
        )

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """A PUT of the whole group (matching rule and description)."""
        spec = {"matching_rule": live.matching_rule, "description": live.description, **changed}
        group = self._model(res, spec, tags)
        return self._client(ctx).put_dynamic_resource_group(live.id, dynamic_resource_group=group).data

    def delete(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> None:
        """Synchronous delete."""
        self._client(ctx).delete_dynamic_resource_group(live.id)

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """Matching rule and description."""
        return {k: (getattr(live, k, None), v) for k, v in spec.items() if getattr(live, k, None) != v}


def dynamic_group_kind(facts: Facts) -> Kind:
    """The domain kind in identity-domain tenancies, the legacy IdentityClient kind otherwise."""
    if facts.domain is not None:
        return DomainDynamicGroupKind(facts.domain.url)
    # IAM writes go to the home region; legacy dynamic groups live in the tenancy, named by `name`.
    return sdk_kind(
        "dynamic group",
        "dynamic-groups",
        "identity_home",
        "dynamic_group",
        name_field="name",
        in_tenancy=True,
        ready=("ACTIVE",),
    )


def policy_kind() -> SdkKind:
    """A policy attached to the deployment's compartment (IdentityClient in both kinds of tenancy)."""
    return sdk_kind("policy", "policies", "identity_home", "policy", name_field="name", ready=("ACTIVE",))


def dynamic_group(config: DeployConfig, facts: Facts) -> Resource:
    """The dynamic group of the functions (or the VM)."""
    who = {"serverless": "functions", "scaled": "instance pool"}.get(config.target, "VM")

    def spec(s: State) -> Spec:
        vm = s.ocid("compose.vm") if config.target == "compose" else None
        return {
            "matching_rule": matching_rule(config, vm),
            "description": f"oci-genai-gateway {config.prefix}: the gateway's {who}",
        }

    return Resource(
        "identity.dynamic-group",
        dynamic_group_kind(facts),
        dynamic_group_name(config),
        spec,
        show=("matching_rule",),
    )


def policy(config: DeployConfig, facts: Facts) -> Resource:
    """The policy; it names the keys secret, so it comes after it."""

    def spec(s: State) -> Spec:
        return {
            "statements": statements(config, facts, s.ocid("keys.secret")),
            "description": f"oci-genai-gateway {config.prefix}: least privilege for the gateway",
        }

    return Resource(
        "identity.policy",
        policy_kind(),
        f"{config.prefix}-gateway",
        spec,
        depends_on=("identity.dynamic-group", "keys.secret"),
        show=("statements",),
    )
