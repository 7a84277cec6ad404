"""Compose target: the VM from deploy/compose/cloud-init.yaml and its reserved public IP."""

from __future__ import annotations

import base64
import importlib.resources
import json
import re
from pathlib import Path
from typing import Any

import yaml

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import Changes, Context, Resource, Spec, State, is_pending
from oci_genai_gateway.deploy.engine.sdk_calls import list_all
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.facts import Facts

# deploy/compose in the repository, shipped in the package as data (pyproject.toml package-dir).
COMPOSE_PACKAGE = "oci_genai_gateway.deploy.compose"


def compose_file(name: str) -> str:
    """A file of deploy/compose, from the installed package."""
    return importlib.resources.files(COMPOSE_PACKAGE).joinpath(name).read_text(encoding="utf-8")


ENV_PATH = "/etc/oci-genai-gateway/gateway.env"
SOURCE_PATH = "/etc/oci-genai-gateway/source.env"
KEYS_SCRIPT = "/usr/local/sbin/oci-genai-gateway-keys"
DROP_IN = "/etc/systemd/system/oci-genai-gateway.service.d/keys.conf"
_SAFE = re.compile(r"^[A-Za-z0-9._/:@~+-]+$")

# Reads the keys secret with the VM's instance principal, inside the gateway image (it has the SDK):
# GATEWAY_API_KEYS as compact JSON, keys with their policies (one env-file line, no spaces).
_READ_KEYS = (
    "import base64,json,sys,oci\n"
    "s=oci.auth.signers.InstancePrincipalsSecurityTokenSigner()\n"
    "b=oci.secrets.SecretsClient({},signer=s).get_secret_bundle(sys.argv[1]).data.secret_bundle_content.content\n"
    'print(json.dumps(json.loads(base64.b64decode(b))["keys"],separators=(",",":")))'
)


def keys_script(secret_id: str) -> str:
    """Before the stack starts: GATEWAY_API_KEYS from Vault into gateway.env, so user data holds no key."""
    return f"""#!/bin/sh
# Written by oci-genai-gateway deploy. The VM's dynamic group may read this one secret; the group
# names this VM, so deploy creates it (and the policy) after the VM: up to 10 minutes of retries.
set -eu
SECRET_ID='{secret_id}'
READ='{_READ_KEYS}'
umask 077
for attempt in $(seq 1 60); do
  if keys=$(podman run --rm --network host --entrypoint python \\
      localhost/oci-genai-gateway:latest -c "$READ" "$SECRET_ID"); then
    grep -v '^GATEWAY_API_KEYS=' {ENV_PATH} > {ENV_PATH}.new || true
    printf 'GATEWAY_API_KEYS=%s\\n' "$keys" >> {ENV_PATH}.new
    mv {ENV_PATH}.new {ENV_PATH}
    exit 0
  fi
  sleep 10
done
echo "cannot read the API keys secret $SECRET_ID" >&2
exit 1
"""


def gateway_env(config: DeployConfig) -> str:
    """gateway.env.example with this deployment's values; GATEWAY_API_KEYS is filled at boot from Vault."""
    values = {
        "GATEWAY_SITE_ADDRESS": config.compose.site_address,
        "GATEWAY_AUTH": "instance_principal",
        "GATEWAY_REGION": config.region,
        "GATEWAY_COMPARTMENT_ID": config.compartment_id,
        "GATEWAY_METRICS_NAMESPACE": config.metrics_namespace,
    }
    if config.regions:
        values["GATEWAY_REGIONS"] = ",".join(config.regions)
    if config.gateway.cors_origins:
        values["GATEWAY_CORS_ORIGINS"] = ",".join(config.gateway.cors_origins)
    if config.gateway.model_aliases:
        values["GATEWAY_MODEL_ALIASES"] = json.dumps(dict(config.gateway.model_aliases), sort_keys=True)
    values.update(config.gateway.settings)
    lines = []
    for line in compose_file("gateway.env.example").splitlines():
        name, sep, value = line.partition("=")
        if line.startswith("#") or not sep or name == "GATEWAY_API_KEYS":
            continue
        lines.append(f"{name}={values.pop(name, value)}")
    lines += [f"{name}={value}" for name, value in values.items()]
    for line in lines:
        if "<" in line or "\n" in line:
            raise ConfigError(f"gateway.env line {line.split('=')[0]} would hold a placeholder or newline")
    return "\n".join(lines) + "\n"


def user_data(config: DeployConfig, secret_id: str) -> str:
    """deploy/compose/cloud-init.yaml filled in for this deployment (cloud-config YAML)."""
    for what, value in (("compose.repo_url", config.compose.repo_url), ("compose.ref", config.compose.ref)):
        if not _SAFE.match(value):
            raise ConfigError(f"{what} {value!r} has characters a shell would interpret")
    doc = yaml.safe_load(compose_file("cloud-init.yaml"))
    files = {f["path"]: f for f in doc["write_files"]}
    files[SOURCE_PATH]["content"] = (
        f"GATEWAY_REPO={config.compose.repo_url}\nGATEWAY_REF={config.compose.ref}\n"
    )
    files[ENV_PATH]["content"] = gateway_env(config)
    doc["write_files"] += [
        {"path": KEYS_SCRIPT, "permissions": "0700", "content": keys_script(secret_id)},
        {
            "path": DROP_IN,
            "permissions": "0644",
            "content": f"[Service]\nExecStartPre=/usr/bin/podman-compose build\nExecStartPre={KEYS_SCRIPT}\n",
        },
    ]
    # The reserved public IP is attached after the VM runs; until then there is no route out, so wait
    # for the internet before cloud-init installs packages.
    wait = (
        "for i in $(seq 1 60); do timeout 5 sh -c '</dev/tcp/archive.ubuntu.com/80' && break; sleep 5; done"
    )
    doc["bootcmd"] = [["bash", "-c", wait], *doc.get("bootcmd", [])]
    return "#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=4096)


