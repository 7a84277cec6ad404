"""destroy: only what the prefix owns, children before parents (the fake tenancy refuses otherwise)."""

from __future__ import annotations

import oci

from oci_genai_gateway.deploy.engine.resource_model import OWNER_TAG, Action
from tests.unit.deploy.conftest import COMPARTMENT, COMPOSE, Deployer, config
from tests.unit.deploy.test_apply import SERVERLESS_CREATES

SERVERLESS_DELETES = [
    ("logging", "delete_log"),
    ("logging", "delete_log"),
    ("logging", "delete_log"),
    ("logging", "delete_log_group"),
    ("subscribers", "delete_subscriber"),
    ("usage_plans", "delete_usage_plan"),
    ("deployment", "delete_deployment"),
    ("gateway", "delete_gateway"),
    ("identity", "delete_policy"),
    ("identity_domains", "delete_dynamic_resource_group"),
    ("identity_domains", "delete_dynamic_resource_group"),
    ("functions", "delete_function"),
    ("functions", "delete_function"),
    ("functions", "delete_function"),
    ("functions", "delete_function"),
    ("functions", "delete_function"),
    ("functions", "delete_application"),
    ("artifacts", "delete_container_image"),
    ("artifacts", "delete_container_image"),
    ("artifacts", "delete_container_image"),
    ("artifacts", "delete_container_image"),
    ("artifacts", "delete_container_image"),
    ("artifacts", "delete_container_repository"),
    ("vaults", "schedule_secret_deletion"),
    ("kms_management", "schedule_key_deletion"),
    ("kms_vault", "schedule_vault_deletion"),
    ("network", "delete_network_security_group"),
    ("network", "delete_subnet"),
    ("network", "delete_subnet"),
    ("network", "delete_security_list"),
    ("network", "delete_route_table"),
    ("network", "delete_route_table"),
    ("network", "delete_service_gateway"),
    ("network", "delete_nat_gateway"),
    ("network", "delete_internet_gateway"),
    ("network", "delete_vcn"),
]


def test_destroy_deletes_everything_in_reverse_dependency_order(deployer: Deployer) -> None:
    deployer.apply(config())
    tenancy = deployer.tenancy
    before = len(tenancy.mutations)
    deleted = deployer.destroy(config())
    assert all(c.action is Action.DELETE for c in deleted)
    assert tenancy.mutations[before:] == SERVERLESS_DELETES
    deleted_ids = [c.args[0] for c in tenancy.calls[-200:] if c.method == "delete_function"]
    assert len(set(deleted_ids)) == 5
    left = {
        kind: objs
        for kind, objs in tenancy.store.items()
        if objs and kind not in ("rule", "vnic", "private_ip")
    }
    # Vault objects cannot be deleted at once: they wait (and can be restored) until then.
    assert {kind: [o.lifecycle_state for o in objs.values()] for kind, objs in left.items()} == {
        "vault": ["PENDING_DELETION"],
        "key": ["PENDING_DELETION"],
        "secret": ["PENDING_DELETION"],
    }


def test_destroy_spares_what_it_does_not_own(deployer: Deployer) -> None:
    deployer.apply(config())
    tenancy = deployer.tenancy
    # VCN names need not be unique: a same-named VCN of someone else, and one of another prefix.
    stranger = tenancy.add(
        "vcn",
        oci.core.models.Vcn(
            display_name="genai-vcn",
            compartment_id=COMPARTMENT,
            lifecycle_state="AVAILABLE",
            freeform_tags={},
        ),
    )
    neighbour = tenancy.add(
        "log_group",
        oci.logging.models.LogGroup(
            display_name="genai-logs",
            compartment_id=COMPARTMENT,
            lifecycle_state="ACTIVE",
            freeform_tags={OWNER_TAG: "other"},
        ),
    )
    deployer.destroy(config())
    assert tenancy.objects("vcn") == [stranger]
    assert tenancy.objects("log_group") == [neighbour]


def test_destroy_with_nothing_deployed_deletes_nothing(deployer: Deployer) -> None:
    assert deployer.destroy(config()) == []
    assert deployer.tenancy.mutations == []


def test_dry_run_lists_and_deletes_nothing(deployer: Deployer) -> None:
    deployer.apply(config())
    ctx, stack = deployer.stack(config())
    from oci_genai_gateway.deploy.engine import reconcile

    before = len(deployer.tenancy.mutations)
    listed = reconcile.destroy(ctx, stack, dry_run=True)
    assert [c.resource.key for c in listed][:2] == ["logs.execution", "logs.access"]
    assert len(listed) == len(SERVERLESS_DELETES) - 1  # the usage plans and subscribers are one resource
    assert deployer.tenancy.mutations[before:] == []


def test_apply_after_destroy_restores_the_vault_and_keeps_the_keys(deployer: Deployer) -> None:
    deployer.apply(config())
    first_key = deployer.reporter.keys["default"]
    deployer.destroy(config())
    tenancy = deployer.tenancy
    before = len(tenancy.mutations)
    deployer.apply(config())
    restored = [m for m in tenancy.mutations[before:] if m[1].startswith("cancel_")]
    assert restored == [
        ("kms_vault", "cancel_vault_deletion"),
        ("kms_management", "cancel_key_deletion"),
        ("vaults", "cancel_secret_deletion"),
    ]
    creates = [m for m in tenancy.mutations[before:] if not m[1].startswith("cancel_")]
    assert creates == [m for m in SERVERLESS_CREATES if m[0] not in ("kms_vault", "kms_management", "vaults")]
    assert deployer.reporter.keys == {"default": first_key}  # no new key: the old one is back


def test_compose_destroy_order(deployer: Deployer) -> None:
    deployer.apply(config(COMPOSE))
    tenancy = deployer.tenancy
    before = len(tenancy.mutations)
    deployer.destroy(config(COMPOSE))
    assert tenancy.mutations[before:] == [
        ("identity", "delete_policy"),
        ("identity_domains", "delete_dynamic_resource_group"),
        ("network", "delete_public_ip"),
        ("compute", "terminate_instance"),
        ("vaults", "schedule_secret_deletion"),
        ("kms_management", "schedule_key_deletion"),
        ("kms_vault", "schedule_vault_deletion"),
        ("network", "delete_network_security_group"),
        ("network", "delete_subnet"),
        ("network", "delete_security_list"),
        ("network", "delete_route_table"),
        ("network", "delete_internet_gateway"),
        ("network", "delete_vcn"),
    ]
    terminate = tenancy.mutation_calls("terminate_instance")[0]
    assert terminate.kwargs == {"preserve_boot_volume": False}
