"""Authenticate like the OCI CLI, and make a command's SDK clients: signed, offline stubs, or given."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.commands.offline import offline_maker
from oci_genai_gateway.deploy.config.schema import AuthConfig, DeployConfig
from oci_genai_gateway.deploy.engine.clients import CLIENT_CLASSES, ClientMaker, Clients
from oci_genai_gateway.deploy.engine.retries import Sleep


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
        # Deploy's RetryingClient is the one retry layer (engine/retries.py); the client adds none.
        kwargs: dict[str, Any] = {"retry_strategy": oci.retry.NoneRetryStrategy()}
        if credentials.signer is not None:
            kwargs["signer"] = credentials.signer
        if name in ("kms_management", "identity_domains"):
            # Both live at per-vault / per-domain URLs, given as the service endpoint.
            return cls(config, endpoint, **kwargs)
        if endpoint is not None:
            kwargs["service_endpoint"] = endpoint
        return cls(config, **kwargs)

    return make


def clients_for(
    config: DeployConfig,
    offline: bool,
    maker: ClientMaker | None,
    env: Mapping[str, str],
    sleep: Sleep = time.sleep,
) -> Clients:
    """The clients of a command: offline stubs, the given maker (tests), or signed like the OCI CLI."""
    if offline:
        tenancy = config.tenancy_id or "<tenancy>"
        return Clients(offline_maker(config.identity.mode != "legacy"), config.region, tenancy, sleep)
    if maker is not None:
        return Clients(maker, config.region, config.tenancy_id or "<tenancy>", sleep)
    creds = authenticate(config.auth, config.region, env)
    tenancy = config.tenancy_id or creds.tenancy_id or ""
    if not tenancy:
        raise ConfigError("cannot tell the tenancy from these credentials: set deployment.tenancy_id")
    return Clients(sdk_maker(creds), config.region, tenancy, sleep)
