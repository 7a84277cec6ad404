"""Authentication like the OCI CLI, and the one client factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import oci
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.commands.auth import authenticate, config_location, detect_method, sdk_maker
from oci_genai_gateway.deploy.config.schema import AuthConfig
from oci_genai_gateway.deploy.engine.clients import Clients

TENANCY = "ocid1.tenancy.oc1..t"


def write_profile(tmp_path: Path, **extra: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    lines = [
        "[DEFAULT]",
        "user=ocid1.user.oc1..u",
        "fingerprint=aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
        f"tenancy={TENANCY}",
        "region=us-ashburn-1",
        f"key_file={key_file}",
        *(f"{k}={v}" for k, v in extra.items()),
    ]
    path = tmp_path / "config"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("auth", "env", "profile", "expected"),
    [
        (
            AuthConfig(method="instance_principal"),
            {"OCI_CLI_AUTH": "instance_obo_user"},
            None,
            "instance_principal",
        ),
        (AuthConfig(), {"OCI_CLI_AUTH": "instance_obo_user"}, {}, "delegation_token"),
        (AuthConfig(), {"OCI_CLI_AUTH": "security_token"}, {}, "security_token"),
        (AuthConfig(), {"OCI_RESOURCE_PRINCIPAL_VERSION": "2.2"}, None, "resource_principal"),
        (AuthConfig(), {}, {"security_token_file": "/t"}, "security_token"),
        (AuthConfig(), {}, {"key_file": "/k"}, "api_key"),
    ],
)
def test_detect_method(
    auth: AuthConfig, env: dict[str, str], profile: dict[str, str] | None, expected: str
) -> None:
    assert detect_method(auth, env, profile) == expected


def test_config_location_honours_the_cli_environment() -> None:
    assert config_location(
        AuthConfig(), {"OCI_CLI_CONFIG_FILE": "/etc/oci/config", "OCI_CLI_PROFILE": "X"}
    ) == (
        "/etc/oci/config",
        "X",
    )
    assert config_location(AuthConfig(config_file="/c", profile="P"), {"OCI_CLI_PROFILE": "X"}) == ("/c", "P")


def test_api_key_profile_builds_real_clients_in_the_deploy_region(tmp_path: Path) -> None:
    path = write_profile(tmp_path)
    creds = authenticate(AuthConfig(config_file=str(path)), "us-chicago-1", env={})
    assert (creds.method, creds.signer, creds.tenancy_id) == ("api_key", None, TENANCY)
    make = sdk_maker(creds)
    network = make("network", None, "us-chicago-1")
    assert isinstance(network, oci.core.VirtualNetworkClient)
    assert "us-chicago-1" in network.base_client.endpoint
    kms = make("kms_management", "https://v-management.kms.us-chicago-1.oraclecloud.com", "us-chicago-1")
    assert kms.base_client.endpoint.startswith("https://v-management.kms")


def test_session_token_profile_uses_the_token(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("header.payload.signature\n")
    path = write_profile(tmp_path, security_token_file=str(token))
    creds = authenticate(AuthConfig(config_file=str(path)), "us-chicago-1", env={})
    assert creds.method == "security_token"
    assert isinstance(creds.signer, oci.auth.signers.SecurityTokenSigner)
    assert creds.config == {"region": "us-chicago-1"}


def test_cloud_shell_delegation_token(tmp_path: Path, mocker: Any) -> None:
    token = tmp_path / "delegation_token"
    token.write_text("dt-value\n")
    path = write_profile(tmp_path, delegation_token_file=str(token))
    signer = mocker.patch("oci.auth.signers.InstancePrincipalsDelegationTokenSigner", autospec=True)
    env = {"OCI_CLI_AUTH": "instance_obo_user", "OCI_CLI_CONFIG_FILE": str(path)}
    creds = authenticate(AuthConfig(), "us-chicago-1", env=env)
    assert creds.method == "delegation_token"
    signer.assert_called_once_with(delegation_token="dt-value")
    assert creds.tenancy_id == TENANCY


def test_instance_and_resource_principals(mocker: Any, tmp_path: Path) -> None:
    instance = mocker.patch("oci.auth.signers.InstancePrincipalsSecurityTokenSigner", autospec=True)
    instance.return_value.tenancy_id = TENANCY
    creds = authenticate(
        AuthConfig(method="instance_principal", config_file=str(tmp_path / "none")), "us-chicago-1", env={}
    )
    assert (creds.method, creds.tenancy_id) == ("instance_principal", TENANCY)
    resource = mocker.patch("oci.auth.signers.get_resource_principals_signer", autospec=True)
    resource.return_value.tenancy_id = TENANCY
    creds = authenticate(
        AuthConfig(config_file=str(tmp_path / "none")),
        "us-chicago-1",
        env={"OCI_RESOURCE_PRINCIPAL_VERSION": "2.2"},
    )
    assert creds.method == "resource_principal"


def test_missing_profile_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="oci setup config"):
        authenticate(AuthConfig(config_file=str(tmp_path / "none")), "us-chicago-1", env={})


def test_iam_client_is_made_for_the_home_region() -> None:
    made: list[tuple[str, str | None, str]] = []

    class Identity:
        def list_region_subscriptions(self, tenancy_id: str) -> Any:
            subs = [
                oci.identity.models.RegionSubscription(region_name="us-chicago-1", is_home_region=False),
                oci.identity.models.RegionSubscription(region_name="eu-frankfurt-1", is_home_region=True),
            ]
            return oci.response.Response(200, {}, subs, None)

    def make(name: str, endpoint: str | None, region: str) -> Any:
        made.append((name, endpoint, region))
        return Identity()

    clients = Clients(make, "us-chicago-1", TENANCY)
    first, second = clients.identity_home, clients.identity_home
    assert first is second
    assert made == [("identity", None, "us-chicago-1"), ("identity", None, "eu-frankfurt-1")]
