"""Read the deploy config file (TOML) into config.schema's dataclasses; every error names its key."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.realms import check_one_realm
from oci_genai_gateway.deploy.config import tables
from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.config.toml_reader import Table

TARGETS = ("serverless", "compose", "scaled")
_REGION = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
# The prefix names every resource and becomes part of a DNS label, so keep it short and plain.
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")


def load(path: Path) -> DeployConfig:
    """Read and validate a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse(data)


def parse(data: Mapping[str, Any]) -> DeployConfig:
    """Validate parsed TOML; the first problem is raised as a ConfigError naming its key."""
    root = Table(data, "")
    dep = root.table("deployment")
    region = dep.req("region")
    if not _REGION.match(region):
        raise ConfigError(f"deployment.region {region!r} is not an OCI region name (e.g. us-chicago-1)")
    compartment = dep.req("compartment_id")
    tables.ocid(compartment, "deployment.compartment_id", ("compartment", "tenancy"))
    prefix = dep.req("prefix")
    if not _PREFIX.match(prefix):
        raise ConfigError(
            "deployment.prefix must be 2-16 lower-case letters, digits or '-', starting with a letter"
        )
    target = dep.choice("target", "serverless", TARGETS)
    tenancy = dep.text("tenancy_id")
    if tenancy is not None:
        tables.ocid(tenancy, "deployment.tenancy_id", ("tenancy",))
    regions = _regions(dep, region)
    dep.done()
    config = DeployConfig(
        region=region,
        compartment_id=compartment,
        prefix=prefix,
        target=target,
        tenancy_id=tenancy,
        regions=regions,
        auth=tables.auth(root.table("auth")),
        identity=tables.identity(root.table("identity")),
        network=tables.network(root.table("network"), target),
        keys=tables.keys(root.table("keys")),
        gateway=tables.gateway(root.table("gateway")),
        api_gateway=tables.api_gateway(root.table("api_gateway")),
        functions=tables.functions(root.table("functions")),
        images=tables.images(root.table("images")),
        compose=tables.compose(root.table("compose"), target),
        scaled=tables.scaled(root.table("scaled"), target),
        logging=tables.logging(root.table("logging")),
    )
    root.done()
    if target == "serverless" and config.functions.shape == "GENERIC_X86_ARM" and not config.images.refs:
        raise ConfigError(
            "functions.shape = 'GENERIC_X86_ARM' needs multi-architecture images: set images.refs"
        )
    return config


def _regions(dep: Table, region: str) -> tuple[str, ...]:
    """`deployment.regions`: the gateway's regions, `region` (the home one) first, all of one realm."""
    listed = dep.raw("regions")
    if listed is None:
        return ()
    if not isinstance(listed, list) or not all(isinstance(r, str) and _REGION.match(r) for r in listed):
        raise ConfigError('deployment.regions must be a list of OCI region names, e.g. ["us-chicago-1"]')
    names = tuple(dict.fromkeys(listed))
    if not names or names[0] != region:
        raise ConfigError(
            f"deployment.regions must begin with deployment.region ({region!r}), the home region"
        )
    try:
        check_one_realm(names)
    except ConfigError as exc:
        raise ConfigError(f"deployment.regions: {exc}") from None
    return names if len(names) > 1 else ()
