"""Scaled target: OCI Load Balancer (TLS) -> autoscaled instance pool -> OCI Cache for shared limits.

The pool's instances boot the compose VM's cloud-init (deploy/compose/, same image and instance
principal); the gateway listens on the VCN (port 8080, reachable only from the load balancer's NSG)
and counts per-key limits in the OCI Cache cluster (reachable only from the pool's NSG).
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import Resource, Spec, State, pending
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.compose_vm import user_data
from oci_genai_gateway.deploy.resources.facts import Facts
from oci_genai_gateway.deploy.resources.network import NsgKind, tcp_in
from oci_genai_gateway.deploy.resources.scaled_kinds import (
    ConfigurationKind,
    LoadBalancerKind,
    PoolKind,
    StatelessKind,
)

GATEWAY_PORT = 8080
BACKEND_SET = "gateway"
LISTENER = "https"
HEALTH_PATH = "/health/readiness"
CACHE_PORT = 6379  # OCI Cache: TLS on the Redis port


def redis_url(fqdn: str) -> str:
    """GATEWAY_REDIS_URL of the cache: OCI Cache speaks TLS only."""
    return f"rediss://{fqdn}:{CACHE_PORT}/0"


def instance_user_data(config: DeployConfig, secret_id: str, cache_fqdn: str) -> str:
    """The compose VM's cloud-init, with the gateway on the VCN and its limits in the cache."""
    text = user_data(config, secret_id)
    doc = yaml.safe_load(text.removeprefix("#cloud-config\n"))
    files = {f["path"]: f for f in doc["write_files"]}
    env = files["/etc/oci-genai-gateway/gateway.env"]
    lines = [line for line in env["content"].splitlines() if not line.startswith(_OVERRIDDEN)]
    lines += [
        # The load balancer terminates TLS; Caddy stays on loopback (no certificate to fetch).
        "GATEWAY_SITE_ADDRESS=http://127.0.0.1:8081",
        "GATEWAY_HOST=0.0.0.0",  # the pool NSG admits the load balancer only
        f"GATEWAY_PORT={GATEWAY_PORT}",
        f"GATEWAY_REDIS_URL={redis_url(cache_fqdn)}",
    ]
    env["content"] = "\n".join(lines) + "\n"
    rule = ["iptables", "-I", "INPUT", "-p", "tcp", "--dport", str(GATEWAY_PORT), "-j", "ACCEPT"]
    doc["runcmd"].insert(2, rule)
    return "#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=4096)


_OVERRIDDEN = ("GATEWAY_SITE_ADDRESS=", "GATEWAY_HOST=", "GATEWAY_PORT=", "GATEWAY_REDIS_URL=")


def tcp_from_nsg(port: int, nsg_id: str, why: str) -> Any:
    """A stateful ingress rule for one TCP port from another NSG."""
    return tcp_in(port, nsg_id, why, source_type="NETWORK_SECURITY_GROUP")


