"""IAM: exactly the least-privilege statements, and dynamic groups in both kinds of tenancy."""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.deploy.engine.resource_model import Action
from oci_genai_gateway.deploy.resources.facts import Domain, Facts
from oci_genai_gateway.deploy.resources.identity import DRG_SCHEMA, matching_rule, statements
from tests.unit.deploy.conftest import COMPARTMENT, COMPOSE, Deployer, config
from tests.unit.deploy.fake_tenancy import TENANCY, FakeBuilder, FakeTenancy

C = COMPARTMENT
SECRET = "ocid1.vaultsecret.oc1..s"
DOMAIN = Facts(tenancy_id=TENANCY, domain=Domain("Default", "https://idcs-x.identity.oraclecloud.com"))
LEGACY = Facts(tenancy_id=TENANCY, domain=None)


def test_serverless_statements_in_an_identity_domain_tenancy() -> None:
    assert statements(config(), DOMAIN, SECRET) == [
        f"allow dynamic-group 'Default'/'genai-functions' to use generative-ai-family in compartment id {C}",
        f"allow any-user to use functions-family in compartment id {C} where ALL "
        f"{{request.principal.type = 'ApiGateway', request.resource.compartment.id = '{C}'}}",
        f"allow dynamic-group 'Default'/'genai-functions' to read secret-bundles in compartment id {C} "
        f"where target.secret.id = '{SECRET}'",
        f"allow dynamic-group 'Default'/'genai-functions' to use metrics in compartment id {C} "
        "where target.metrics.namespace = 'genai_gateway_genai'",
    ]


def test_serverless_statements_in_a_legacy_tenancy_name_the_group_plainly() -> None:
    assert statements(config(), LEGACY, SECRET) == [
        f"allow dynamic-group genai-functions to use generative-ai-family in compartment id {C}",
        f"allow any-user to use functions-family in compartment id {C} where ALL "
        f"{{request.principal.type = 'ApiGateway', request.resource.compartment.id = '{C}'}}",
        f"allow dynamic-group genai-functions to read secret-bundles in compartment id {C} "
        f"where target.secret.id = '{SECRET}'",
        f"allow dynamic-group genai-functions to use metrics in compartment id {C} "
        "where target.metrics.namespace = 'genai_gateway_genai'",
    ]


def test_compose_statements_have_no_api_gateway_grant() -> None:
    assert statements(config(COMPOSE), DOMAIN, SECRET) == [
        f"allow dynamic-group 'Default'/'genai-vm' to use generative-ai-family in compartment id {C}",
        f"allow dynamic-group 'Default'/'genai-vm' to read secret-bundles in compartment id {C} "
        f"where target.secret.id = '{SECRET}'",
        f"allow dynamic-group 'Default'/'genai-vm' to use metrics in compartment id {C} "
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
    assert matching_rule(config()) == f"ALL {{resource.type = 'fnfunc', resource.compartment.id = '{C}'}}"
    assert matching_rule(config(COMPOSE)) == f"ALL {{instance.compartment.id = '{C}'}}"
    vm = "ocid1.instance.oc1..vm"
    assert (
        matching_rule(config(COMPOSE), vm) == f"ALL {{instance.compartment.id = '{C}', instance.id = '{vm}'}}"
    )


def test_applied_policy_and_domain_group(deployer: Deployer) -> None:
    deployer.apply(config())
    tenancy = deployer.tenancy
    (policy,) = tenancy.objects("policy")
    (secret,) = tenancy.objects("secret")
    assert policy.name == "genai-gateway"
    assert policy.statements == statements(config(), DOMAIN, secret.id)
    (group,) = tenancy.objects("drg")
    assert group.schemas == [DRG_SCHEMA]
    assert (group.display_name, group.matching_rule) == ("genai-functions", matching_rule(config()))
    assert (
        "identity_domains",
        "https://idcs-default.identity.oraclecloud.com",
        "us-chicago-1",
    ) in tenancy.made


def test_compose_group_is_narrowed_to_the_vm_in_the_same_apply(deployer: Deployer) -> None:
    deployer.apply(config(COMPOSE))
    tenancy = deployer.tenancy
    (vm,) = tenancy.objects("instance")
    (group,) = tenancy.objects("drg")
    assert group.matching_rule == matching_rule(config(COMPOSE), vm.id)
    # Created compartment-wide (the VM must be a member when it first boots), narrowed afterwards.
    assert [m for m in tenancy.mutations if m[0] == "identity_domains"] == [
        ("identity_domains", "create_dynamic_resource_group"),
        ("identity_domains", "put_dynamic_resource_group"),
    ]
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
    assert len(tenancy.objects("policy")[0].statements) == 4
