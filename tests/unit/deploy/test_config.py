"""The deploy config: the example parses, defaults are what the docs say, errors name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.config.loader import load, parse
from tests.paths import REPO
from tests.unit.deploy.conftest import BASE, COMPOSE, config, merge

EXAMPLE = REPO / "deploy" / "gateway.example.toml"


def test_the_example_config_parses_with_the_documented_defaults() -> None:
    cfg = load(EXAMPLE)
    assert (cfg.region, cfg.prefix, cfg.target) == ("us-chicago-1", "genai", "serverless")
    assert cfg.owner_tags == {"oci-genai-gateway": "genai"}
    assert cfg.keys.names == ("default",)
    assert cfg.keys.source == "generate"
    assert cfg.network.vcn_cidr == "10.0.0.0/16"
    assert not cfg.network.reuse
    assert cfg.network.ssh_cidr is None
    assert cfg.api_gateway.rate_limit_rps == 10
    assert cfg.functions.chat_provisioned_concurrency == 0
    assert cfg.identity.mode == "auto"
    assert dict(cfg.images.refs) == {}
    assert cfg.logging.retention_days == 30


def test_minimal_config() -> None:
    cfg = parse(BASE)
    assert cfg.auth.method is None
    assert cfg.compose.site_address == ""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"deployment": {"region": "Chicago"}}, "deployment.region"),
        ({"deployment": {"compartment_id": "ocid1.vcn.oc1..x"}}, "deployment.compartment_id"),
        ({"deployment": {"prefix": "Gen AI"}}, "deployment.prefix"),
        ({"deployment": {"target": "kubernetes"}}, "deployment.target"),
        ({"deployment": {"regoin": "us-chicago-1"}}, "unknown key deployment.regoin"),
        ({"netwrok": {}}, "unknown key netwrok"),
        ({"network": {"public_subnet_cidr": "10.9.0.0/24"}}, "network.public_subnet_cidr"),
        ({"network": {"private_subnet_cidr": "10.0.0.128/25"}}, "overlap"),
        ({"network": {"vcn_cidr": "10.0.0.0/33"}}, "network.vcn_cidr"),
        ({"network": {"ssh_cidr": "10.0.0.0/8"}}, "network.ssh_cidr is only for target = 'compose'"),
        ({"network": {"vcn_id": "ocid1.vcn.oc1..v"}}, "network.public_subnet_id is required"),
        ({"keys": {"names": ["a b"]}}, "keys.names"),
        ({"keys": {"names": ["a", "a"]}}, "twice"),
        ({"keys": {"vault_id": "ocid1.vault.oc1..v"}}, "keys.key_id is required"),
        ({"keys": {"source": "file"}}, "keys.source"),
        ({"gateway": {"cors_origins": ["app.example.com"]}}, "gateway.cors_origins"),
        (
            {"gateway": {"settings": {"GATEWAY_REGION": "x"}}},
            "gateway.settings.GATEWAY_REGION is set by deploy",
        ),
        ({"gateway": {"settings": {"LOG": "x"}}}, "gateway.settings.LOG"),
        ({"gateway": {"model_aliases": {"fast": 3}}}, "gateway.model_aliases.fast"),
        ({"api_gateway": {"rate_limit_rps": 0}}, "api_gateway.rate_limit_rps"),
        ({"api_gateway": {"execution_log_level": "DEBUG"}}, "api_gateway.execution_log_level"),
        ({"functions": {"chat_provisioned_concurrency": "5"}}, "functions.chat_provisioned_concurrency"),
        ({"functions": {"shape": "GENERIC_X86_ARM"}}, "functions.shape = 'GENERIC_X86_ARM' needs"),
        ({"images": {"refs": {"chat": "x:1"}}}, "images.refs must name all"),
        ({"images": {"build": "sometimes"}}, "images.build"),
        ({"logging": {"retention_days": 45}}, "logging.retention_days"),
        ({"auth": {"method": "password"}}, "auth.method"),
        ({"identity": {"mode": "both"}}, "identity.mode"),
    ],
)
def test_errors_name_the_key(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(merge(BASE, extra))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"compose": {"site_address": "not a host"}}, "compose.site_address"),
        ({"compose": {"repo_url": "git@github.com:x/y.git"}}, "compose.repo_url"),
        ({"network": {"ssh_cidr": "0.0.0.0/0"}}, "not the whole internet"),
        ({"compose": {"boot_volume_gbs": 10}}, "compose.boot_volume_gbs"),
    ],
)
def test_compose_errors_name_the_key(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(merge(merge(BASE, COMPOSE), extra))


def test_reused_network_and_vault() -> None:
    cfg = config(
        {
            "network": {
                "vcn_id": "ocid1.vcn.oc1..v",
                "public_subnet_id": "ocid1.subnet.oc1..a",
                "private_subnet_id": "ocid1.subnet.oc1..b",
            },
            "keys": {"vault_id": "ocid1.vault.oc1..v", "key_id": "ocid1.key.oc1..k"},
        }
    )
    assert cfg.network.reuse
    assert (cfg.keys.vault_id, cfg.keys.key_id) == ("ocid1.vault.oc1..v", "ocid1.key.oc1..k")


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[deployment\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad)


def test_provisioned_concurrency_is_counted_in_pcus_for_the_chat_memory() -> None:
    from oci_genai_gateway.core.errors import ConfigError
    from oci_genai_gateway.deploy.resources.facts import Facts
    from oci_genai_gateway.deploy.resources.functions import func_limits, pcu_step, resources

    # OCI's table: 128 MB -> 40, 256 MB -> 20, 512 MB and above -> 10.
    assert [pcu_step(m) for m in (128, 256, 512, 1024, 2048, 3072)] == [40, 20, 10, 10, 10, 10]
    assert func_limits("chat").memory_in_mbs == 512
    facts = Facts(tenancy_id="t")
    with pytest.raises(ConfigError, match=r"chat_provisioned_concurrency = 5: .* multiple of 10"):
        resources(config({"functions": {"chat_provisioned_concurrency": 5}}), facts)
    for ok in (0, 10, 20, 150):
        resources(config({"functions": {"chat_provisioned_concurrency": ok}}), facts)