def resources(config: DeployConfig, facts: Facts) -> list[Resource]:
    """NSGs, cache, load balancer, instance configuration, pool and its autoscaling."""
    import oci

    core, lb, auto = oci.core.models, oci.load_balancer.models, oci.autoscaling.models
    p, sc, cc = config.prefix, config.scaled, config.compose
    nsg = sdk_kind(
        "network security group",
        "virtual-network-family",
        "network",
        "network_security_group",
        cls=NsgKind,
        scope_field="vcn_id",
    )

    def in_vcn(s: State) -> str:
        return s.ocid("network.vcn")

    def pool_nsg(s: State) -> Spec:
        rule = tcp_from_nsg(GATEWAY_PORT, s.ocid("network.nsg"), "the gateway, from the load balancer")
        return {"rules": [rule]}

    def cache_nsg(s: State) -> Spec:
        rule = tcp_from_nsg(CACHE_PORT, s.ocid("scaled.nsg-pool"), "shared limits, from the gateways")
        return {"rules": [rule]}

    def cache(s: State) -> Spec:
        return {
            "node_count": sc.cache_nodes,
            "node_memory_in_gbs": float(sc.cache_memory_gbs),
            "software_version": sc.cache_version,
            "subnet_id": s.ocid("network.subnet-private"),
            "nsg_ids": [s.ocid("scaled.nsg-cache")],
        }

    def balancer(s: State) -> Spec:
        health = lb.HealthCheckerDetails(
            protocol="HTTP", port=GATEWAY_PORT, url_path=HEALTH_PATH, return_code=200,
            interval_in_millis=10000, timeout_in_millis=3000, retries=3,
        )  # fmt: skip
        listener = lb.ListenerDetails(
            default_backend_set_name=BACKEND_SET,
            port=443,
            protocol="HTTP",
            ssl_configuration=lb.SSLConfigurationDetails(certificate_ids=[sc.certificate_id]),
            connection_configuration=lb.ConnectionConfiguration(idle_timeout=sc.idle_timeout_seconds),
        )
        return {
            "shape_name": "flexible",
            "shape_details": lb.ShapeDetails(
                minimum_bandwidth_in_mbps=sc.lb_min_mbps, maximum_bandwidth_in_mbps=sc.lb_max_mbps
            ),
            "is_private": False,
            "subnet_ids": [s.ocid("network.subnet-public")],
            "network_security_group_ids": [s.ocid("network.nsg")],
            # Least connections: a long stream weighs on an instance as long as it runs.
            "backend_sets": {
                BACKEND_SET: lb.BackendSetDetails(
                    policy="LEAST_CONNECTIONS", health_checker=health, backends=[]
                )
            },
            "listeners": {LISTENER: listener},
        }

    def configuration(s: State) -> Spec:
        live = s.live("scaled.cache")
        fqdn = str(live.primary_fqdn) if live is not None else pending("cache.primary_fqdn")
        text = instance_user_data(config, s.ocid("keys.secret"), fqdn)
        launch = core.InstanceConfigurationLaunchInstanceDetails(
            compartment_id=config.compartment_id,
            shape=cc.shape,
            shape_config=core.InstanceConfigurationLaunchInstanceShapeConfigDetails(
                ocpus=float(cc.ocpus), memory_in_gbs=float(cc.memory_gbs)
            ),
            source_details=core.InstanceConfigurationInstanceSourceViaImageDetails(
                image_id=cc.image_id or facts.image_id, boot_volume_size_in_gbs=cc.boot_volume_gbs
            ),
            create_vnic_details=core.InstanceConfigurationCreateVnicDetails(
                assign_public_ip=False, nsg_ids=[s.ocid("scaled.nsg-pool")]
            ),
            metadata={"user_data": base64.b64encode(text.encode()).decode()},
        )
        return {"instance_details": core.ComputeInstanceDetails(launch_details=launch)}

    def pool(s: State) -> Spec:
        # The instances keep nothing: their volumes go with them, drained or not.
        gone = core.InstancePoolPreTerminationActionHandleTimeoutDetails(
            preserve_block_volume_mode="DELETE_ALWAYS", preserve_boot_volume_mode="DELETE_ALWAYS"
        )
        drain = core.InstancePoolPreTerminationActionDetails(
            is_enabled=True, timeout=sc.drain_seconds, on_timeout=gone
        )
        return {
            "instance_configuration_id": s.ocid("scaled.instance-configuration"),
            "size": sc.min_instances,
            "placement_configurations": [
                core.CreateInstancePoolPlacementConfigurationDetails(
                    availability_domain=facts.availability_domain,
                    primary_subnet_id=s.ocid("network.subnet-private"),
                )
            ],
            "load_balancers": [
                core.AttachLoadBalancerDetails(
                    load_balancer_id=s.ocid("scaled.load-balancer"),
                    backend_set_name=BACKEND_SET,
                    port=GATEWAY_PORT,
                    vnic_selection="PrimaryVnic",
                )
            ],
            # A terminated instance (scale-in, replacement) first gets `drain_seconds` to finish its
            # streams: the pool takes it out of the backend set and waits before terminating it.
            "lifecycle_management": core.InstancePoolLifecycleManagementDetails(
                lifecycle_actions=core.InstancePoolLifecycleActionsDetails(pre_termination=drain)
            ),
        }

    def scaling(s: State) -> Spec:
        def rule(name: str, operator: str, value: int, step: int) -> Any:
            metric = auto.Metric(
                metric_type="CPU_UTILIZATION", threshold=auto.Threshold(operator=operator, value=value)
            )
            return auto.CreateConditionDetails(
                display_name=name, action=auto.Action(type="CHANGE_COUNT_BY", value=step), metric=metric
            )

        capacity = auto.Capacity(min=sc.min_instances, max=sc.max_instances, initial=sc.min_instances)
        policy = auto.CreateThresholdPolicyDetails(
            display_name=f"{p}-cpu",
            capacity=capacity,
            rules=[
                rule("scale-out", "GT", sc.scale_out_cpu, 1),
                rule("scale-in", "LT", sc.scale_in_cpu, -1),
            ],
        )
        return {
            "resource": auto.InstancePoolResource(id=s.ocid("scaled.pool")),
            "policies": [policy],
            "cool_down_in_seconds": 300,
            "is_enabled": True,
        }

    return [
        Resource("scaled.nsg-pool", nsg, f"{p}-pool-nsg", pool_nsg, ("network.vcn", "network.nsg"), in_vcn),
        Resource(
            "scaled.nsg-cache", nsg, f"{p}-cache-nsg", cache_nsg, ("network.vcn", "scaled.nsg-pool"), in_vcn
        ),
        Resource(
            "scaled.cache",
            _cache_kind(),
            f"{p}-limits",
            cache,
            ("network.subnet-private", "scaled.nsg-cache"),
            show=("software_version", "node_memory_in_gbs"),
        ),
        Resource(
            "scaled.load-balancer",
            _lb_kind(),
            f"{p}-lb",
            balancer,
            ("network.subnet-public", "network.nsg"),
            show=("shape_name",),
        ),
        Resource(
            "scaled.instance-configuration",
            _configuration_kind(),
            f"{p}-gateway",
            configuration,
            ("scaled.nsg-pool", "scaled.cache", "keys.secret", "identity.policy"),
            digest_fields=frozenset({"instance_details"}),
        ),
        Resource(
            "scaled.pool",
            _pool_kind(),
            f"{p}-gateway-pool",
            pool,
            ("scaled.instance-configuration", "scaled.load-balancer", "network.subnet-private"),
            show=("size",),
        ),
        Resource("scaled.autoscaling", _scaling_kind(), f"{p}-autoscaling", scaling, ("scaled.pool",)),
    ]


