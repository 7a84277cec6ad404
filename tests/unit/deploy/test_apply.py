"""apply against a fake tenancy: what a fresh apply creates; later applies change only what changed."""

from __future__ import annotations

import base64
import json
from typing import Any

import oci
import pytest
import yaml

from oci_genai_gateway import apigw_spec
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import DIGEST_TAG, OWNER_TAG, Action
from oci_genai_gateway.deploy.engine.retries import MAX_ATTEMPTS
from oci_genai_gateway.deploy.resources import container_images
from tests.paths import FUNCTIONS_DIR
from tests.unit.deploy.conftest import COMPARTMENT, Deployer, config
from tests.unit.deploy.fake_tenancy import HOME, TENANCY, FakeBuilder, FakeTenancy, service_error
from tests.unit.deploy.sdk_checks import serialize

OWNED = {OWNER_TAG: "genai"}

SERVERLESS_CREATES = [
    ("network", "create_vcn"),
    ("network", "create_internet_gateway"),
    ("network", "create_nat_gateway"),
    ("network", "create_service_gateway"),
    ("network", "create_route_table"),
    ("network", "create_route_table"),
    ("network", "create_security_list"),
    ("network", "create_subnet"),
    ("network", "create_subnet"),
    ("network", "create_network_security_group"),
    ("network", "add_network_security_group_security_rules"),
    ("kms_vault", "create_vault"),
    ("kms_management", "create_key"),
    ("vaults", "create_secret"),
    ("artifacts", "create_container_repository"),
    ("functions", "create_application"),
    ("functions", "create_function"),
    ("functions", "create_function"),
    ("functions", "create_function"),
    ("functions", "create_function"),
    ("functions", "create_function"),
    # IAM names the functions by OCID: after them.
    ("identity_domains", "create_dynamic_resource_group"),
    ("identity_domains", "create_dynamic_resource_group"),
    ("identity", "create_policy"),
    ("gateway", "create_gateway"),
    ("deployment", "create_deployment"),
    ("usage_plans", "create_usage_plan"),
    ("subscribers", "create_subscriber"),
    ("logging", "create_log_group"),
    ("logging", "create_log"),
    ("logging", "create_log"),
    ("logging", "create_log"),
]


def details(tenancy: FakeTenancy, method: str) -> list[Any]:
    """The model argument of every call of a create/update method."""
    return [call.args[-1] for call in tenancy.mutation_calls(method)]


def one(tenancy: FakeTenancy, kind: str, **where: Any) -> Any:
    found = [o for o in tenancy.objects(kind) if all(getattr(o, k) == v for k, v in where.items())]
    assert len(found) == 1, (kind, where, found)
    return found[0]


def applied(deployer: Deployer, **extra: Any) -> FakeTenancy:
    deployer.apply(config(extra))
    return deployer.tenancy


# --- a fresh apply ---------------------------------------------------------------------------------


