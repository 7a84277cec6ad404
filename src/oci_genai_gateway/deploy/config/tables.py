"""One reader per table of the deploy config (after [deployment]); each rejects the keys it does not know."""

from __future__ import annotations

import ipaddress
import re
from types import MappingProxyType

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.config.schema import (
    FUNCTIONS,
    ApiGatewayConfig,
    AuthConfig,
    ComposeConfig,
    FunctionsConfig,
    GatewayConfig,
    IdentityConfig,
    ImagesConfig,
    KeysConfig,
    LoggingConfig,
    NetworkConfig,
    ScaledConfig,
)
from oci_genai_gateway.deploy.config.toml_reader import Table

AUTH_METHODS = ("api_key", "security_token", "instance_principal", "resource_principal", "delegation_token")
# The authorizer's key-name rule (authorizer.validated_keys).
_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LOG_LEVELS = ("INFO", "WARN", "ERROR")
_SET_BY_DEPLOY = (
    "GATEWAY_COMPARTMENT_ID",
    "GATEWAY_REGION",
    "GATEWAY_MODEL_ALIASES",
    "GATEWAY_API_KEYS",
    "GATEWAY_API_KEYS_SECRET_ID",
    "GATEWAY_AUTH",
    "GATEWAY_SITE_ADDRESS",
    "GATEWAY_CORS_ORIGINS",
    "GATEWAY_METRICS_NAMESPACE",
)


def auth(t: Table) -> AuthConfig:
    method = t.text("method")
    if method is not None and method not in AUTH_METHODS:
        raise ConfigError(f"auth.method must be one of {list(AUTH_METHODS)}, not {method!r}")
    out = AuthConfig(method=method, config_file=t.text("config_file"), profile=t.text("profile"))
    t.done()
    return out


def identity(t: Table) -> IdentityConfig:
    out = IdentityConfig(
        mode=t.choice("mode", "auto", ("auto", "domains", "legacy")), domain=t.text("domain") or "Default"
    )
    t.done()
    return out


def network(t: Table, target: str) -> NetworkConfig:
    vcn = t.text("vcn_cidr", "10.0.0.0/16") or ""
    public = t.text("public_subnet_cidr", "10.0.0.0/24") or ""
    private = t.text("private_subnet_cidr", "10.0.1.0/24") or ""
    nets = {
        name: cidr(value, t.key(name)) for name, value in (("vcn_cidr", vcn), ("public_subnet_cidr", public))
    }
    nets["private_subnet_cidr"] = cidr(private, t.key("private_subnet_cidr"))
    for name in ("public_subnet_cidr", "private_subnet_cidr"):
        if not nets[name].subnet_of(nets["vcn_cidr"]):
            raise ConfigError(f"{t.key(name)} {nets[name]} is not inside network.vcn_cidr {nets['vcn_cidr']}")
    if nets["public_subnet_cidr"].overlaps(nets["private_subnet_cidr"]):
        raise ConfigError("network.public_subnet_cidr and network.private_subnet_cidr overlap")
    ssh = t.text("ssh_cidr")
    if ssh is not None:
        if cidr(ssh, t.key("ssh_cidr")).prefixlen == 0:
            raise ConfigError("network.ssh_cidr must be your administration range, not the whole internet")
        if target != "compose":
            raise ConfigError("network.ssh_cidr is only for target = 'compose' (there is no VM otherwise)")
    vcn_id, pub_id, priv_id = t.text("vcn_id"), t.text("public_subnet_id"), t.text("private_subnet_id")
    given = [v for v in (vcn_id, pub_id, priv_id) if v is not None]
    if given:
        needed = {"vcn_id": vcn_id, "public_subnet_id": pub_id}
        if target == "serverless":
            needed["private_subnet_id"] = priv_id
        for name, value in needed.items():
            if value is None:
                raise ConfigError(
                    f"{t.key(name)} is required when reusing a network (give all of {sorted(needed)})"
                )
        ocid(vcn_id or "", t.key("vcn_id"), ("vcn",))
        ocid(pub_id or "", t.key("public_subnet_id"), ("subnet",))
        if priv_id is not None:
            ocid(priv_id, t.key("private_subnet_id"), ("subnet",))
    out = NetworkConfig(vcn, public, private, ssh, vcn_id, pub_id, priv_id)
    t.done()
    return out


