"""A faulty tenancy: transient errors, lost responses, FAILED and slow resources, crashes; apply and destroy.

Everything runs on the fake tenancy's autospec'd SDK clients. Nothing sleeps: the retry strategy sleeps
through the Deployer's recorder, the SDK waiter through a fake clock.
"""

from __future__ import annotations

import functools
import types
from collections import Counter
from typing import Any

import oci
import pytest

from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import Action
from oci_genai_gateway.deploy.resources import container_images
from tests.unit.deploy.conftest import Deployer, config
from tests.unit.deploy.fake_tenancy import Crash, FakeBuilder, FakeTenancy, service_error
from tests.unit.deploy.test_apply import SERVERLESS_CREATES

# Collections deploy manages directly (NSG rules, VNICs and private IPs belong to their parents).
_MANAGED = ("rule", "vnic", "private_ip")


def dns_failure() -> Exception:
    """What the SDK raises when the endpoint's name does not resolve (a new vault's KMS endpoint)."""
    cause = oci._vendor.requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='x-management.kms.us-chicago-1.oraclecloud.com', port=443): "
        "Failed to resolve 'x-management.kms.us-chicago-1.oraclecloud.com' (NameResolutionError)"
    )
    return oci.exceptions.RequestException(cause)


TRANSIENT = {
    "429": lambda: service_error(429, "TooManyRequests"),
    "500": lambda: service_error(500, "InternalServerError"),
    "dns": dns_failure,
}


def live_objects(tenancy: FakeTenancy) -> Counter[tuple[str, str]]:
    """(collection, name) of everything that exists and is not scheduled for deletion."""
    out: Counter[tuple[str, str]] = Counter()
    for kind, items in tenancy.store.items():
        if kind in _MANAGED:
            continue
        for obj in items.values():
            if getattr(obj, "lifecycle_state", None) in ("PENDING_DELETION", "TERMINATED"):
                continue
            name = getattr(obj, "display_name", None) or getattr(obj, "name", None)
            out[(kind, str(name or getattr(obj, "secret_name", None) or obj.id))] += 1
    return out


_CONTENT_TAGS = functools.cache(container_images.content_tag)


@pytest.fixture(autouse=True)
def _hash_the_sources_once(mocker: Any) -> None:
    """The image content tags hash the whole source tree; it does not change during these runs."""
    mocker.patch.object(container_images, "content_tag", _CONTENT_TAGS)


def fresh(mocker: Any) -> Deployer:
    tenancy = FakeTenancy(mocker)
    return Deployer(tenancy, FakeBuilder(tenancy))


@pytest.fixture(scope="module")
def converged(module_mocker: Any) -> Counter[tuple[str, str]]:
    """What one clean apply leaves: the reference every faulty run must reach."""
    deployer = fresh(module_mocker)
    deployer.apply(config())
    return live_objects(deployer.tenancy)


