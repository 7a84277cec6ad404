"""IAM: exactly the least-privilege statements, and dynamic groups in both kinds of tenancy."""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.deploy.engine.resource_model import Action
from oci_genai_gateway.deploy.resources.facts import Domain, Facts
from oci_genai_gateway.deploy.resources.identity import (
    DRG_SCHEMA,
    functions_rule,
    matching_rule,
    missing_prerequisites,
    prerequisites,
    statements,
)
from tests.unit.deploy.conftest import COMPARTMENT, COMPOSE, Deployer, config
from tests.unit.deploy.fake_tenancy import TENANCY, FakeBuilder, FakeTenancy

C = COMPARTMENT
SECRET = "ocid1.vaultsecret.oc1..s"
DOMAIN = Facts(tenancy_id=TENANCY, domain=Domain("Default", "https://idcs-x.identity.oraclecloud.com"))
LEGACY = Facts(tenancy_id=TENANCY, domain=None)


def test_serverless_statements_in_an_identity_domain_tenancy() -> None:
    fns, authz = "'Default'/'genai-functions'", "'Default'/'genai-authorizer'"
    assert statements(config(), DOMAIN, SECRET) == [
        f"allow dynamic-group {fns} to use generative-ai-chat in compartment id {C}",
        f"allow dynamic-group {fns} to use generative-ai-text-embedding in compartment id {C}",
        f"allow dynamic-group {fns} to read generative-ai-model in compartment id {C}",
        f"allow any-user to use functions-family in compartment id {C} where ALL "
        f"{{request.principal.type = 'ApiGateway', request.resource.compartment.id = '{C}'}}",
        f"allow dynamic-group {authz} to read secret-bundles in compartment id {C} "
        f"where target.secret.id = '{SECRET}'",
        f"allow dynamic-group {fns} to use metrics in compartment id {C} "
        "where target.metrics.namespace = 'genai_gateway_genai'",
        f"allow dynamic-group {authz} to use metrics in compartment id {C} "
        "where target.metrics.namespace = 'genai_gateway_genai'",
    ]


def test_serverless_statements_in_a_legacy_tenancy_name_the_group_plainly() -> None:
    out = statements(config(), LEGACY, SECRET)
    assert out[0] == f"allow dynamic-group genai-functions to use generative-ai-chat in compartment id {C}"
    assert out[4] == (
        f"allow dynamic-group genai-authorizer to read secret-bundles in compartment id {C} "
        f"where target.secret.id = '{SECRET}'"
    )


def test_only_the_authorizer_reads_the_keys_and_no_family_wide_grant() -> None:
    for statement in statements(config(), DOMAIN, SECRET):
        assert "generative-ai-family" not in statement
        if "secret-bundles" in statement:
            assert "'genai-authorizer'" in statement


def test_compose_statements_have_no_api_gateway_grant() -> None:
    vm = "'Default'/'genai-vm'"
    assert statements(config(COMPOSE), DOMAIN, SECRET) == [
        f"allow dynamic-group {vm} to use generative-ai-chat in compartment id {C}",
        f"allow dynamic-group {vm} to use generative-ai-text-embedding in compartment id {C}",
        f"allow dynamic-group {vm} to read generative-ai-model in compartment id {C}",
        f"allow dynamic-group {vm} to read secret-bundles in compartment id {C} "
        f"where target.secret.id = '{SECRET}'",
        f"allow dynamic-group {vm} to use metrics in compartment id {C} "
        "where target.metrics.namespace = 'genai_gateway_genai'",
    ]


def test_no_statement_grants_more_than_use_or_read() -> None:
    for cfg in (config(), config(COMPOSE)):
        for statement in statements(cfg, DOMAIN, SECRET):
            verb = statement.split(" to ", 1)[1].split()[0]
            assert verb in ("use", "read"), statement
            assert " in tenancy" not in statement
            assert f"in compartment id {C}" in statement


def test_matching_rules() -> None:
    assert functions_rule(["a", "b"]) == "ANY {resource.id = 'a', resource.id = 'b'}"
    vm = "ocid1.instance.oc1..vm"
    assert (
        matching_rule(config(COMPOSE), vm) == f"ALL {{instance.compartment.id = '{C}', instance.id = '{vm}'}}"
    )