def keys(t: Table) -> KeysConfig:
    source = t.choice("source", "generate", ("generate", "env"))
    names = t.strings("names", ("default",))
    for name in names:
        if not _KEY_NAME.match(name):
            raise ConfigError(f"keys.names: {name!r} must match {_KEY_NAME.pattern}")
    if len(set(names)) != len(names):
        raise ConfigError("keys.names has a name twice")
    if source == "generate" and not names:
        raise ConfigError("keys.names must name at least one key")
    vault, key = t.text("vault_id"), t.text("key_id")
    if vault is not None:
        ocid(vault, "keys.vault_id", ("vault",))
        if key is None:
            raise ConfigError(
                "keys.key_id is required with keys.vault_id (the master key the secret is encrypted with)"
            )
    if key is not None:
        ocid(key, "keys.key_id", ("key",))
        if vault is None:
            raise ConfigError("keys.vault_id is required with keys.key_id")
    out = KeysConfig(source, names, t.text("env_var") or "GATEWAY_DEPLOY_API_KEYS", vault, key)
    t.done()
    return out


def gateway(t: Table) -> GatewayConfig:
    origins = t.strings("cors_origins")
    for origin in origins:
        if not re.match(r"^https?://[^/\s]+$", origin):
            raise ConfigError(
                f"gateway.cors_origins: {origin!r} must be an origin like https://app.example.com"
            )
    settings = t.mapping("settings")
    for name, value in settings.items():
        if not re.match(r"^GATEWAY_[A-Z0-9_]+$", name) or not isinstance(value, str):
            raise ConfigError(f"gateway.settings.{name} must be a GATEWAY_* variable with a string value")
        if name in _SET_BY_DEPLOY:
            raise ConfigError(f"gateway.settings.{name} is set by deploy itself; remove it")
    aliases = t.mapping("model_aliases")
    for name, value in aliases.items():
        ok = isinstance(value, str) or (isinstance(value, dict) and set(value) == {"endpoint", "model"})
        if not ok:
            raise ConfigError(f"gateway.model_aliases.{name} must be a model name or {{endpoint, model}}")
    out = GatewayConfig(
        cors_origins=origins, model_aliases=MappingProxyType(aliases), settings=MappingProxyType(settings)
    )
    t.done()
    return out


def api_gateway(t: Table) -> ApiGatewayConfig:
    out = ApiGatewayConfig(
        cors_max_age_seconds=t.integer("cors_max_age_seconds", 600, 0, 86400),
        rate_limit_rps=t.integer("rate_limit_rps", 10, 1, 10000),
        execution_log_level=t.choice("execution_log_level", "WARN", _LOG_LEVELS),
        usage_plans=t.boolean("usage_plans", True),
    )
    t.done()
    return out


def functions(t: Table) -> FunctionsConfig:
    out = FunctionsConfig(
        chat_provisioned_concurrency=t.integer("chat_provisioned_concurrency", 0, 0, 1000),
        shape=t.choice("shape", "GENERIC_X86", ("GENERIC_X86", "GENERIC_ARM", "GENERIC_X86_ARM")),
    )
    t.done()
    return out


def images(t: Table) -> ImagesConfig:
    refs = t.mapping("refs")
    for name, ref in refs.items():
        if name not in FUNCTIONS or not isinstance(ref, str) or ":" not in ref:
            raise ConfigError(
                f"images.refs.{name}: give one of {list(FUNCTIONS)} an image reference with a tag"
            )
    if refs and set(refs) != set(FUNCTIONS):
        raise ConfigError(f"images.refs must name all of {list(FUNCTIONS)} (or none, to build them)")
    out = ImagesConfig(
        build=t.choice("build", "auto", ("auto", "never")),
        tool=t.choice("tool", "", ("", "fn", "docker", "podman")) or None,
        repository=t.text("repository"),
        registry=t.text("registry"),
        refs=MappingProxyType(refs),
    )
    t.done()
    return out