@pytest.fixture
def clock(mocker: Any) -> list[float]:
    """The SDK waiter's clock: sleeping advances it (replaces the autouse guard against waiting)."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    fake = types.SimpleNamespace(time=lambda: now[0], monotonic=lambda: now[0], sleep=sleep)
    mocker.patch.object(oci.waiter, "time", fake)
    return slept


def assert_converged(deployer: Deployer, reference: Counter[tuple[str, str]]) -> None:
    """Everything exactly once, and a further apply changes nothing."""
    assert live_objects(deployer.tenancy) == reference
    before = len(deployer.tenancy.mutations)
    deployer.apply(config())
    assert deployer.tenancy.mutations[before:] == []


# --- transient faults: one apply converges ------------------------------------------------------


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_a_transient_fault_at_every_step_is_retried_in_the_same_apply(
    deployer: Deployer, fault: str, converged: Counter[tuple[str, str]]
) -> None:
    tenancy = deployer.tenancy
    methods = sorted({method for _, method in SERVERLESS_CREATES})
    reads = ["get_vcn", "get_subnet", "get_vault", "get_key", "get_application", "get_gateway"]
    reads += ["list_vcns", "list_domains", "get_namespace", "get_work_request", "list_container_images"]
    for method in methods + reads:
        tenancy.fail_next(method, TRANSIENT[fault]())
    deployer.apply(config())
    # Every fault cost one backoff sleep, through the injected sleeper.
    assert len(deployer.sleeps) == len(methods) + len(reads)
    assert_converged(deployer, converged)


def test_a_lost_create_response_is_retried_with_the_same_token_and_creates_once(
    deployer: Deployer, converged: Counter[tuple[str, str]]
) -> None:
    tenancy = deployer.tenancy
    methods = sorted({method for _, method in SERVERLESS_CREATES if method.startswith("create_")})
    for method in methods:
        tenancy.fail_after(method, service_error(502, "BadGateway"))
    deployer.apply(config())
    tokenless = {"create_application", "create_function"}  # Functions takes no retry token
    for method in set(methods) - tokenless:
        tokens = [c.kwargs["opc_retry_token"] for c in tenancy.mutation_calls(method)]
        assert tokens[0] == tokens[1], method  # the first create sent twice, with the same token
    # Without a token, the create is looked up instead of sent again.
    assert len(tenancy.mutation_calls("create_application")) == 1
    assert len(tenancy.mutation_calls("create_function")) == 5
    assert_converged(deployer, converged)


def test_more_faults_than_the_budget_fail_the_step_and_the_next_apply_resumes(
    deployer: Deployer, converged: Counter[tuple[str, str]]
) -> None:
    deployer.tenancy.fail_persistently("create_key", dns_failure())
    with pytest.raises(DeployError, match=r"creating master encryption key .*check the network"):
        deployer.apply(config())
    deployer.apply(config())
    assert_converged(deployer, converged)


def test_a_not_retryable_error_is_not_retried(deployer: Deployer) -> None:
    deployer.tenancy.fail_next("create_vcn", service_error(400, "InvalidParameter", "bad CIDR"))
    with pytest.raises(DeployError, match="bad CIDR"):
        deployer.apply(config())
    assert deployer.sleeps == []
    assert len(deployer.tenancy.mutation_calls("create_vcn")) == 1


# --- lifecycle: FAILED is replaced, CREATING is waited for ---------------------------------------

FAILING = {
    "app": ("Functions application", "create_application", "delete_application"),
    "fn": ("function", "create_function", "delete_function"),
    "gateway": ("API gateway", "create_gateway", "delete_gateway"),
    "deployment": ("API deployment", "create_deployment", "delete_deployment"),
    "log": ("log", "create_log", "delete_log"),
}


@pytest.mark.parametrize("kind", sorted(FAILING))
def test_a_failed_resource_is_reported_with_oci_message_and_replaced_by_the_next_apply(
    deployer: Deployer, kind: str, converged: Counter[tuple[str, str]]
) -> None:
    label, create, delete = FAILING[kind]
    tenancy = deployer.tenancy
    tenancy.end_failed[kind] = "Subnet has no route to the OCIR endpoint"
    # Functions' models carry no lifecycle_details: the state and the OCID are all OCI says.
    said = "is FAILED: OCI gives no details" if kind in ("app", "fn") else "Subnet has no route to the OCIR"
    with pytest.raises(DeployError, match=f"{label} .*{said}") as err:
        deployer.apply(config())
    if kind != "log":  # a work request names no OCID; the object's lifecycle does
        failed = next(o for o in tenancy.objects(kind) if o.lifecycle_state == "FAILED")
        assert failed.id in str(err.value)
    plan = {c.resource.key: c for c in deployer.plan(config())}
    replaced = [c for c in plan.values() if c.action is Action.REPLACE]
    assert len(replaced) == 1
    assert "FAILED" in replaced[0].note
    before = len(tenancy.mutations)
    deployer.apply(config())
    assert tenancy.mutations[before : before + 2] == [
        (tenancy.mutation_calls(delete)[0].client, delete),
        (tenancy.mutation_calls(create)[0].client, create),
    ]
    assert_converged(deployer, converged)


def test_slow_creating_resources_are_waited_for(
    deployer: Deployer, clock: list[float], converged: Counter[tuple[str, str]]
) -> None:
    for kind in ("vcn", "subnet", "vault", "key", "secret", "app", "fn", "gateway", "deployment"):
        deployer.tenancy.creating_reads[kind] = 3
    deployer.apply(config())
    assert clock  # the waiter polled (on the fake clock)
    assert_converged(deployer, converged)


def test_a_resource_still_creating_after_the_timeout_is_waited_for_not_created_again(
    deployer: Deployer, clock: list[float], converged: Counter[tuple[str, str]]
) -> None:
    # Longer than max_wait_seconds (about 65 reads on the fake clock), shorter than two of them.
    deployer.tenancy.creating_reads["gateway"] = 80
    with pytest.raises(DeployError, match="API gateway 'genai-gateway': timed out waiting; apply again"):
        deployer.apply(config())
    plan = {c.resource.key: c for c in deployer.plan(config())}
    assert "CREATING: apply waits for it" in plan["gateway.gateway"].note
    deployer.apply(config())
    assert len(deployer.tenancy.mutation_calls("create_gateway")) == 1
    assert_converged(deployer, converged)


# --- crashes: the next apply converges, with no duplicate ----------------------------------------


# A crash after the vault, the key (a new KMS endpoint), the functions and the gateway: the unit tier's
# sample; the slow tests below crash after every step in turn.
SAMPLE_APPLY_STEPS = (13, 14, 19, 23)
SAMPLE_DESTROY_STEPS = (7, 21, 24)


@pytest.mark.parametrize("step", SAMPLE_APPLY_STEPS)
def test_apply_crashing_after_a_step_is_finished_by_the_next_apply(
    mocker: Any, converged: Counter[tuple[str, str]], step: int
) -> None:
    crash_apply_then_converge(mocker, converged, step)


@pytest.mark.slow
def test_apply_crashing_after_each_step_is_finished_by_the_next_apply(
    mocker: Any, converged: Counter[tuple[str, str]]
) -> None:
    for step in range(1, len(SERVERLESS_CREATES)):
        crash_apply_then_converge(mocker, converged, step)


def crash_apply_then_converge(mocker: Any, converged: Counter[tuple[str, str]], step: int) -> None:
    """The process dies after `step` changes; the next apply finishes, with nothing twice."""
    deployer = fresh(mocker)
    deployer.tenancy.crash_after = step
    with pytest.raises(Crash):
        deployer.apply(config())
    assert len(deployer.tenancy.mutations) == step
    deployer.apply(config())
    assert live_objects(deployer.tenancy) == converged, f"crash after step {step}"
    assert {c.action for c in deployer.plan(config())} == {Action.NOOP}, f"crash after step {step}"


# --- destroy: re-runnable, resumable, VNICs -----------------------------------------------------


def test_destroy_twice_leaves_nothing_and_the_second_changes_nothing(deployer: Deployer) -> None:
    deployer.apply(config())
    first = deployer.destroy(config())
    assert not [c for c in first if c.action is Action.CONFLICT]
    assert live_objects(deployer.tenancy) == Counter()
    before = len(deployer.tenancy.mutations)
    second = deployer.destroy(config())
    assert deployer.tenancy.mutations[before:] == []
    # Only the Vault objects are still listed, pending deletion, and skipped.
    assert {c.resource.key for c in second} == {"keys.vault", "keys.key", "keys.secret"}
    assert {c.action for c in second} == {Action.NOOP}


@pytest.mark.parametrize("step", SAMPLE_DESTROY_STEPS)
def test_destroy_crashing_after_a_step_is_finished_by_the_next_destroy(mocker: Any, step: int) -> None:
    crash_destroy_then_finish(mocker, step)


@pytest.mark.slow
def test_destroy_crashing_after_each_step_is_finished_by_the_next_destroy(mocker: Any) -> None:
    reference = fresh(mocker)
    reference.apply(config())
    before = len(reference.tenancy.mutations)
    reference.destroy(config())
    for step in range(1, len(reference.tenancy.mutations) - before):
        crash_destroy_then_finish(mocker, step)


def crash_destroy_then_finish(mocker: Any, step: int) -> None:
    """The process dies after `step` deletions; the next destroy leaves nothing."""
    deployer = fresh(mocker)
    deployer.apply(config())
    deployer.tenancy.crash_after = len(deployer.tenancy.mutations) + step
    with pytest.raises(Crash):
        deployer.destroy(config())
    left = deployer.destroy(config())
    assert not [c for c in left if c.action is Action.CONFLICT], f"crash after step {step}"
    assert live_objects(deployer.tenancy) == Counter(), f"crash after step {step}"


def test_subnets_held_by_vnics_are_retried_until_released(mocker: Any, deployer: Deployer) -> None:
    deployer.apply(config())
    held = service_error(409, "Conflict", "The Subnet has references to VNICs")
    for _ in range(3):
        deployer.tenancy.fail_next("delete_subnet", held)
    deployer.tenancy.fail_next("delete_vcn", service_error(409, "Conflict", "VCN has subnets"))
    done = deployer.destroy(config())
    assert not [c for c in done if c.action is Action.CONFLICT]
    assert live_objects(deployer.tenancy) == Counter()
    assert len(deployer.sleeps) == 4  # bounded retries, through the injected sleeper


def test_vnics_held_too_long_end_with_a_report_and_destroy_resumes(deployer: Deployer) -> None:
    deployer.apply(config())
    deployer.tenancy.fail_persistently("delete_subnet", service_error(409, "Conflict", "references to VNICs"))
    for _ in range(8):  # the release strategy tries longer than the ordinary one
        deployer.tenancy.fail_next("delete_subnet", service_error(409, "Conflict", "references to VNICs"))
    done = deployer.destroy(config())
    left = [c for c in done if c.action is Action.CONFLICT]
    assert {c.resource.key for c in left} >= {"network.subnet-private", "network.vcn"}
    for change in left:
        assert "apply again" not in change.note
    assert "destroy again" in left[0].note
    again = deployer.destroy(config())
    assert not [c for c in again if c.action is Action.CONFLICT]
    assert live_objects(deployer.tenancy) == Counter()