def _cache_kind() -> SdkKind:
    fixed = frozenset({"subnet_id", "software_version"})
    return sdk_kind(
        "OCI Cache cluster", "redis-family", "redis", "redis_cluster", ready=("ACTIVE",), immutable=fixed
    )


def _lb_kind() -> SdkKind:
    # Listeners and backend sets are their own sub-resources after creation; changing them in place
    # is not done here (the load balancer's address must not change by replacement).
    fixed = frozenset({"shape_name", "is_private", "subnet_ids", "backend_sets", "listeners"})
    return sdk_kind(
        "load balancer", "load-balancers", "load_balancer", "load_balancer", cls=LoadBalancerKind,
        ready=("ACTIVE",), immutable=fixed, work_requests=True,
    )  # fmt: skip


def _configuration_kind() -> SdkKind:
    import oci

    return sdk_kind(
        "instance configuration", "instance-family", "compute_management", "instance_configuration",
        cls=ConfigurationKind, by_name=False,
        create_model=oci.core.models.CreateInstanceConfigurationDetails,
    )  # fmt: skip


def _pool_kind() -> SdkKind:
    return sdk_kind(
        "instance pool", "instance-family", "compute_management", "instance_pool", cls=PoolKind,
        ready=("RUNNING",), delete_call=lambda c, scope, i: c.terminate_instance_pool(i),
    )  # fmt: skip


def _scaling_kind() -> SdkKind:
    return sdk_kind(
        "autoscaling configuration", "auto-scaling-configurations", "autoscaling",
        "auto_scaling_configuration", cls=StatelessKind, by_name=False, immutable=frozenset({"resource"}),
    )  # fmt: skip
