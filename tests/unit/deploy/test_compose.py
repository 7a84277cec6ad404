"""Compose target: the VM's user data from deploy/compose/, its network, IP, and replacement."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.engine.resource_model import Action
from oci_genai_gateway.deploy.resources.compose_vm import (
    DROP_IN,
    ENV_PATH,
    KEYS_SCRIPT,
    SOURCE_PATH,
    gateway_env,
    user_data,
)
from tests.unit.deploy.conftest import COMPARTMENT, COMPOSE, Deployer, config
from tests.unit.deploy.fake_tenancy import FakeTenancy

SECRET = "ocid1.vaultsecret.oc1..s"


def files(text: str) -> dict[str, dict[str, str]]:
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    return {f["path"]: f for f in doc["write_files"]}


def test_user_data_fills_in_the_shipped_cloud_init() -> None:
    cfg = config(COMPOSE, {"gateway": {"cors_origins": ["https://app.example.com"]}})
    text = user_data(cfg, SECRET)
    doc = yaml.safe_load(text)
    written = files(text)
    assert (
        written[SOURCE_PATH]["content"]
        == "GATEWAY_REPO=https://git.example.com/org/gw.git\nGATEWAY_REF=main\n"
    )
    env = dict(line.split("=", 1) for line in written[ENV_PATH]["content"].splitlines())
    assert written[ENV_PATH]["permissions"] == "0600"
    assert env["GATEWAY_SITE_ADDRESS"] == "gateway.example.com"
    assert env["GATEWAY_AUTH"] == "instance_principal"
    assert (env["GATEWAY_REGION"], env["GATEWAY_COMPARTMENT_ID"]) == ("us-chicago-1", COMPARTMENT)
    assert env["GATEWAY_CORS_ORIGINS"] == "https://app.example.com"
    assert env["GATEWAY_UPSTREAM_TIMEOUT"] == "120"  # the template's defaults stay
    assert "GATEWAY_API_KEYS" not in env  # the keys come from Vault at boot, never in user data
    assert all("<" not in f["content"] for path, f in written.items() if path != KEYS_SCRIPT)
    script = written[KEYS_SCRIPT]
    assert script["permissions"] == "0700"
    assert f"SECRET_ID='{SECRET}'" in script["content"]
    assert "InstancePrincipalsSecurityTokenSigner" in script["content"]
    assert written[DROP_IN]["content"].splitlines()[1:] == [
        "ExecStartPre=/usr/bin/podman-compose build",
        f"ExecStartPre={KEYS_SCRIPT}",
    ]
    # Packages wait for a route out (the reserved IP is attached after launch); the rest is unchanged.
    assert "archive.ubuntu.com" in doc["bootcmd"][0][2]
    assert doc["packages"] == ["git", "podman", "podman-compose"]
    assert any("systemctl" in " ".join(map(str, cmd)) for cmd in doc["runcmd"])


def test_repo_url_with_shell_characters_is_refused() -> None:
    cfg = config(COMPOSE, {"compose": {"repo_url": "https://x.example.com/$(reboot).git"}})
    with pytest.raises(ConfigError, match=r"compose\.repo_url"):
        user_data(cfg, SECRET)


def test_gateway_env_refuses_a_setting_with_a_placeholder() -> None:
    with pytest.raises(ConfigError, match="GATEWAY_LOG_LEVEL"):
        gateway_env(config(COMPOSE, {"gateway": {"settings": {"GATEWAY_LOG_LEVEL": "<level>"}}}))


def test_compose_apply_launches_the_vm_with_its_network_and_ip(deployer: Deployer) -> None:
    cfg = config(
        COMPOSE,
        {"network": {"ssh_cidr": "198.51.100.0/24"}, "compose": {"ssh_public_key": "ssh-ed25519 AAAA"}},
    )
    deployer.apply(cfg)
    tenancy = deployer.tenancy
    launch = tenancy.mutation_calls("launch_instance")[0].args[0]
    (subnet,) = tenancy.objects("subnet")
    (nsg,) = tenancy.objects("nsg")
    (secret,) = tenancy.objects("secret")
    assert (launch.shape, launch.shape_config.ocpus, launch.shape_config.memory_in_gbs) == (
        "VM.Standard.E5.Flex",
        1.0,
        8.0,
    )
    assert launch.availability_domain == "Uocm:US-CHICAGO-1-AD-1"
    assert launch.source_details.image_id == "ocid1.image.oc1..ubuntu"  # not the minimal image
    vnic = launch.create_vnic_details
    assert (vnic.subnet_id, vnic.assign_public_ip, vnic.nsg_ids) == (subnet.id, False, [nsg.id])
    assert launch.metadata["ssh_authorized_keys"] == "ssh-ed25519 AAAA"
    sent = base64.b64decode(launch.metadata["user_data"]).decode()
    assert sent == user_data(cfg, secret.id)
    rules = sorted(
        (r.tcp_options.destination_port_range.min, r.source)
        for r in tenancy.objects("rule")
        if r._nsg == nsg.id
    )
    assert rules == [(22, "198.51.100.0/24"), (80, "0.0.0.0/0"), (443, "0.0.0.0/0")]
    (ip,) = tenancy.objects("ip")
    (private,) = tenancy.objects("private_ip")
    assert (ip.lifetime, ip.private_ip_id, ip.display_name) == ("RESERVED", private.id, "genai-gateway-ip")
    assert not tenancy.objects("nat")
    assert not tenancy.objects("app")


def test_without_ssh_cidr_no_ssh_rule(deployer: Deployer) -> None:
    deployer.apply(config(COMPOSE))
    ports = {r.tcp_options.destination_port_range.min for r in deployer.tenancy.objects("rule")}
    assert ports == {80, 443}


def test_changed_user_data_replaces_the_vm_and_moves_the_ip(deployer: Deployer) -> None:
    deployer.apply(config(COMPOSE))
    tenancy: FakeTenancy = deployer.tenancy
    (old_vm,) = tenancy.objects("instance")
    changed = config(COMPOSE, {"compose": {"ref": "v2"}})
    plan = {c.resource.key: c.action for c in deployer.plan(changed) if c.action is not Action.NOOP}
    # The new VM's id is known only after it exists; apply then moves the IP and re-narrows the group.
    assert plan == {"compose.vm": Action.REPLACE}
    before = len(tenancy.mutations)
    deployer.apply(changed)
    assert tenancy.mutations[before:] == [
        ("compute", "terminate_instance"),
        ("compute", "launch_instance"),
        ("network", "update_public_ip"),
        ("identity_domains", "put_dynamic_resource_group"),
    ]
    new_vm = next(vm for vm in tenancy.objects("instance") if vm.lifecycle_state == "RUNNING")
    assert new_vm.id != old_vm.id
    (ip,) = tenancy.objects("ip")
    new_private = next(
        p for p in tenancy.objects("private_ip") if p.vnic_id != tenancy.objects("private_ip")[0].vnic_id
    )
    assert ip.private_ip_id == new_private.id
    assert all(c.action is Action.NOOP for c in deployer.plan(changed))


def test_a_newer_platform_image_does_not_replace_the_vm(deployer: Deployer, mocker: object) -> None:
    deployer.apply(config(COMPOSE))
    tenancy = deployer.tenancy
    original = tenancy._h_list_images

    def newer(*args: object, **kwargs: object) -> object:
        response = original(*args, **kwargs)
        for image in response.data:
            image.id += "-newer"
        return response

    tenancy._h_list_images = newer  # type: ignore[method-assign]
    assert all(c.action is Action.NOOP for c in deployer.plan(config(COMPOSE)))


def test_second_compose_apply_changes_nothing(deployer: Deployer) -> None:
    deployer.apply(config(COMPOSE))
    before = len(deployer.tenancy.mutations)
    deployer.apply(config(COMPOSE))
    # In particular the dynamic group is not widened and narrowed again on every apply.
    assert deployer.tenancy.mutations[before:] == []


def test_the_boot_step_writes_the_keys_with_their_policies_as_one_json_line(
    mocker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from oci_genai_gateway.core.access.policy import parse_env
    from oci_genai_gateway.deploy.resources import compose_vm as compose
    from oci_genai_gateway.deploy.resources.vault import encode

    entries = {"old": "sk-plain-0000000000000000", "team": {"key": "sk-team-00000000000000000", "rps": 5}}
    bundle = mocker.Mock()
    bundle.data.secret_bundle_content.content = encode(entries)
    mocker.patch("oci.auth.signers.InstancePrincipalsSecurityTokenSigner")
    mocker.patch("oci.secrets.SecretsClient").return_value.get_secret_bundle.return_value = bundle
    mocker.patch("sys.argv", ["-c", "ocid1.vaultsecret.oc1..s"])
    exec(compose._READ_KEYS, {"__name__": "__main__"})  # noqa: S102 - the script deploy writes to the VM
    line = capsys.readouterr().out.strip()
    assert " " not in line  # one env-file value, nothing a dotenv parser would cut
    table = parse_env(line)
    assert dict(table) == {"old": entries["old"], "team": "sk-team-00000000000000000"}
    assert table.policy("team").rps == 5