def test_fresh_apply_makes_exactly_these_changes_in_this_order(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    assert tenancy.mutations == SERVERLESS_CREATES
    assert [step.name for step in deployer.builder.steps] == [
        "chat",
        "embeddings",
        "moderations",
        "models",
        "authorizer",
    ]


def test_every_created_resource_carries_the_owner_tag(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    for call in tenancy.calls:
        if call.method.startswith("create_") and call.method != "create_dynamic_resource_group":
            tags = call.args[-1].freeform_tags
            assert tags[OWNER_TAG] == "genai", call.method
            assert set(tags) <= {OWNER_TAG, DIGEST_TAG}
    group = tenancy.mutation_calls("create_dynamic_resource_group")[0].kwargs["dynamic_resource_group"]
    ext = group.urn_ietf_params_scim_schemas_oracle_idcs_extension_oci_tags
    assert [(t.key, t.value) for t in ext.freeform_tags] == [(OWNER_TAG, "genai")]


def test_network_public_and_private_subnets_routes_and_ingress(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    vcn = one(tenancy, "vcn")
    assert (vcn.display_name, vcn.cidr_blocks, vcn.compartment_id) == (
        "genai-vcn",
        ["10.0.0.0/16"],
        COMPARTMENT,
    )
    igw, nat, sgw = one(tenancy, "igw"), one(tenancy, "nat"), one(tenancy, "sgw")
    assert igw.is_enabled is True
    assert igw.vcn_id == nat.vcn_id == sgw.vcn_id == vcn.id
    assert [s.service_id for s in sgw.services] == ["ocid1.service.oc1..all"]
    public_rt, private_rt = (
        one(tenancy, "rt", display_name="genai-public-rt"),
        one(tenancy, "rt", display_name="genai-private-rt"),
    )
    assert [(r.destination, r.destination_type, r.network_entity_id) for r in public_rt.route_rules] == [
        ("0.0.0.0/0", "CIDR_BLOCK", igw.id)
    ]
    assert [(r.destination, r.destination_type, r.network_entity_id) for r in private_rt.route_rules] == [
        ("0.0.0.0/0", "CIDR_BLOCK", nat.id),
        ("all-ord-services-in-oracle-services-network", "SERVICE_CIDR_BLOCK", sgw.id),
    ]
    sl = one(tenancy, "sl")
    assert [(r.destination, r.protocol) for r in sl.egress_security_rules] == [("0.0.0.0/0", "all")]
    # No port is open in the security list: only ICMP "fragmentation needed" for path-MTU discovery.
    assert [(r.protocol, r.icmp_options.type, r.icmp_options.code) for r in sl.ingress_security_rules] == [
        ("1", 3, 4)
    ]
    public, private = (
        one(tenancy, "subnet", display_name="genai-public"),
        one(tenancy, "subnet", display_name="genai-private"),
    )
    assert (public.cidr_block, public.route_table_id, public.prohibit_public_ip_on_vnic) == (
        "10.0.0.0/24",
        public_rt.id,
        False,
    )
    assert (private.cidr_block, private.route_table_id, private.prohibit_public_ip_on_vnic) == (
        "10.0.1.0/24",
        private_rt.id,
        True,
    )
    assert public.security_list_ids == private.security_list_ids == [sl.id]
    nsg = one(tenancy, "nsg")
    rules = [r for r in tenancy.objects("rule") if r._nsg == nsg.id]
    assert [(r.direction, r.protocol, r.source, r.tcp_options.destination_port_range.min) for r in rules] == [
        ("INGRESS", "6", "0.0.0.0/0", 443)
    ]


def test_functions_application_functions_and_images(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    private = one(tenancy, "subnet", display_name="genai-private")
    app = one(tenancy, "app")
    assert (app.display_name, app.subnet_ids, app.shape) == ("genai-gateway", [private.id], "GENERIC_X86")
    assert app.config == {
        "GATEWAY_COMPARTMENT_ID": COMPARTMENT,
        "GATEWAY_REGION": "us-chicago-1",
        "GATEWAY_METRICS_NAMESPACE": "genai_gateway_genai",
    }
    secret = one(tenancy, "secret")
    for name in ("chat", "embeddings", "moderations", "models", "authorizer"):
        asked = yaml.safe_load((FUNCTIONS_DIR / name / "func.yaml").read_text())
        memory, timeout = asked["memory"], asked["timeout"]
        fn = one(tenancy, "fn", display_name=name)
        assert (fn.application_id, fn.memory_in_mbs, fn.timeout_in_seconds) == (app.id, memory, timeout)
        assert fn.source_details.image.startswith(f"ord.ocir.io/tenancyns/genai-gateway:{name}-0.1.0-")
        assert fn.config == ({"GATEWAY_API_KEYS_SECRET_ID": secret.id} if name == "authorizer" else {})
    assert one(tenancy, "fn", display_name="chat").provisioned_concurrency_config.strategy == "NONE"
    assert one(tenancy, "repo").is_public is False


def test_gateway_and_deployment_rendered_from_the_template(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    gateway = one(tenancy, "gateway")
    assert (gateway.endpoint_type, gateway.subnet_id) == (
        "PUBLIC",
        one(tenancy, "subnet", display_name="genai-public").id,
    )
    assert gateway.network_security_group_ids == [one(tenancy, "nsg").id]
    deployment = one(tenancy, "deployment")
    assert (deployment.gateway_id, deployment.path_prefix) == (gateway.id, "/")
    ids = {fn.display_name: fn.id for fn in tenancy.objects("fn")}
    sent = details(tenancy, "create_deployment")[0].specification
    assert isinstance(sent, oci.apigateway.models.ApiSpecification)
    rendered = apigw_spec.render(
        {
            **apigw_spec.DEFAULT_VALUES,
            "CHAT_FUNCTION_ID": ids["chat"],
            "EMBEDDINGS_FUNCTION_ID": ids["embeddings"],
            "MODERATIONS_FUNCTION_ID": ids["moderations"],
            "MODELS_FUNCTION_ID": ids["models"],
            "AUTHORIZER_FUNCTION_ID": ids["authorizer"],
        }
    )
    assert serialize(sent) == rendered


def test_logs_for_the_application_and_the_deployment(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    group = one(tenancy, "log_group")
    sources = {
        log.display_name: (
            log.log_group_id,
            log.log_type,
            log.configuration.source.service,
            log.configuration.source.resource,
            log.configuration.source.category,
        )
        for log in tenancy.objects("log")
    }
    app, deployment = one(tenancy, "app"), one(tenancy, "deployment")
    assert sources == {
        "genai-functions-invoke": (group.id, "SERVICE", "functions", app.id, "invoke"),
        "genai-apigw-access": (group.id, "SERVICE", "apigateway", deployment.id, "access"),
        "genai-apigw-execution": (group.id, "SERVICE", "apigateway", deployment.id, "execution"),
    }
    assert {log.retention_duration for log in tenancy.objects("log")} == {30}


def test_keys_secret_holds_one_generated_key_shown_once(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    secret = one(tenancy, "secret")
    keys = json.loads(base64.b64decode(tenancy.secret_versions[secret.id][-1]))
    assert keys == {"keys": deployer.reporter.keys}
    assert list(keys["keys"]) == ["default"]
    assert keys["keys"]["default"].startswith("sk-genai-")
    assert len(keys["keys"]["default"]) == len("sk-genai-") + 43
    assert (secret.vault_id, secret.key_id) == (one(tenancy, "vault").id, one(tenancy, "key").id)


def test_iam_is_written_in_the_home_region(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    assert ("identity", None, HOME) in tenancy.made
    policy = one(tenancy, "policy")
    assert policy.compartment_id == COMPARTMENT


# --- idempotence -----------------------------------------------------------------------------------


def test_plan_changes_nothing(deployer: Deployer) -> None:
    plan = deployer.plan(config())
    assert {c.action for c in plan} == {Action.CREATE}
    # + the five images; the NSG's rules are one call, the usage plans and subscribers one resource
    assert len(plan) == len(SERVERLESS_CREATES) + 5 - 1 - 1
    assert deployer.tenancy.mutations == []
    assert deployer.builder.steps == []


def test_second_apply_changes_nothing(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    before = len(tenancy.mutations)
    assert all(c.action is Action.NOOP for c in deployer.plan(config()))
    deployer.apply(config())
    assert tenancy.mutations[before:] == []
    assert len(deployer.builder.steps) == 5  # the images were found in OCIR, not rebuilt


def test_changed_cors_updates_only_the_deployment(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    before = len(tenancy.mutations)
    changed = config({"gateway": {"cors_origins": ["https://app.example.com"]}})
    plan = {c.resource.key: c.action for c in deployer.plan(changed) if c.action is not Action.NOOP}
    assert plan == {"gateway.deployment": Action.UPDATE}
    old_digest = tenancy.objects("deployment")[0].freeform_tags[DIGEST_TAG]
    deployer.apply(changed)
    # The change, then (once its work request succeeded) the digest that records it as applied.
    assert tenancy.mutations[before:] == [("deployment", "update_deployment")] * 2
    change, record = details(tenancy, "update_deployment")
    assert change.specification.request_policies.cors.allowed_origins == ["https://app.example.com"]
    assert change.freeform_tags[DIGEST_TAG] == old_digest
    assert record.specification is None
    assert record.freeform_tags[DIGEST_TAG] != old_digest
    assert all(c.action is Action.NOOP for c in deployer.plan(changed))


def test_changed_model_aliases_update_only_the_application_config(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    before = len(tenancy.mutations)
    deployer.apply(config({"gateway": {"model_aliases": {"fast": "xai.grok-3-mini"}}}))
    assert tenancy.mutations[before:] == [("functions", "update_application")]
    sent = details(tenancy, "update_application")[0]
    assert sent.config["GATEWAY_MODEL_ALIASES"] == '{"fast": "xai.grok-3-mini"}'
    assert sent.network_security_group_ids is None  # only what changed is sent


def test_changed_image_updates_only_that_function(deployer: Deployer) -> None:
    refs = {
        name: f"ord.ocir.io/ns/repo:{name}-1"
        for name in ("chat", "embeddings", "moderations", "models", "authorizer")
    }
    tenancy = applied(deployer, images={"refs": refs})
    assert deployer.builder.steps == []  # given images are not built
    before = len(tenancy.mutations)
    deployer.apply(config({"images": {"refs": {**refs, "chat": "ord.ocir.io/ns/repo:chat-2"}}}))
    assert tenancy.mutations[before:] == [("functions", "update_function")]
    call = tenancy.mutation_calls("update_function")[0]
    assert call.args[0] == one(tenancy, "fn", display_name="chat").id
    assert call.args[1].source_details.image == "ord.ocir.io/ns/repo:chat-2"
    assert call.args[1].memory_in_mbs is None


def test_changed_source_builds_and_rolls_only_that_function(
    deployer: Deployer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenancy = applied(deployer)
    before, built = len(tenancy.mutations), len(deployer.builder.steps)
    original = container_images.content_tag
    monkeypatch.setattr(
        container_images, "content_tag", lambda n, root: original(n, root) + ("x" if n == "models" else "")
    )
    deployer.apply(config())
    assert [s.name for s in deployer.builder.steps[built:]] == ["models"]
    assert tenancy.mutations[before:] == [("functions", "update_function")]
    assert (
        tenancy.mutation_calls("update_function")[0].args[0] == one(tenancy, "fn", display_name="models").id
    )


def test_provisioned_concurrency_is_opt_in_for_chat(deployer: Deployer) -> None:
    tenancy = applied(deployer)
    before = len(tenancy.mutations)
    deployer.apply(config({"functions": {"chat_provisioned_concurrency": 20}}))
    assert tenancy.mutations[before:] == [("functions", "update_function")]
    sent = tenancy.mutation_calls("update_function")[0].args[1].provisioned_concurrency_config
    assert (type(sent).__name__, sent.strategy, sent.count) == (
        "ConstantProvisionedConcurrencyConfig",
        "CONSTANT",
        20,
    )


# --- failures and ownership ------------------------------------------------------------------------


def test_failure_halfway_names_the_resource_and_the_next_apply_completes(deployer: Deployer) -> None:
    tenancy = deployer.tenancy
    # More 500s than the retry strategy absorbs: the step fails, the next apply resumes.
    tenancy.fail_persistently("create_application", service_error(500, "InternalServerError"))
    with pytest.raises(DeployError, match=r"creating Functions application 'genai-gateway'.*apply again"):
        deployer.apply(config())
    first = len(tenancy.mutations)
    # The last ones are the refused attempts.
    at = SERVERLESS_CREATES.index(("functions", "create_application"))
    assert tenancy.mutations == SERVERLESS_CREATES[: at + 1] + SERVERLESS_CREATES[at : at + 1] * (
        MAX_ATTEMPTS - 1
    )
    assert tenancy.objects("app") == []
    deployer.apply(config())
    assert tenancy.mutations[first:] == SERVERLESS_CREATES[at:]
    assert all(c.action is Action.NOOP for c in deployer.plan(config()))


def test_created_but_not_ready_is_found_not_created_twice(deployer: Deployer) -> None:
    tenancy = deployer.tenancy
    tenancy.fail_persistently("get_gateway", service_error(503, "ServiceUnavailable"))
    with pytest.raises(DeployError, match="API gateway 'genai-gateway'"):
        deployer.apply(config())
    deployer.apply(config())
    assert len(tenancy.mutation_calls("create_gateway")) == 1
    assert len(tenancy.objects("gateway")) == 1


def test_missing_permission_names_the_policy_to_add(deployer: Deployer) -> None:
    deployer.tenancy.fail_next("create_vcn", service_error(404, "NotAuthorizedOrNotFound"))
    with pytest.raises(
        DeployError, match=r"manage virtual-network-family in compartment id ocid1\.compartment"
    ):
        deployer.apply(config())


def test_service_limit_is_named(deployer: Deployer) -> None:
    deployer.tenancy.fail_next("create_gateway", service_error(400, "LimitExceeded", "gateway count"))
    with pytest.raises(DeployError, match="service limit"):
        deployer.apply(config())


def test_same_named_resource_without_the_tag_is_not_adopted(deployer: Deployer) -> None:
    deployer.tenancy.add(
        "vcn",
        oci.core.models.Vcn(
            display_name="genai-vcn",
            compartment_id=COMPARTMENT,
            lifecycle_state="AVAILABLE",
            freeform_tags={},
        ),
    )
    plan = {c.resource.key: c for c in deployer.plan(config())}
    assert plan["network.vcn"].action is Action.CONFLICT
    assert "exists but not owned; rename the prefix or reuse it explicitly" in plan["network.vcn"].note
    with pytest.raises(DeployError, match="nothing changed; resolve these first"):
        deployer.apply(config())
    assert deployer.tenancy.mutations == []


def test_another_prefixs_resource_is_not_ours(deployer: Deployer) -> None:
    deployer.tenancy.add(
        "policy",
        oci.identity.models.Policy(
            name="genai-gateway",
            compartment_id=COMPARTMENT,
            lifecycle_state="ACTIVE",
            freeform_tags={OWNER_TAG: "other"},
        ),
    )
    with pytest.raises(DeployError, match="policy 'genai-gateway': exists but not owned"):
        deployer.apply(config())


def test_a_change_that_cannot_be_made_in_place_is_a_conflict(deployer: Deployer) -> None:
    applied(deployer)
    before = len(deployer.tenancy.mutations)
    changed = config(
        {
            "network": {
                "vcn_cidr": "10.1.0.0/16",
                "public_subnet_cidr": "10.1.0.0/24",
                "private_subnet_cidr": "10.1.1.0/24",
            }
        }
    )
    plan = {c.resource.key: c for c in deployer.plan(changed)}
    assert plan["network.vcn"].action is Action.CONFLICT
    assert "cidr_blocks cannot change in place" in plan["network.vcn"].note
    with pytest.raises(DeployError):
        deployer.apply(changed)
    assert deployer.tenancy.mutations[before:] == []


# --- reuse -----------------------------------------------------------------------------------------


def test_reused_subnets_create_only_the_nsg_in_that_vcn(deployer: Deployer) -> None:
    network = {
        "vcn_id": "ocid1.vcn.oc1..mine",
        "public_subnet_id": "ocid1.subnet.oc1..pub",
        "private_subnet_id": "ocid1.subnet.oc1..priv",
    }
    tenancy = applied(deployer, network=network)
    made = [m for _, m in tenancy.mutations]
    assert not {"create_vcn", "create_subnet", "create_route_table", "create_nat_gateway"} & set(made)
    assert details(tenancy, "create_network_security_group")[0].vcn_id == "ocid1.vcn.oc1..mine"
    assert one(tenancy, "app").subnet_ids == ["ocid1.subnet.oc1..priv"]
    assert one(tenancy, "gateway").subnet_id == "ocid1.subnet.oc1..pub"


def test_reused_vault_and_key(deployer: Deployer) -> None:
    keys = {"vault_id": "ocid1.vault.oc1..v", "key_id": "ocid1.key.oc1..k"}
    tenancy = applied(deployer, keys=keys)
    assert not tenancy.mutation_calls("create_vault")
    assert not tenancy.mutation_calls("create_key")
    secret = one(tenancy, "secret")
    assert (secret.vault_id, secret.key_id) == ("ocid1.vault.oc1..v", "ocid1.key.oc1..k")


def test_legacy_iam_tenancy_uses_identity_dynamic_groups(mocker: Any) -> None:
    tenancy = FakeTenancy(mocker, domains=False)
    Deployer(tenancy, FakeBuilder(tenancy)).apply(config())
    assert not tenancy.mutation_calls("create_dynamic_resource_group")
    sent = details(tenancy, "create_dynamic_group")[0]
    assert (sent.compartment_id, sent.name) == (TENANCY, "genai-functions")
    names = ("chat", "embeddings", "moderations", "models")
    callers = [one(tenancy, "fn", display_name=name).id for name in names]
    assert sent.matching_rule == "ANY {" + ", ".join(f"resource.id = '{i}'" for i in callers) + "}"
    assert one(tenancy, "policy").statements[0].startswith("allow dynamic-group genai-functions to use")
