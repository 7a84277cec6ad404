"""Usage plans and subscribers from the keys secret: tiers, entitlements, idempotence, conflicts."""

from __future__ import annotations

import base64
import json
from typing import Any

import oci

from oci_genai_gateway.core.access.policy import client_token
from oci_genai_gateway.deploy.engine.resource_model import OWNER_TAG, Action
from tests.unit.deploy.conftest import COMPARTMENT, Deployer, config
from tests.unit.deploy.fake_tenancy import FakeTenancy

m = oci.apigateway.models


def put_keys(tenancy: FakeTenancy, entries: dict[str, Any]) -> str:
    """A new secret version, as `oci-genai-gateway keys` writes it."""
    (secret,) = tenancy.objects("secret")
    tenancy.secret_versions[secret.id].append(
        base64.b64encode(json.dumps({"keys": entries}).encode()).decode()
    )
    return str(secret.id)


def plans(tenancy: FakeTenancy) -> dict[str, Any]:
    return {p.display_name: p for p in tenancy.objects("usage_plan")}


def subscribers(tenancy: FakeTenancy) -> dict[str, Any]:
    return {s.display_name: s for s in tenancy.objects("subscriber")}


def test_every_key_is_a_subscriber_unlimited_ones_of_an_unlimited_plan(deployer: Deployer) -> None:
    deployer.apply(config())
    tenancy = deployer.tenancy
    (secret,) = tenancy.objects("secret")
    (deployment,) = tenancy.objects("deployment")
    (plan,) = plans(tenancy).values()
    assert plan.display_name == "genai-plan-unlimited"
    assert plan.compartment_id == COMPARTMENT
    assert plan.freeform_tags == {OWNER_TAG: "genai"}
    (entitlement,) = plan.entitlements
    assert (entitlement.rate_limit, entitlement.quota) == (None, None)
    assert [t.deployment_id for t in entitlement.targets] == [deployment.id]
    (subscriber,) = subscribers(tenancy).values()
    assert subscriber.display_name == "genai-key-default"
    assert [(c.name, c.token) for c in subscriber.clients] == [
        ("default", client_token(secret.id, "default"))
    ]
    assert subscriber.usage_plans == [plan.id]
    # Every details object sent was a real SDK model that round-trips (checked by the fake tenancy).
    (create,) = tenancy.mutation_calls("create_usage_plan")
    assert isinstance(create.args[0], m.CreateUsagePlanDetails)


def test_keys_with_limits_get_a_plan_per_tier_and_apply_is_idempotent(deployer: Deployer) -> None:
    deployer.apply(config())
    tenancy = deployer.tenancy
    secret_id = put_keys(
        tenancy,
        {
            "default": "sk-genai-default-00000000000",
            "team-a": {
                "key": "sk-team-a-0000000000000000",
                "rps": 5,
                "quota": {"requests": 1000, "per": "day"},
            },
            "team-b": {"key": "sk-team-b-0000000000000000", "models": ["meta.*"], "rps": 5},
            "team-c": {"key": "sk-team-c-0000000000000000", "monthly_tokens": 100},
        },
    )
    planned = {c.resource.key: c for c in deployer.plan(config()) if c.action is not Action.NOOP}
    assert list(planned) == ["gateway.usage-plans"]
    deployer.apply(config())
    by_name = plans(tenancy)
    assert sorted(by_name) == ["genai-plan-r5", "genai-plan-r5-q1000-day", "genai-plan-unlimited"]
    (tier,) = by_name["genai-plan-r5-q1000-day"].entitlements
    assert (tier.name, tier.rate_limit.value, tier.rate_limit.unit) == ("gateway", 5, "SECOND")
    quota = tier.quota
    assert (quota.value, quota.unit, quota.reset_policy, quota.operation_on_breach) == (
        1000,
        "DAY",
        "CALENDAR",
        "REJECT",
    )
    subs = subscribers(tenancy)
    assert sorted(subs) == ["genai-key-default", "genai-key-team-a", "genai-key-team-b", "genai-key-team-c"]
    assert subs["genai-key-team-a"].usage_plans == [by_name["genai-plan-r5-q1000-day"].id]
    assert subs["genai-key-team-b"].usage_plans == [by_name["genai-plan-r5"].id]
    # A budget or a model list is not API Gateway's: team-c shares the unlimited tier.
    assert subs["genai-key-team-c"].usage_plans == [by_name["genai-plan-unlimited"].id]
    assert [c.token for c in subs["genai-key-team-c"].clients] == [client_token(secret_id, "team-c")]
    before = len(tenancy.mutations)
    assert all(c.action is Action.NOOP for c in deployer.plan(config()))
    deployer.apply(config())
    assert tenancy.mutations[before:] == []