def compose(t: Table, target: str) -> ComposeConfig:
    site = t.text("site_address") or ""
    repo = t.text("repo_url") or ""
    if target == "scaled":
        if site:
            raise ConfigError(
                "compose.site_address is not for target = 'scaled': the load balancer has the name"
            )
        if not repo.startswith("https://"):
            raise ConfigError("compose.repo_url must be the https URL the VMs clone this repository from")
    if target == "compose":
        if not _HOST.match(site):
            raise ConfigError(
                "compose.site_address must be the DNS name clients use (e.g. gateway.example.com)"
            )
        if not repo.startswith("https://"):
            raise ConfigError("compose.repo_url must be the https URL the VM clones this repository from")
    image = t.text("image_id")
    if image is not None:
        ocid(image, "compose.image_id", ("image",))
    out = ComposeConfig(
        site_address=site,
        repo_url=repo,
        ref=t.text("ref") or "main",
        shape=t.text("shape") or "VM.Standard.E5.Flex",
        ocpus=t.integer("ocpus", 1, 1, 64),
        memory_gbs=t.integer("memory_gbs", 8, 1, 1024),
        boot_volume_gbs=t.integer("boot_volume_gbs", 50, 50, 32768),
        image_id=image,
        availability_domain=t.text("availability_domain"),
        ssh_public_key=t.text("ssh_public_key"),
    )
    t.done()
    return out


def scaled(t: Table, target: str) -> ScaledConfig:
    certificate = t.text("certificate_id") or ""
    if target == "scaled":
        ocid(certificate, "scaled.certificate_id", ("certificate",))
    low, high = t.integer("min_instances", 2, 1, 50), t.integer("max_instances", 4, 1, 50)
    if high < low:
        raise ConfigError("scaled.max_instances must be at least scaled.min_instances")
    scale_in, scale_out = t.integer("scale_in_cpu", 30, 1, 99), t.integer("scale_out_cpu", 70, 2, 100)
    if scale_in >= scale_out:
        raise ConfigError("scaled.scale_in_cpu must be below scaled.scale_out_cpu")
    lb_min, lb_max = t.integer("lb_min_mbps", 10, 10, 8000), t.integer("lb_max_mbps", 100, 10, 8000)
    if lb_max < lb_min:
        raise ConfigError("scaled.lb_max_mbps must be at least scaled.lb_min_mbps")
    out = ScaledConfig(
        certificate_id=certificate,
        min_instances=low,
        max_instances=high,
        scale_out_cpu=scale_out,
        scale_in_cpu=scale_in,
        # OCI allows 1-7200 s for an HTTP listener; below 310 a silent upstream would be cut by it.
        idle_timeout_seconds=t.integer("idle_timeout_seconds", 330, 310, 7200),
        drain_seconds=t.integer("drain_seconds", 330, 0, 3600),
        lb_min_mbps=lb_min,
        lb_max_mbps=lb_max,
        cache_memory_gbs=t.integer("cache_memory_gbs", 2, 2, 500),
        cache_nodes=t.integer("cache_nodes", 1, 1, 5),
        cache_version=t.choice("cache_version", "VALKEY_7_2", ("VALKEY_7_2", "REDIS_7_0")),
    )
    t.done()
    return out


def logging(t: Table) -> LoggingConfig:
    days = t.integer("retention_days", 30, 30, 180)
    if days % 30:
        raise ConfigError("logging.retention_days must be a multiple of 30 (OCI Logging's increments)")
    out = LoggingConfig(enabled=t.boolean("enabled", True), retention_days=days)
    t.done()
    return out


def cidr(value: str, key: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value)
    except ValueError:
        raise ConfigError(f"{key} {value!r} is not an IPv4 CIDR block like 10.0.0.0/16") from None


def ocid(value: str, key: str, kinds: tuple[str, ...]) -> None:
    if not any(value.startswith(f"ocid1.{kind}.") for kind in kinds):
        raise ConfigError(f"{key} must be an OCID (ocid1.{kinds[0]}...), not {value!r}")
