"""The whole desired deployment for one config: resources in dependency order, and what is reused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
from oci_genai_gateway.deploy.resources.facts import Facts
from oci_genai_gateway.deploy.resources.image_build import Builder


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


def build(
    config: DeployConfig,
    facts: Facts,
    builder: Builder,
    env: Mapping[str, str],
    source: Path | None = None,
) -> Stack:
    """Assemble the stack for the config's target; `source`: the source tree, to build images from."""
    external: dict[str, str] = {}
    net = config.network
    if net.reuse:
        external["network.vcn"] = str(net.vcn_id)
        external["network.subnet-public"] = str(net.public_subnet_id)
        if net.private_subnet_id is not None:
            external["network.subnet-private"] = net.private_subnet_id
    key_resources, given = vault.resources(config, env)
    external.update(given)
    out: list[Resource] = [*network.resources(config, facts)]
    if config.target == "serverless":
        out += key_resources
        # The dynamic groups name the functions by OCID: IAM comes after them (the functions need
        # their grants only when invoked, through the API gateway created next).
        out += container_images.resources(config, facts, builder, source)
        out += functions.resources(config, facts, source)
        out += [*identity.dynamic_groups(config, facts), identity.policy(config, facts)]
        out += api_gateway.resources(config)
        out += service_logs.resources(config)
    elif config.target == "scaled":
        # The pool's group is compartment-wide, so it and the policy exist before any instance boots.
        out += key_resources
        out += [*identity.dynamic_groups(config, facts), identity.policy(config, facts)]
        out += scaled.resources(config, facts)
    else:
        # The VM's group names it by OCID, so it comes after the VM; the VM's boot step retries
        # reading its keys until the group and policy apply (compose_vm.keys_script).
        out += key_resources
        out += compose_vm.resources(config, facts)
        out += [*identity.dynamic_groups(config, facts), identity.policy(config, facts)]
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
