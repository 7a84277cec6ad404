"""Settings: built once from the environment; bad values fail at start-up with one clear line."""

import pytest

from oci_genai_gateway.core.access.keys import parse_api_keys
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.settings import AuthMode, Settings
from oci_genai_gateway.core.targets import Target

BASE = {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..aaaa"}


def test_defaults_from_minimal_environment() -> None:
    s = Settings.from_env(BASE)
    assert s.auth is AuthMode.RESOURCE_PRINCIPAL
    assert s.region == "us-chicago-1"
    assert s.api_keys == {}
    assert s.cors_origins == ()
    assert s.max_body_bytes == 6 * 1024 * 1024


def test_region_falls_back_to_the_resource_principal_region() -> None:
    env = {
        "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..x",
        "OCI_RESOURCE_PRINCIPAL_REGION": "eu-frankfurt-1",
    }
    assert Settings.from_env(env).region == "eu-frankfurt-1"


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"GATEWAY_REGION": ""}, "GATEWAY_REGION"),
        ({"GATEWAY_REGION": "Not A Region"}, "GATEWAY_REGION"),
        ({"GATEWAY_COMPARTMENT_ID": "compartment"}, "GATEWAY_COMPARTMENT_ID"),
        ({"GATEWAY_AUTH": "password"}, "GATEWAY_AUTH"),
        # The product knows nothing of the emulator: the dev stack hands it resource-principal files.
        ({"GATEWAY_AUTH": "emulator"}, "GATEWAY_AUTH"),
        ({"GATEWAY_OCI_ENDPOINT": "ftp://x"}, "GATEWAY_OCI_ENDPOINT"),
        ({"GATEWAY_UPSTREAM_TIMEOUT": "soon"}, "GATEWAY_UPSTREAM_TIMEOUT"),
        ({"GATEWAY_UPSTREAM_TIMEOUT": "900"}, "GATEWAY_UPSTREAM_TIMEOUT"),
        ({"GATEWAY_MODEL_ALIASES": "{"}, "GATEWAY_MODEL_ALIASES"),
        ({"GATEWAY_MODEL_ALIASES": '{"a": 3}'}, "GATEWAY_MODEL_ALIASES"),
        ({"GATEWAY_LOG_LEVEL": "LOUD"}, "GATEWAY_LOG_LEVEL"),
        ({"GATEWAY_API_KEYS": "justakey"}, "GATEWAY_API_KEYS"),
        # One key validator for the HTTP server and the authorizer: short keys are refused by both.
        ({"GATEWAY_API_KEYS": "weak:x"}, "at least 16"),
    ],
)
def test_invalid_settings_name_the_variable(overrides: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Settings.from_env({**BASE, **overrides})


def test_api_keys_in_both_forms_and_never_in_errors_or_repr() -> None:
    a, b, c = "sk-a-0123456789abcdef", "sk-b-0123456789abcdef", "sk-c-0123456789abcdef"
    assert parse_api_keys(f"alice:{a}, bob:{b}") == {"alice": a, "bob": b}
    assert parse_api_keys(f'{{"ci": "{c}"}}') == {"ci": c}
    with pytest.raises(ConfigError) as info:
        parse_api_keys(f"alice:{a},oops")
    assert a not in str(info.value)
    s = Settings.from_env({**BASE, "GATEWAY_API_KEYS": f"alice:{a}"})
    assert a not in repr(s)
    assert "alice" in repr(s)


def test_aliases_and_dedicated_endpoints_resolve() -> None:
    env = {
        **BASE,
        "GATEWAY_MODEL_ALIASES": '{"fast": "xai.grok-3-mini", '
        '"tuned": {"endpoint": "ocid1.generativeaiendpoint.oc1..e1", "model": "cohere.command-r-08-2024"}}',
    }
    s = Settings.from_env(env)
    assert s.target_of("fast") == Target("xai.grok-3-mini")
    assert s.target_of("tuned") == Target("cohere.command-r-08-2024", "ocid1.generativeaiendpoint.oc1..e1")
    assert s.target_of("xai.grok-4") == Target("xai.grok-4")
    raw = s.target_of("ocid1.generativeaiendpoint.oc1..raw")
    assert raw.dedicated
    assert raw.endpoint_id == "ocid1.generativeaiendpoint.oc1..raw"


def test_settings_are_frozen() -> None:
    s = Settings.from_env(BASE)
    with pytest.raises(AttributeError):
        s.region = "x"  # type: ignore[misc]
