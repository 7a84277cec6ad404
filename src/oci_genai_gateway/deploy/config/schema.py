"""The deploy config's shape: frozen dataclasses, one per TOML table (deploy/gateway.example.toml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# The gateway's four functions (functions/<name>/), one image each.
FUNCTIONS = ("chat", "embeddings", "moderations", "models", "authorizer")


@dataclass(frozen=True)
class AuthConfig:
    """How to authenticate, like the OCI CLI; None means detect (Cloud Shell, then the config file)."""

    method: str | None = None
    config_file: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class IdentityConfig:
    """Where dynamic groups live: an identity domain (tenancies since 2023) or legacy IAM."""

    mode: str = "auto"
    domain: str = "Default"


@dataclass(frozen=True)
class NetworkConfig:
    """The VCN to create, or existing subnets to use instead."""

    vcn_cidr: str = "10.0.0.0/16"
    public_subnet_cidr: str = "10.0.0.0/24"
    private_subnet_cidr: str = "10.0.1.0/24"
    ssh_cidr: str | None = None
    vcn_id: str | None = None
    public_subnet_id: str | None = None
    private_subnet_id: str | None = None

    @property
    def reuse(self) -> bool:
        """True when the subnets are given (nothing but NSGs is created in the network)."""
        return self.vcn_id is not None


@dataclass(frozen=True)
class KeysConfig:
    """Where the bearer keys come from and which Vault holds them."""

    source: str = "generate"
    names: tuple[str, ...] = ("default",)
    env_var: str = "GATEWAY_DEPLOY_API_KEYS"
    vault_id: str | None = None
    key_id: str | None = None


@dataclass(frozen=True)
class GatewayConfig:
    """The gateway's own settings, for the functions or the VM alike."""

    cors_origins: tuple[str, ...] = ()
    model_aliases: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    settings: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ApiGatewayConfig:
    """The API Gateway deployment's settings (apigw/README.md placeholders)."""

    cors_max_age_seconds: int = 600
    rate_limit_rps: int = 10
    execution_log_level: str = "WARN"
    # False: no usage plans; API Gateway forwards every call the authorizer admits, and the
    # functions enforce each key's rate and quota themselves (per function instance).
    usage_plans: bool = True


@dataclass(frozen=True)
class FunctionsConfig:
    """The Functions application."""

    chat_provisioned_concurrency: int = 0
    shape: str = "GENERIC_X86"


@dataclass(frozen=True)
class ImagesConfig:
    """Function images: built and pushed here, or given as references."""

    build: str = "auto"
    tool: str | None = None
    repository: str | None = None
    registry: str | None = None
    refs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ComposeConfig:
    """The compose target's VM."""

    site_address: str = ""
    repo_url: str = ""
    ref: str = "main"
    shape: str = "VM.Standard.E5.Flex"
    ocpus: int = 1
    memory_gbs: int = 8
    boot_volume_gbs: int = 50
    image_id: str | None = None
    availability_domain: str | None = None
    ssh_public_key: str | None = None


@dataclass(frozen=True)
class LoggingConfig:
    """OCI Logging service logs."""

    enabled: bool = True
    retention_days: int = 30


@dataclass(frozen=True)
class DeployConfig:
    """Everything `deploy` needs; see deploy/gateway.example.toml."""

    region: str
    compartment_id: str
    prefix: str
    target: str
    tenancy_id: str | None = None
    # Every region the gateway serves models from (GATEWAY_REGIONS), `region` first; empty: `region` only.
    regions: tuple[str, ...] = ()
    auth: AuthConfig = AuthConfig()
    identity: IdentityConfig = IdentityConfig()
    network: NetworkConfig = NetworkConfig()
    keys: KeysConfig = KeysConfig()
    gateway: GatewayConfig = GatewayConfig()
    api_gateway: ApiGatewayConfig = ApiGatewayConfig()
    functions: FunctionsConfig = FunctionsConfig()
    images: ImagesConfig = ImagesConfig()
    compose: ComposeConfig = ComposeConfig()
    logging: LoggingConfig = LoggingConfig()

    @property
    def metrics_namespace(self) -> str:
        """The gateway's OCI Monitoring namespace: one per deployment, so IAM can be scoped to it."""
        return f"genai_gateway_{self.prefix.replace('-', '_')}"

    @property
    def owner_tags(self) -> dict[str, str]:
        """The freeform tag that marks what this deployment owns."""
        return {"oci-genai-gateway": self.prefix}
