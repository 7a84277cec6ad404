"""Entry-point wiring: settings from the environment, logging, signer, LiteLLM — once per process."""

from __future__ import annotations

from collections.abc import Mapping

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.gateway import Gateway
from oci_genai_gateway.core.logs import configure_logging
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.telemetry import NO_TELEMETRY, Telemetry
from oci_genai_gateway.core.upstream.llm import chat_config
from oci_genai_gateway.core.upstream.signers import build_signer


def settings_for(env: Mapping[str, str], *, authenticate: bool) -> Settings:
    """Settings from `env`; a server that checks keys itself needs some (ConfigError otherwise)."""
    settings = Settings.from_env(env)
    if authenticate and not settings.api_keys:
        raise ConfigError("GATEWAY_API_KEYS is required for the HTTP server (name:key[,name:key])")
    return settings


def build_gateway(
    env: Mapping[str, str],
    *,
    with_llm: bool = True,
    serves: str | tuple[str, ...] | None = None,
    authenticate: bool = False,
) -> Gateway:
    """Build the gateway from `env`; raises ConfigError (one clear line) on bad settings.

    `with_llm` imports LiteLLM now (~2 s, ~175 MB) rather than on the first chat; only chat needs it.
    `serves` restricts a function to its own route families; `authenticate` makes it check keys itself.
    """
    settings = settings_for(env, authenticate=authenticate)
    configure_logging(settings.log_level)
    signer = build_signer(settings)
    if with_llm:
        chat_config()
    telemetry = telemetry_for(env) if settings.otlp_endpoint else NO_TELEMETRY
    return Gateway.build(settings, signer, serves=serves, authenticate=authenticate, telemetry=telemetry)


def telemetry_for(env: Mapping[str, str]) -> Telemetry:
    """OpenTelemetry's SDK with OTLP/HTTP exporters; imported only here, when an endpoint is set."""
    try:
        from oci_genai_gateway import otel
    except ImportError:
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "install oci-genai-gateway[otel]"
        ) from None
    return otel.build(env.get("OTEL_SERVICE_NAME") or "oci-genai-gateway")
