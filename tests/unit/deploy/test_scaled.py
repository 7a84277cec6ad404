"""Scaled target: what plan lists, and the load balancer, pool, autoscaling and cache it asks OCI for."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.commands.cli import main
from oci_genai_gateway.deploy.config.loader import load
from oci_genai_gateway.deploy.engine.resource_model import State
from oci_genai_gateway.deploy.resources import scaled
from oci_genai_gateway.deploy.resources.compose_vm import user_data
from oci_genai_gateway.deploy.resources.facts import Facts
from oci_genai_gateway.deploy.resources.stack import build
from tests.unit.deploy.conftest import config

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "deploy" / "scaled.example.toml"
CERT = "ocid1.certificate.oc1..cert"
SCALED: dict[str, Any] = {
    "deployment": {"target": "scaled"},
    "compose": {"repo_url": "https://git.example.com/org/gw.git"},
    "scaled": {"certificate_id": CERT},
}
SECRET = "ocid1.vaultsecret.oc1..s"
FQDN = "limits-abc.redis.us-chicago-1.oci.oraclecloud.com"


def test_offline_plan_lists_the_load_balancer_pool_autoscaling_and_cache() -> None:
    out = io.StringIO()
    code = main(["plan", "--offline", "-c", str(EXAMPLE)], out=out, env={})
    text = out.getvalue()
    assert code == 0, text
    for line in (
        "+ create   load balancer            genai-lb",
        "+ create   instance configuration   genai-gateway",
        "+ create   instance pool            genai-gateway-pool",
        "+ create   autoscaling configuration genai-autoscaling",
        "+ create   OCI Cache cluster        genai-limits",
        "+ create   network security group   genai-pool-nsg",
        "+ create   network security group   genai-cache-nsg",
        "+ create   subnet                   genai-private",
        "+ create   NAT gateway              genai-nat",
    ):
        assert line in text
    assert "22 to create; 0 unchanged." in text


class Live:
    """What State.live returns for the cache once it exists."""

    primary_fqdn = FQDN


def specs() -> dict[str, Any]:
    cfg = config(SCALED)
    facts = Facts(tenancy_id="ocid1.tenancy.oc1..t", domain=None, availability_domain="AD-1", image_id="img")
    stack = build(cfg, facts, builder=None, env={})  # type: ignore[arg-type]
    state = State({r.key: f"ocid1.{r.key}" for r in stack.resources})
    state.put("scaled.cache", Live(), "ocid1.scaled.cache")
    state.put("keys.secret", object(), SECRET)
    return {r.key: r.spec(state) for r in stack.resources}


def test_the_listener_terminates_tls_with_a_long_idle_timeout_and_checks_readiness() -> None:
    lb = specs()["scaled.load-balancer"]
    listener = lb["listeners"][scaled.LISTENER]
    assert (listener.port, listener.protocol) == (443, "HTTP")
    assert listener.ssl_configuration.certificate_ids == [CERT]
    assert listener.connection_configuration.idle_timeout == 330
    backends = lb["backend_sets"][scaled.BACKEND_SET]
    assert backends.policy == "LEAST_CONNECTIONS"
    health = backends.health_checker
    assert (health.protocol, health.port, health.url_path, health.return_code) == (
        "HTTP",
        8080,
        "/health/readiness",
        200,
    )
    assert lb["subnet_ids"] == ["ocid1.network.subnet-public"]
    assert lb["network_security_group_ids"] == ["ocid1.network.nsg"]


def test_only_the_load_balancer_reaches_the_pool_and_only_the_pool_reaches_the_cache() -> None:
    s = specs()
    [pool_rule] = s["scaled.nsg-pool"]["rules"]
    [cache_rule] = s["scaled.nsg-cache"]["rules"]
    assert (pool_rule.source_type, pool_rule.source) == ("NETWORK_SECURITY_GROUP", "ocid1.network.nsg")
    assert pool_rule.tcp_options.destination_port_range.min == 8080
    assert (cache_rule.source_type, cache_rule.source) == ("NETWORK_SECURITY_GROUP", "ocid1.scaled.nsg-pool")
    assert cache_rule.tcp_options.destination_port_range.min == 6379
    cache = s["scaled.cache"]
    assert cache["subnet_id"] == "ocid1.network.subnet-private"
    assert cache["nsg_ids"] == ["ocid1.scaled.nsg-cache"]


def test_the_pool_registers_with_the_backend_set_drains_and_autoscales_on_cpu() -> None:
    s = specs()
    pool = s["scaled.pool"]
    [attach] = pool["load_balancers"]
    assert (attach.load_balancer_id, attach.backend_set_name, attach.port) == (
        "ocid1.scaled.load-balancer",
        scaled.BACKEND_SET,
        8080,
    )
    assert pool["placement_configurations"][0].primary_subnet_id == "ocid1.network.subnet-private"
    drain = pool["lifecycle_management"].lifecycle_actions.pre_termination
    assert (drain.is_enabled, drain.timeout) == (True, 330)
    scaling = s["scaled.autoscaling"]
    [policy] = scaling["policies"]
    assert (policy.capacity.min, policy.capacity.max) == (2, 4)
    rules = {
        (r.metric.metric_type, r.metric.threshold.operator, r.metric.threshold.value, r.action.value)
        for r in policy.rules
    }
    assert rules == {("CPU_UTILIZATION", "GT", 70, 1), ("CPU_UTILIZATION", "LT", 30, -1)}
    assert scaling["resource"].id == "ocid1.scaled.pool"


def test_instances_boot_the_compose_cloud_init_with_the_gateway_on_the_vcn_and_limits_in_the_cache() -> None:
    launch = specs()["scaled.instance-configuration"]["instance_details"].launch_details
    assert launch.create_vnic_details.nsg_ids == ["ocid1.scaled.nsg-pool"]
    assert launch.create_vnic_details.assign_public_ip is False
    text = base64.b64decode(launch.metadata["user_data"]).decode()
    doc = yaml.safe_load(text)
    compose = yaml.safe_load(user_data(config(SCALED), SECRET))
    # The same packages, keys step and service as the compose VM.
    assert doc["packages"] == compose["packages"]
    env_path = "/etc/oci-genai-gateway/gateway.env"
    files = {f["path"]: f for f in doc["write_files"]}
    assert {p: f for p, f in files.items() if p != env_path} == {
        f["path"]: f for f in compose["write_files"] if f["path"] != env_path
    }
    env = dict(line.split("=", 1) for line in files[env_path]["content"].splitlines())
    assert env["GATEWAY_REDIS_URL"] == f"rediss://{FQDN}:6379/0"
    assert (env["GATEWAY_HOST"], env["GATEWAY_PORT"]) == ("0.0.0.0", "8080")
    assert env["GATEWAY_AUTH"] == "instance_principal"
    assert "GATEWAY_API_KEYS" not in env  # from Vault at boot, as on the compose VM
    assert ["iptables", "-I", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "ACCEPT"] in doc["runcmd"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"scaled": {"certificate_id": ""}}, "scaled.certificate_id"),
        ({"scaled": {"min_instances": 3, "max_instances": 2}}, "max_instances"),
        ({"scaled": {"idle_timeout_seconds": 300}}, "idle_timeout_seconds"),
        ({"scaled": {"scale_in_cpu": 80}}, "scale_in_cpu"),
        ({"compose": {"site_address": "gw.example.com"}}, "compose.site_address"),
    ],
)
def test_bad_scaled_configs_name_the_key(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(SCALED, extra)


def test_the_example_file_loads() -> None:
    cfg = load(EXAMPLE)
    assert (cfg.target, cfg.scaled.min_instances, cfg.scaled.max_instances) == ("scaled", 2, 4)


def _response(data: Any) -> Any:
    import oci

    return oci.response.Response(200, {}, data, None)


def test_a_new_instance_configuration_rolls_the_pool_one_drained_instance_at_a_time(mocker: Any) -> None:
    import oci

    from oci_genai_gateway.deploy.engine.clients import Clients
    from oci_genai_gateway.deploy.engine.resource_model import Context, Resource
    from tests.unit.deploy.conftest import Collector

    m = oci.core.models
    client = mocker.create_autospec(oci.core.ComputeManagementClient, instance=True)
    calls: list[str] = []
    members = [
        m.InstancePoolInstance(id=f"i{n}", display_name=f"vm{n}", instance_configuration_id="ic-old")
        for n in (1, 2)
    ]
    configurations = [
        m.InstanceConfigurationSummary(id=i, display_name=name, time_created=None)
        for i, name in (("ic-old", "genai-gateway"), ("ic-new", "genai-gateway"), ("ic-other", "other"))
    ]
    pool = m.InstancePool(id="pool", lifecycle_state="RUNNING", display_name="genai-gateway-pool")
    client.list_instance_pool_instances.return_value = _response(members)
    client.list_instance_configurations.return_value = _response(configurations)
    client.update_instance_pool.return_value = _response(pool)
    client.get_instance_pool.return_value = _response(pool)
    client.detach_instance_pool_instance.side_effect = lambda pool_id, d, **k: calls.append(
        f"detach {d.instance_id}"
    )
    client.delete_instance_configuration.side_effect = lambda ocid, **k: calls.append(f"delete {ocid}")
    client.get_instance_pool.side_effect = lambda ocid, **k: (calls.append("wait"), _response(pool))[1]
    ctx = Context(Clients(lambda *a: client, "us-chicago-1", "t"), config(SCALED), Collector())
    kind = scaled._pool_kind()
    res = Resource("scaled.pool", kind, "genai-gateway-pool", lambda s: {})
    kind.update(ctx, res, None, pool, {"instance_configuration_id": "ic-new"}, {})
    [update] = client.update_instance_pool.call_args_list
    assert update.args[1].instance_configuration_id == "ic-new"
    detaches = client.detach_instance_pool_instance.call_args_list
    for call in detaches:
        details = call.args[1]
        # The pool keeps its size and terminates the old instance after the pre-termination drain.
        assert (details.is_decrement_size, details.is_auto_terminate) == (False, True)
    # One at a time, each followed by a wait for the pool; then the superseded configuration goes.
    assert calls[calls.index("detach i1") :] == ["detach i1", "wait", "detach i2", "wait", "delete ic-old"]


def test_scaled_apply_creates_everything_and_a_second_apply_changes_nothing(deployer: Any) -> None:
    cfg = config(SCALED)
    deployer.apply(cfg)
    tenancy = deployer.tenancy
    (lb,) = tenancy.objects("lb")
    (pool,) = tenancy.objects("pool")
    (ic,) = tenancy.objects("ic")
    (cache,) = tenancy.objects("cache")
    (scaling,) = tenancy.objects("autoscaling")
    assert pool.instance_configuration_id == ic.id
    assert pool.load_balancers[0].load_balancer_id == lb.id
    assert scaling.resource.id == pool.id
    private = next(s for s in tenancy.objects("subnet") if s.display_name == "genai-private")
    assert cache.subnet_id == private.id
    before = len(tenancy.mutations)
    deployer.apply(cfg)
    assert tenancy.mutations[before:] == []


def test_a_failed_create_is_resumed_by_the_next_apply(deployer: Any) -> None:
    from oci_genai_gateway.deploy.engine.failures import DeployError
    from tests.unit.deploy.fake_tenancy import service_error

    cfg = config(SCALED)
    deployer.tenancy.fail_next("create_instance_pool", service_error(400, "InvalidParameter"))
    with pytest.raises(DeployError):
        deployer.apply(cfg)
    assert not deployer.tenancy.objects("pool")
    before = len(deployer.tenancy.mutations)
    deployer.apply(cfg)
    # Only what was missing: the pool and its autoscaling.
    assert deployer.tenancy.mutations[before:] == [
        ("compute_management", "create_instance_pool"),
        ("autoscaling", "create_auto_scaling_configuration"),
    ]


def test_scaled_destroy_deletes_in_reverse_order(deployer: Any) -> None:
    cfg = config(SCALED)
    deployer.apply(cfg)
    deployer.destroy(cfg)
    tenancy = deployer.tenancy
    for kind in ("lb", "pool", "ic", "cache", "autoscaling", "nsg", "subnet", "vcn"):
        assert not tenancy.objects(kind), kind
    deleted = [m for m in tenancy.mutations if m[1].startswith(("delete_", "terminate_"))]
    order = [m[1] for m in deleted]
    assert order.index("delete_auto_scaling_configuration") < order.index("terminate_instance_pool")
    assert order.index("terminate_instance_pool") < order.index("delete_instance_configuration")
    assert order.index("terminate_instance_pool") < order.index("delete_load_balancer")
    assert order.index("delete_redis_cluster") < order.index("delete_subnet")


# --- the faulty tenancy, as for the other targets (tests/unit/deploy/test_faults.py) -------------

SCALED_CREATES = (
    "create_redis_cluster",
    "create_load_balancer",
    "create_instance_configuration",
    "create_instance_pool",
    "create_auto_scaling_configuration",
)


def _fresh(mocker: Any) -> Any:
    from tests.unit.deploy.conftest import Deployer
    from tests.unit.deploy.fake_tenancy import FakeBuilder, FakeTenancy

    tenancy = FakeTenancy(mocker)
    return Deployer(tenancy, FakeBuilder(tenancy))


def _converged(deployer: Any, reference: Any) -> None:
    from oci_genai_gateway.deploy.engine.resource_model import Action
    from tests.unit.deploy.test_faults import live_objects

    assert live_objects(deployer.tenancy) == reference
    assert {c.action for c in deployer.plan(config(SCALED))} == {Action.NOOP}


@pytest.fixture
def reference(mocker: Any) -> Any:
    from tests.unit.deploy.test_faults import live_objects

    deployer = _fresh(mocker)
    deployer.apply(config(SCALED))
    return live_objects(deployer.tenancy)


@pytest.mark.parametrize("fault", ["429", "500"])
def test_a_transient_fault_at_every_scaled_step_is_retried_in_the_same_apply(
    deployer: Any, reference: Any, fault: str
) -> None:
    from tests.unit.deploy.test_faults import TRANSIENT

    reads = ["get_load_balancer", "get_redis_cluster", "get_instance_pool", "get_work_request"]
    for method in (*SCALED_CREATES, *reads):
        deployer.tenancy.fail_next(method, TRANSIENT[fault]())
    deployer.apply(config(SCALED))
    _converged(deployer, reference)


def test_a_crash_after_any_apply_step_is_finished_by_the_next_apply(mocker: Any, reference: Any) -> None:
    from tests.unit.deploy.fake_tenancy import Crash

    total = len(_fresh_apply_mutations(mocker))
    for step in range(total - 8, total):  # the scaled target's own steps, at the end of the apply
        deployer = _fresh(mocker)
        deployer.tenancy.crash_after = step
        with pytest.raises(Crash):
            deployer.apply(config(SCALED))
        deployer.apply(config(SCALED))
        _converged(deployer, reference)


def _fresh_apply_mutations(mocker: Any) -> list[tuple[str, str]]:
    deployer = _fresh(mocker)
    deployer.apply(config(SCALED))
    return list(deployer.tenancy.mutations)


def test_a_crash_during_destroy_is_finished_by_the_next_destroy(mocker: Any) -> None:
    from collections import Counter

    from tests.unit.deploy.fake_tenancy import Crash
    from tests.unit.deploy.test_faults import live_objects

    for step in range(1, 8):  # the scaled resources go first
        deployer = _fresh(mocker)
        deployer.apply(config(SCALED))
        deployer.tenancy.crash_after = len(deployer.tenancy.mutations) + step
        with pytest.raises(Crash):
            deployer.destroy(config(SCALED))
        deployer.destroy(config(SCALED))
        assert live_objects(deployer.tenancy) == Counter(), f"crash after step {step}"