class PublicIpKind(SdkKind):
    """A reserved public IP; the spec names the instance, whose primary private IP it is attached to."""

    def _private_ip(self, ctx: Context, instance_id: str) -> str:
        network = ctx.clients.network
        attachments = list_all(
            ctx.clients.compute.list_vnic_attachments, ctx.compartment_id, instance_id=instance_id
        )
        for attachment in attachments:
            if attachment.lifecycle_state != "ATTACHED":
                continue
            for ip in list_all(network.list_private_ips, vnic_id=attachment.vnic_id):
                if ip.is_primary:
                    return str(ip.id)
        raise DeployError(f"instance {instance_id} has no attached primary private IP yet; apply again")

    def _resolve(self, ctx: Context, spec: Spec) -> Spec:
        instance = spec["instance_id"]
        private = instance if is_pending(instance) else self._private_ip(ctx, instance)
        return {"private_ip_id": private}

    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """Reserve and attach in one call."""
        return super().create(ctx, res, scope, {"lifetime": "RESERVED", **self._resolve(ctx, spec)}, tags)

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Re-attach (a replaced VM has a new private IP)."""
        return super().update(ctx, res, scope, live, self._resolve(ctx, changed), tags)

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """Attached to the instance's primary private IP?"""
        if is_pending(spec["instance_id"]):
            return {"instance_id": (live.private_ip_id, spec["instance_id"])}
        wanted = self._resolve(ctx, spec)["private_ip_id"]
        return {} if live.private_ip_id == wanted else {"instance_id": (live.private_ip_id, wanted)}


def _vm_kind() -> SdkKind:
    everything = frozenset(
        {"availability_domain", "shape", "shape_config", "source_details", "create_vnic_details", "metadata"}
    )
    # Compute launches (LaunchInstanceDetails) and terminates instances; the boot volume goes with the VM.
    return sdk_kind(
        "compute instance",
        "instance-family",
        "compute",
        "instance",
        create_verb="launch",
        delete_call=lambda c, scope, i: c.terminate_instance(i, preserve_boot_volume=False),
        ready=("RUNNING",),
        # User data runs once, at first boot: any change means a new VM (the reserved IP moves over).
        immutable=everything,
        replaceable=True,
    )


def _ip_kind() -> SdkKind:
    # Reserved IPs are regional (scope REGION) and have no name filter.
    return sdk_kind(
        "reserved public IP",
        "virtual-network-family",
        "network",
        "public_ip",
        cls=PublicIpKind,
        lister=lambda c, compartment, scope, name: list_all(
            c.list_public_ips, "REGION", compartment, lifetime="RESERVED"
        ),
        ready=("ASSIGNED",),
    )


def resources(config: DeployConfig, facts: Facts) -> list[Resource]:
    """The VM (Ubuntu 24.04, the cloud-init, the VM NSG) and its reserved public IP."""
    import oci

    m = oci.core.models
    p = config.prefix
    cc = config.compose

    def vm(s: State) -> Spec:
        live = s.live("compose.vm")
        # Keep the image the VM was launched from: a newer platform image must not replace it.
        image = cc.image_id or (live.image_id if live is not None else facts.image_id)
        metadata = {"user_data": base64.b64encode(user_data(config, s.ocid("keys.secret")).encode()).decode()}
        if cc.ssh_public_key:
            metadata["ssh_authorized_keys"] = _ssh_key(cc.ssh_public_key)
        return {
            "availability_domain": facts.availability_domain,
            "shape": cc.shape,
            "shape_config": m.LaunchInstanceShapeConfigDetails(
                ocpus=float(cc.ocpus), memory_in_gbs=float(cc.memory_gbs)
            ),
            "source_details": m.InstanceSourceViaImageDetails(
                image_id=image, boot_volume_size_in_gbs=cc.boot_volume_gbs
            ),
            "create_vnic_details": m.CreateVnicDetails(
                subnet_id=s.ocid("network.subnet-public"),
                assign_public_ip=False,
                nsg_ids=[s.ocid("network.nsg")],
            ),
            "metadata": metadata,
        }

    return [
        Resource(
            "compose.vm",
            _vm_kind(),
            f"{p}-gateway-vm",
            vm,
            depends_on=("network.subnet-public", "network.nsg", "keys.secret"),
            digest_fields=frozenset(
                {"availability_domain", "source_details", "create_vnic_details", "metadata"}
            ),
            show=("shape",),
        ),
        Resource(
            "compose.public-ip",
            _ip_kind(),
            f"{p}-gateway-ip",
            lambda s: {"instance_id": s.ocid("compose.vm")},
            depends_on=("compose.vm",),
        ),
    ]


def _ssh_key(value: str) -> str:
    path = Path(value).expanduser()
    if not value.startswith(("ssh-", "ecdsa-")) and path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return value
