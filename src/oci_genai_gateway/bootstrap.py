"""Entry-point wiring: settings from the environment, logging, signer, LiteLLM — once per process."""

from __future__ import annotations

from collections.abc import Mapping

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.gateway import Gateway
from oci_genai_gateway.core.llm import load_litellm
from oci_genai_gateway.core.logs import configure_logging
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.signers import build_signer


def build_gateway(
    env: Mapping[str, str], *, with_llm: bool = True, serves: str | None = None, authenticate: bool = False
) -> Gateway:
    """Build the gateway from `env`; raises ConfigError (one clear line) on bad settings.

    `with_llm=False` skips importing LiteLLM (~2 s, ~175 MB) for the models-only function; `serves`
    restricts a function to its own route family; `authenticate` makes it check bearer keys itself.
    """
    settings = Settings.from_env(env)
    if authenticate and not settings.api_keys:
        raise ConfigError("GATEWAY_API_KEYS is required for the HTTP server (name:key[,name:key])")
    configure_logging(settings.log_level)
    signer = build_signer(settings)
    llm = load_litellm() if with_llm else None
    return Gateway.build(settings, signer, llm, serves=serves, authenticate=authenticate)
