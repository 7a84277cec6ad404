"""Authenticate like the OCI CLI and build every SDK client from one injectable factory."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.config.schema import AuthConfig

# Short names for the SDK clients deploy uses; tests pass autospec'd mocks under the same names.
CLIENT_CLASSES: Mapping[str, str] = {
    "network": "core.VirtualNetworkClient",
    "compute": "core.ComputeClient",
    "identity": "identity.IdentityClient",
    "identity_domains": "identity_domains.IdentityDomainsClient",
    "vaults": "vault.VaultsClient",
    "kms_vault": "key_management.KmsVaultClient",
    "kms_management": "key_management.KmsManagementClient",
    "secrets": "secrets.SecretsClient",
    "functions": "functions.FunctionsManagementClient",
    "gateway": "apigateway.GatewayClient",
    "deployment": "apigateway.DeploymentClient",
    "usage_plans": "apigateway.UsagePlansClient",
    "subscribers": "apigateway.SubscribersClient",
    "monitoring": "monitoring.MonitoringClient",
    "logging": "logging.LoggingManagementClient",
    "artifacts": "artifacts.ArtifactsClient",
    "object_storage": "object_storage.ObjectStorageClient",
    "generative_ai": "generative_ai.GenerativeAiClient",
}

# (name, service_endpoint or None, region) -> client
ClientMaker = Callable[[str, str | None, str], Any]


@dataclass(frozen=True)
class Credentials:
    """What every SDK client needs: a config dict and, for token-based methods, a signer."""

    method: str
    config: Mapping[str, Any]
    signer: Any | None
    tenancy_id: str | None


def detect_method(auth: AuthConfig, env: Mapping[str, str], profile: Mapping[str, Any] | None) -> str:
    """The OCI CLI's choice: explicit, then OCI_CLI_AUTH (Cloud Shell), then what the profile holds."""
    if auth.method:
        return auth.method
    cli = env.get("OCI_CLI_AUTH", "")
    # Cloud Shell sets OCI_CLI_AUTH=instance_obo_user: a delegation token acting as the signed-in user.
    if cli == "instance_obo_user":
        return "delegation_token"
    if cli in ("api_key", "security_token", "instance_principal", "resource_principal"):
        return cli
    if env.get("OCI_RESOURCE_PRINCIPAL_VERSION"):
        return "resource_principal"
    if profile is not None and profile.get("security_token_file"):
        return "security_token"
    return "api_key"


def config_location(auth: AuthConfig, env: Mapping[str, str]) -> tuple[str, str]:
    """The config file and profile, with the OCI CLI's environment overrides."""
    path = auth.config_file or env.get("OCI_CLI_CONFIG_FILE") or env.get("OCI_CONFIG_FILE") or "~/.oci/config"
    profile = auth.profile or env.get("OCI_CLI_PROFILE") or env.get("OCI_CONFIG_PROFILE") or "DEFAULT"
    return str(Path(path).expanduser()), profile


def authenticate(auth: AuthConfig, region: str, env: Mapping[str, str] | None = None) -> Credentials:
    """Build the credentials the OCI CLI would use; errors say what to fix."""
    import oci

    env = os.environ if env is None else env
    path, profile_name = config_location(auth, env)
    profile: dict[str, Any] | None = None
    if Path(path).is_file():
        try:
            profile = dict(oci.config.from_file(path, profile_name))
        except oci.exceptions.ProfileNotFound:
            profile = None
    method = detect_method(auth, env, profile)
    if method in ("api_key", "security_token", "delegation_token") and profile is None:
        raise ConfigError(
            f"no OCI config profile [{profile_name}] in {path}: run `oci setup config` "
            "(or `oci session authenticate`), or set auth.method"
        )
    if method == "api_key":
        assert profile is not None
        oci.config.validate_config(profile)
        return Credentials(method, {**profile, "region": region}, None, profile.get("tenancy"))
    if method == "security_token":
        assert profile is not None
        token = Path(profile["security_token_file"]).expanduser().read_text(encoding="utf-8").strip()
        key = oci.signer.load_private_key_from_file(profile["key_file"], profile.get("pass_phrase"))
        signer = oci.auth.signers.SecurityTokenSigner(token, key)
        return Credentials(method, {"region": region}, signer, profile.get("tenancy"))
    if method == "delegation_token":
        assert profile is not None
        token_file = profile.get("delegation_token_file")
        if not token_file:
            raise ConfigError(
                f"profile [{profile_name}] in {path} has no delegation_token_file (Cloud Shell only)"
            )
        token = Path(token_file).expanduser().read_text(encoding="utf-8").strip()
        signer = oci.auth.signers.InstancePrincipalsDelegationTokenSigner(delegation_token=token)
        return Credentials(method, {"region": region}, signer, profile.get("tenancy"))
    if method == "instance_principal":
        signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
        return Credentials(method, {"region": region}, signer, getattr(signer, "tenancy_id", None))
    signer = oci.auth.signers.get_resource_principals_signer()
    return Credentials(method, {"region": region}, signer, getattr(signer, "tenancy_id", None))


def sdk_maker(credentials: Credentials) -> ClientMaker:
    """A ClientMaker that constructs real SDK clients signed with `credentials`."""
    import oci

    def make(name: str, endpoint: str | None, region: str) -> Any:
        module, cls_name = CLIENT_CLASSES[name].split(".")
        cls = getattr(getattr(oci, module), cls_name)
        config = {**credentials.config, "region": region}
        kwargs: dict[str, Any] = {}
        if credentials.signer is not None:
            kwargs["signer"] = credentials.signer
        if name in ("kms_management", "identity_domains"):
            # Both live at per-vault / per-domain URLs, given as the service endpoint.
            return cls(config, endpoint, **kwargs)
        if endpoint is not None:
            kwargs["service_endpoint"] = endpoint
        return cls(config, **kwargs)

    return make


class Clients:
    """Every SDK client deploy uses, made once each by a ClientMaker (real, offline or mocked)."""

    def __init__(self, make: ClientMaker, region: str, tenancy_id: str) -> None:
        self._make = make
        self.region = region
        self.tenancy_id = tenancy_id
        self._cache: dict[tuple[str, str | None, str], Any] = {}
        self._home_region: str | None = None

    def get(self, name: str, endpoint: str | None = None, region: str | None = None) -> Any:
        """The client `name` (see CLIENT_CLASSES), for the deploy region unless told otherwise."""
        key = (name, endpoint, region or self.region)
        if key not in self._cache:
            self._cache[key] = self._make(*key)
        return self._cache[key]

    def __getattr__(self, name: str) -> Any:
        if name in CLIENT_CLASSES:
            return self.get(name)
        raise AttributeError(name)

    @property
    def identity_home(self) -> Any:
        """IdentityClient in the home region: IAM writes are accepted only there."""
        if self._home_region is None:
            subscriptions = self.get("identity").list_region_subscriptions(self.tenancy_id).data
            homes = [s.region_name for s in subscriptions if s.is_home_region]
            self._home_region = homes[0] if homes else self.region
        return self.get("identity", region=self._home_region)