def test_a_changed_tier_moves_the_subscriber_and_an_unused_plan_goes(deployer: Deployer) -> None:
    deployer.apply(config())
    tenancy = deployer.tenancy
    put_keys(
        tenancy,
        {
            "default": "sk-genai-default-00000000000",
            "team-a": {"key": "sk-team-a-0000000000000000", "rps": 5},
        },
    )
    deployer.apply(config())
    put_keys(
        tenancy,
        {
            "default": "sk-genai-default-00000000000",
            "team-a": {"key": "sk-team-a-0000000000000000", "rps": 9},
        },
    )
    before = len(tenancy.mutations)
    deployer.apply(config())
    assert tenancy.mutations[before:] == [
        ("usage_plans", "create_usage_plan"),
        ("subscribers", "update_subscriber"),
        ("usage_plans", "delete_usage_plan"),  # after the subscriber left it (the fake refuses otherwise)
    ]
    assert sorted(plans(tenancy)) == ["genai-plan-r9", "genai-plan-unlimited"]


def test_a_same_named_plan_of_someone_else_is_a_conflict(deployer: Deployer) -> None:
    tenancy = deployer.tenancy
    tenancy.add(
        "usage_plan",
        m.UsagePlan(
            display_name="genai-plan-unlimited",
            compartment_id=COMPARTMENT,
            entitlements=[m.Entitlement(name="x")],
            lifecycle_state="ACTIVE",
        ),
    )
    changes = {c.resource.key: c for c in deployer.plan(config())}
    assert changes["gateway.usage-plans"].action is Action.CONFLICT


def test_without_usage_plans_there_are_no_plans_and_the_functions_count_limits(deployer: Deployer) -> None:
    cfg = config({"api_gateway": {"usage_plans": False}})
    deployer.apply(cfg)
    tenancy = deployer.tenancy
    assert not tenancy.objects("usage_plan")
    assert not tenancy.objects("subscriber")
    (deployment,) = tenancy.objects("deployment")
    assert deployment.specification.request_policies.usage_plans is None
    (app,) = tenancy.objects("app")
    assert app.config["GATEWAY_LIMITS_IN_PROCESS"] == "true"
    assert all(c.action is Action.NOOP for c in deployer.plan(cfg))


def test_the_function_side_counts_rates_only_when_told() -> None:
    import time
    from types import SimpleNamespace

    from oci_genai_gateway.core.gateway import _admission
    from oci_genai_gateway.core.settings import Settings
    from oci_genai_gateway.core.telemetry import NO_TELEMETRY

    base = {"GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..c", "GATEWAY_REGION": "us-chicago-1"}
    monitoring: Any = SimpleNamespace(tokens_spent=None, post=None)
    plain = _admission(Settings.from_env(base), monitoring, False, time.time, NO_TELEMETRY)
    in_process = Settings.from_env({**base, "GATEWAY_LIMITS_IN_PROCESS": "true"})
    local = _admission(in_process, monitoring, False, time.time, NO_TELEMETRY)
    assert plain._limits.limiter is None  # API Gateway's usage plans count them
    assert local._limits.limiter is not None
