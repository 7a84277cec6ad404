"""The whole desired deployment for one config: resources in dependency order, and what is reused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.resource_model import Resource, State
from oci_genai_gateway.deploy.resources import (
    api_gateway,
    compose_vm,
    container_images,
    functions,
    identity,
    network,
    scaled,
    service_logs,
    vault,
)
from oci_genai_gateway.deploy.resources.container_images import Builder
from oci_genai_gateway.deploy.resources.facts import Facts


@dataclass(frozen=True)
class Stack:
    """Resources in creation order (destroy runs it backwards) and the OCIDs of reused resources."""

    config: DeployConfig
    facts: Facts
    resources: tuple[Resource, ...]
    external: Mapping[str, str]

    def policy_statements(self) -> list[str]:
        """The IAM statements as they will read once the secret exists (for the reviewer's page)."""
        state = State(self.external)
        return list(identity.policy(self.config, self.facts).spec(state)["statements"])


def build(config: DeployConfig, facts: Facts, builder: Builder, env: Mapping[str, str]) -> Stack:
    """Assemble the stack for the config's target."""
    external: dict[str, str] = {}
    net = config.network
    if net.reuse:
        external["network.vcn"] = str(net.vcn_id)
        external["network.subnet-public"] = str(net.public_subnet_id)
        if net.private_subnet_id is not None:
            external["network.subnet-private"] = net.private_subnet_id
    key_resources, given = vault.resources(config, env)
    external.update(given)
    out: list[Resource] = [
        *network.resources(config, facts),
        identity.dynamic_group(config, facts),
        *key_resources,
        identity.policy(config, facts),
    ]
    if config.target == "serverless":
        out += container_images.resources(config, facts, builder)
        out += functions.resources(config, facts)
        out += api_gateway.resources(config)
        out += service_logs.resources(config)
    elif config.target == "scaled":
        out += scaled.resources(config, facts)
    else:
        out += compose_vm.resources(config, facts)
    _check_order(out, external)
    return Stack(config, facts, tuple(out), external)


def _check_order(resources: list[Resource], external: Mapping[str, str]) -> None:
    """Every dependency is reused or comes earlier: creation order is the list order."""
    seen: set[str] = set(external)
    for res in resources:
        missing = [dep for dep in res.depends_on if dep not in seen]
        if missing:
            raise AssertionError(f"{res.key} depends on {missing}, which come later or nowhere")
        if res.key in seen:
            raise AssertionError(f"{res.key} appears twice")
        seen.add(res.key)
