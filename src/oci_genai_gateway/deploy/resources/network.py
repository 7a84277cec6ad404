"""Network: VCN, gateways, route tables, an egress-only security list, subnets, NSGs with the ingress."""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.compare import matches, plain
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import Changes, Context, Resource, Spec, State
from oci_genai_gateway.deploy.engine.sdk_calls import list_all
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.facts import Facts

_FAMILY = "virtual-network-family"
ANYWHERE = "0.0.0.0/0"


class NsgKind(SdkKind):
    """An NSG whose spec field `rules` (AddSecurityRuleDetails) is kept exactly: extras are removed."""

    def _live_rules(self, ctx: Context, nsg_id: str) -> list[Any]:
        return list_all(self.sdk(ctx).list_network_security_group_security_rules, nsg_id)

    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """Create the empty NSG, then add its rules."""
        live = super().create(ctx, res, scope, {k: v for k, v in spec.items() if k != "rules"}, tags)
        self._sync(ctx, self.ocid(live), spec["rules"], [])
        return live

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Add missing rules, remove rules we did not ask for."""
        if "rules" in changed:
            self._sync(ctx, self.ocid(live), changed["rules"], self._live_rules(ctx, self.ocid(live)))
        rest = {k: v for k, v in changed.items() if k != "rules"}
        return super().update(ctx, res, scope, live, rest, tags)

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """The rules compared as a set, plus the ordinary fields."""
        out = super().diff(ctx, res, live, {k: v for k, v in spec.items() if k != "rules"})
        current = self._live_rules(ctx, self.ocid(live))
        if not matches(plain(spec["rules"]), plain(current)):
            out["rules"] = (describe_rules(current), describe_rules(spec["rules"]))
        return out

    def _sync(self, ctx: Context, nsg_id: str, wanted: list[Any], current: list[Any]) -> None:
        import oci

        client = self.sdk(ctx)
        spare = list(current)
        missing = []
        for rule in wanted:
            hit = next((r for r in spare if matches(plain(rule), plain(r))), None)
            if hit is None:
                missing.append(rule)
            else:
                spare.remove(hit)
        if spare:
            details = oci.core.models.RemoveNetworkSecurityGroupSecurityRulesDetails(
                security_rule_ids=[r.id for r in spare]
            )
            client.remove_network_security_group_security_rules(nsg_id, details)
        if missing:
            details = oci.core.models.AddNetworkSecurityGroupSecurityRulesDetails(security_rules=missing)
            client.add_network_security_group_security_rules(nsg_id, details)


def describe_rules(rules: list[Any]) -> list[str]:
    """Security rules as `INGRESS tcp/443 from 0.0.0.0/0`, sorted."""
    out = []
    for rule in rules:
        ports = getattr(getattr(rule, "tcp_options", None), "destination_port_range", None)
        port = f"/{ports.min}" if ports is not None else ""
        name = {"6": "tcp", "17": "udp", "1": "icmp", "all": "all"}.get(
            str(rule.protocol), str(rule.protocol)
        )
        out.append(f"{rule.direction} {name}{port} from {rule.source}")
    return sorted(out)


def tcp_in(port: int, source: str, why: str, source_type: str = "CIDR_BLOCK") -> Any:
    """A stateful ingress rule for one TCP port, from a CIDR block or (`NETWORK_SECURITY_GROUP`) an NSG."""
    import oci

    m = oci.core.models
    return m.AddSecurityRuleDetails(
        direction="INGRESS",
        protocol="6",
        source=source,
        source_type=source_type,
        is_stateless=False,
        tcp_options=m.TcpOptions(destination_port_range=m.PortRange(min=port, max=port)),
        description=why,
    )


def ingress_rules(config: DeployConfig) -> list[Any]:
    """443 to the API gateway; 80 and 443 to the compose VM, and SSH only from the given range."""
    if config.target == "serverless":
        return [tcp_in(443, ANYWHERE, "HTTPS to the API gateway")]
    if config.target == "scaled":
        return [tcp_in(443, ANYWHERE, "HTTPS to the load balancer")]
    rules = [
        tcp_in(443, ANYWHERE, "HTTPS to Caddy"),
        tcp_in(80, ANYWHERE, "ACME HTTP challenge and redirect to HTTPS"),
    ]
    if config.network.ssh_cidr:
        rules.append(tcp_in(22, config.network.ssh_cidr, "SSH from the administration range"))
    return rules


def resources(config: DeployConfig, facts: Facts) -> list[Resource]:
    """The network resources to create (only the NSG when existing subnets are reused)."""
    import oci

    m = oci.core.models
    p = config.prefix
    net = config.network
    # The scaled target's instances and cache live in the private subnet, as the functions do.
    private_net = config.target in ("serverless", "scaled")

    def child(
        key: str, kind: SdkKind, name: str, spec: Any, deps: tuple[str, ...] = (), show: tuple[str, ...] = ()
    ) -> Resource:
        # Everything but the VCN is listed (and created) inside the VCN.
        return Resource(
            key, kind, name, spec, ("network.vcn", *deps), lambda s: s.ocid("network.vcn"), show=show
        )

    nsg_kind = sdk_kind(
        "network security group",
        _FAMILY,
        "network",
        "network_security_group",
        cls=NsgKind,
        scope_field="vcn_id",
        releases_vnics=True,
    )
    nsg_name = {"serverless": f"{p}-gateway-nsg", "scaled": f"{p}-lb-nsg"}.get(config.target, f"{p}-vm-nsg")
    nsg = child(
        "network.nsg", nsg_kind, nsg_name, lambda s: {"rules": ingress_rules(config)}, show=("rules",)
    )
    if net.reuse:
        return [nsg]

    def route(destination: str, kind: str, target: str) -> Any:
        return m.RouteRule(destination=destination, destination_type=kind, network_entity_id=target)

    def public_routes(s: State) -> Spec:
        return {"route_rules": [route(ANYWHERE, "CIDR_BLOCK", s.ocid("network.igw"))]}

    def private_routes(s: State) -> Spec:
        # Generative AI through NAT; the Oracle services the service gateway covers (Vault, OCIR) through it.
        return {
            "route_rules": [
                route(ANYWHERE, "CIDR_BLOCK", s.ocid("network.nat")),
                route(facts.services_cidr, "SERVICE_CIDR_BLOCK", s.ocid("network.sgw")),
            ]
        }

    all_out = m.EgressSecurityRule(
        destination=ANYWHERE, destination_type="CIDR_BLOCK", protocol="all", is_stateless=False
    )
    # Path-MTU discovery ("fragmentation needed") only, as in OCI's default list; no port is opened here.
    mtu = m.IngressSecurityRule(
        protocol="1", source=ANYWHERE, source_type="CIDR_BLOCK", icmp_options=m.IcmpOptions(type=3, code=4)
    )
    egress = {"egress_security_rules": [all_out], "ingress_security_rules": [mtu]}

    def subnet(cidr: str, routes: str, private: bool, label: str) -> Any:
        return lambda s: {
            "cidr_block": cidr,
            "route_table_id": s.ocid(routes),
            "security_list_ids": [s.ocid("network.security-list")],
            "prohibit_public_ip_on_vnic": private,
            "dns_label": label,
        }

    vcn_kind = sdk_kind(
        "VCN",
        _FAMILY,
        "network",
        "vcn",
        immutable=frozenset({"cidr_blocks", "dns_label"}),
        releases_vnics=True,
    )
    igw = sdk_kind("internet gateway", _FAMILY, "network", "internet_gateway", scope_field="vcn_id")
    nat = sdk_kind("NAT gateway", _FAMILY, "network", "nat_gateway", scope_field="vcn_id")
    # list_service_gateways has no display_name filter.
    sgw = sdk_kind(
        "service gateway", _FAMILY, "network", "service_gateway", scope_field="vcn_id", by_name=False
    )
    rt = sdk_kind("route table", _FAMILY, "network", "route_table", scope_field="vcn_id")
    sl = sdk_kind("security list", _FAMILY, "network", "security_list", scope_field="vcn_id")
    fixed = frozenset({"dns_label", "prohibit_public_ip_on_vnic"})
    sub = sdk_kind(
        "subnet", _FAMILY, "network", "subnet", scope_field="vcn_id", immutable=fixed, releases_vnics=True
    )
    vcn_spec = {"cidr_blocks": [net.vcn_cidr], "dns_label": _label(p)}
    out = [
        Resource("network.vcn", vcn_kind, f"{p}-vcn", lambda s: vcn_spec, show=("cidr_blocks",)),
        child("network.igw", igw, f"{p}-igw", lambda s: {"is_enabled": True}),
    ]
    if private_net:
        services = {"services": [m.ServiceIdRequestDetails(service_id=facts.services_id)]}
        out += [
            child("network.nat", nat, f"{p}-nat", lambda s: {}),
            child("network.sgw", sgw, f"{p}-sgw", lambda s: services),
        ]
    out.append(child("network.rt-public", rt, f"{p}-public-rt", public_routes, ("network.igw",)))
    if private_net:
        out.append(
            child("network.rt-private", rt, f"{p}-private-rt", private_routes, ("network.nat", "network.sgw"))
        )
    out.append(child("network.security-list", sl, f"{p}-egress", lambda s: egress))
    public = subnet(net.public_subnet_cidr, "network.rt-public", False, "pub")
    deps = ("network.security-list",)
    out.append(
        child(
            "network.subnet-public", sub, f"{p}-public", public, (*deps, "network.rt-public"), ("cidr_block",)
        )
    )
    if private_net:
        private = subnet(net.private_subnet_cidr, "network.rt-private", True, "fn")
        out.append(
            child(
                "network.subnet-private",
                sub,
                f"{p}-private",
                private,
                (*deps, "network.rt-private"),
                ("cidr_block",),
            )
        )
    return [*out, nsg]


def _label(prefix: str) -> str:
    """A VCN DNS label: letters and digits, starting with a letter, at most 15."""
    return "".join(ch for ch in prefix if ch.isalnum())[:15]
