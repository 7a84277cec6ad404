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
)
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.facts import Facts

# https://docs.oracle.com/en-us/iaas/Content/Identity/policysyntax/subject.htm (identity-domain subjects)
# https://docs.oracle.com/en-us/iaas/Content/Identity/policysyntax/location.htm (`compartment id <ocid>`)
DRG_SCHEMA = "urn:ietf:params:scim:schemas:oracle:idcs:DynamicResourceGroup"


# The gateway's three Generative AI operations, each by its own resource type (OCI documents each as
# part of generative-ai-family): Chat, EmbedText, ListModels.
# https://docs.oracle.com/en-us/iaas/Content/generative-ai/chat-permissions.htm
# https://docs.oracle.com/en-us/iaas/Content/generative-ai/embedding-permissions.htm
# https://docs.oracle.com/en-us/iaas/Content/generative-ai/models-api-permissions.htm
GENAI_GRANTS = ("use generative-ai-chat", "use generative-ai-text-embedding", "read generative-ai-model")
# What the Functions service itself needs (an administrator's statements, in the root compartment):
# https://docs.oracle.com/en-us/iaas/Content/Functions/Tasks/functionscreatingpolicies.htm
FAAS_NETWORK = "allow service faas to use virtual-network-family in compartment id {c}"
FAAS_REPOS = "allow service faas to read repos in tenancy"
# The functions that call Generative AI; the authorizer, alone, reads the keys secret.
CALLERS = ("chat", "embeddings", "moderations", "models")


def dynamic_group_name(config: DeployConfig) -> str:
    """The dynamic group of the functions that call Generative AI (or of the VM)."""
    return f"{config.prefix}-{'functions' if config.target == 'serverless' else 'vm'}"


def authorizer_group_name(config: DeployConfig) -> str:
    """The authorizer's own dynamic group (serverless): the only reader of the keys secret."""
    return f"{config.prefix}-authorizer"


def subject(facts: Facts, name: str) -> str:
    """How a policy names the dynamic group: quoted and domain-qualified in identity-domain tenancies."""
    return f"'{facts.domain.name}'/'{name}'" if facts.domain else name


def matching_rule(config: DeployConfig, vm_id: str) -> str:
    """The compose VM, by OCID (its group is created after it, so never compartment-wide)."""
    return f"ALL {{instance.compartment.id = '{config.compartment_id}', instance.id = '{vm_id}'}}"


def functions_rule(function_ids: list[str]) -> str:
    """Exactly these functions, by OCID (`resource.id`, as OCI's matching-rule reference allows).

    https://docs.oracle.com/en-us/iaas/Content/Identity/dynamicgroups/Writing_Matching_Rules_to_Define_Dynamic_Groups.htm
    """
    return "ANY {" + ", ".join(f"resource.id = '{ocid}'" for ocid in function_ids) + "}"


def statements(config: DeployConfig, facts: Facts, secret_id: str) -> list[str]:
    """Exactly what the gateway needs: Generative AI, the keys secret, its metrics; API Gateway invokes."""
    c = config.compartment_id
    where = f"compartment id {c}"
    dg = subject(facts, dynamic_group_name(config))
    # One statement covers every region of deployment.regions: IAM policies are defined in the home
    # region and apply in every region the tenancy subscribes to
    # (https://docs.oracle.com/en-us/iaas/Content/Identity/Tasks/managingregions.htm).
    keys = subject(facts, authorizer_group_name(config)) if config.target == "serverless" else dg
    out = [f"allow dynamic-group {dg} to {grant} in {where}" for grant in GENAI_GRANTS]
    if config.target == "serverless":
        out.append(
            f"allow any-user to use functions-family in {where} where ALL "
            f"{{request.principal.type = 'ApiGateway', request.resource.compartment.id = '{c}'}}"
        )
    out.append(
        f"allow dynamic-group {keys} to read secret-bundles in {where} where target.secret.id = '{secret_id}'"
    )
    # Usage metering posts to, and budgets read from, the deployment's own Monitoring namespace.
    # https://docs.oracle.com/en-us/iaas/Content/Identity/Reference/monitoringpolicyreference.htm
    for group in dict.fromkeys((dg, keys)):
        out.append(
            f"allow dynamic-group {group} to use metrics in {where} "
            f"where target.metrics.namespace = '{config.metrics_namespace}'"
        )
    return out


def prerequisites(config: DeployConfig) -> list[str]:
    """Statements deploy does not create (they name a service, in the root compartment) but needs."""
    if config.target != "serverless":
        return []
    return [FAAS_NETWORK.format(c=config.compartment_id), FAAS_REPOS]


def missing_prerequisites(config: DeployConfig, clients: Any) -> list[str]:
    """The prerequisites no policy in the root compartment or the deployment's compartment states."""
    from oci_genai_gateway.deploy.engine.sdk_calls import list_all

    wanted = prerequisites(config)
    if not wanted:
        return []
    have: set[str] = set()
    for where in dict.fromkeys((clients.tenancy_id, config.compartment_id)):
        for item in list_all(clients.identity.list_policies, where):
            have.update(_normal(statement) for statement in (item.statements or []))
    return [s for s in wanted if _normal(s) not in have]


def _normal(statement: str) -> str:
    # OCI matches keywords case-insensitively; `compartment id` or a name cannot be told apart here.
    return " ".join(statement.lower().split())


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


def dynamic_groups(config: DeployConfig, facts: Facts) -> list[Resource]:
    """Serverless: one group for the three Generative AI callers, one for the authorizer, each naming
    its functions by OCID (so they come after the functions); compose: the VM's group."""
    if config.target != "serverless":

        def vm_spec(s: State) -> Spec:
            return {
                "matching_rule": matching_rule(config, s.ocid("compose.vm")),
                "description": f"oci-genai-gateway {config.prefix}: the gateway's VM",
            }

        kind = dynamic_group_kind(facts)
        return [Resource("identity.dynamic-group", kind, dynamic_group_name(config), vm_spec, show=_RULE)]

    def group(key: str, name: str, functions: tuple[str, ...], who: str) -> Resource:
        def spec(s: State) -> Spec:
            return {
                "matching_rule": functions_rule([s.ocid(f"functions.fn.{fn}") for fn in functions]),
                "description": f"oci-genai-gateway {config.prefix}: {who}",
            }

        deps = tuple(f"functions.fn.{fn}" for fn in functions)
        return Resource(key, dynamic_group_kind(facts), name, spec, depends_on=deps, show=_RULE)

    return [
        group("identity.dynamic-group", dynamic_group_name(config), CALLERS, "the functions calling GenAI"),
        group("identity.authorizer-group", authorizer_group_name(config), ("authorizer",), "the authorizer"),
    ]


_RULE = ("matching_rule",)


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
        depends_on=(
            "identity.dynamic-group",
            *(("identity.authorizer-group",) if config.target == "serverless" else ()),
            "keys.secret",
        ),
        show=("statements",),
    )