def test_applied_policy_and_domain_groups_name_the_functions_from_the_first_apply(deployer: Deployer) -> None:
    deployer.apply(config())
    tenancy = deployer.tenancy
    (policy,) = tenancy.objects("policy")
    (secret,) = tenancy.objects("secret")
    assert policy.name == "genai-gateway"
    assert policy.statements == statements(config(), DOMAIN, secret.id)
    fn = {f.display_name: f.id for f in tenancy.objects("fn")}
    groups = {g.display_name: g for g in tenancy.objects("drg")}
    assert groups["genai-functions"].schemas == [DRG_SCHEMA]
    assert groups["genai-functions"].matching_rule == functions_rule(
        [fn["chat"], fn["embeddings"], fn["moderations"], fn["models"]]
    )
    assert groups["genai-authorizer"].matching_rule == functions_rule([fn["authorizer"]])
    # Created narrowed: never compartment-wide, never put again.
    assert [m for m in tenancy.mutations if m[0] == "identity_domains"] == [
        ("identity_domains", "create_dynamic_resource_group")
    ] * 2
    assert (
        "identity_domains",
        "https://idcs-default.identity.oraclecloud.com",
        "us-chicago-1",
    ) in tenancy.made


def test_offline_plan_prints_the_narrowed_policy_and_the_prerequisites() -> None:
    import io

    from oci_genai_gateway.deploy.commands.cli import main
    from tests.paths import REPO

    out = io.StringIO()
    assert (
        main(["plan", "--offline", "-c", str(REPO / "deploy" / "gateway.example.toml")], out=out, env={}) == 0
    )
    text = out.getvalue()
    assert "to use generative-ai-chat in" in text
    assert "generative-ai-family" not in text
    assert "Dynamic group genai-functions: ANY {resource.id = '<functions.fn.chat>'" in text
    assert "Dynamic group genai-authorizer: ANY {resource.id = '<functions.fn.authorizer>'}" in text
    assert "allow service faas to read repos in tenancy    (not checked offline)" in text


def test_plan_names_missing_functions_prerequisites_and_sees_present_ones(mocker: Any) -> None:
    import oci

    tenancy = FakeTenancy(mocker)
    deployer = Deployer(tenancy, FakeBuilder(tenancy))
    ctx, _ = deployer.stack(config())
    assert missing_prerequisites(config(), ctx.clients) == prerequisites(config())
    tenancy.add(
        "policy",
        oci.identity.models.Policy(
            name="faas",
            compartment_id=TENANCY,
            statements=["Allow service FaaS to read repos in tenancy"],
            lifecycle_state="ACTIVE",
        ),
    )
    assert missing_prerequisites(config(), ctx.clients) == [
        f"allow service faas to use virtual-network-family in compartment id {C}"
    ]


def test_compose_group_names_the_vm_from_the_first_apply(deployer: Deployer) -> None:
    deployer.apply(config(COMPOSE))
    tenancy = deployer.tenancy
    (vm,) = tenancy.objects("instance")
    (group,) = tenancy.objects("drg")
    assert group.matching_rule == matching_rule(config(COMPOSE), vm.id)
    # Created after the VM, naming it: never compartment-wide, never put again.
    assert [m for m in tenancy.mutations if m[0] == "identity_domains"] == [
        ("identity_domains", "create_dynamic_resource_group"),
    ]
    order = [m for _, m in tenancy.mutations]
    assert order.index("launch_instance") < order.index("create_dynamic_resource_group")
    assert all(c.action is Action.NOOP for c in deployer.plan(config(COMPOSE)))


def test_a_changed_statement_updates_the_policy_only(mocker: Any) -> None:
    tenancy = FakeTenancy(mocker, domains=False)
    deployer = Deployer(tenancy, FakeBuilder(tenancy))
    deployer.apply(config())
    (policy,) = tenancy.objects("policy")
    policy.statements = [*policy.statements, "allow any-user to manage all-resources in tenancy"]
    before = len(tenancy.mutations)
    plan = {c.resource.key: c for c in deployer.plan(config()) if c.action is not Action.NOOP}
    assert list(plan) == ["identity.policy"]
    deployer.apply(config())
    assert tenancy.mutations[before:] == [("identity", "update_policy")]
    assert len(tenancy.objects("policy")[0].statements) == 7
