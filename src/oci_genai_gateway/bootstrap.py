"""Entry-point wiring: settings from the environment, logging, signer, LiteLLM — once per process."""

from __future__ import annotations

from collections.abc import Mapping

from oci_genai_gateway.core.gateway import Gateway
from oci_genai_gateway.core.llm import load_litellm
from oci_genai_gateway.core.logs import configure_logging
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.signers import build_signer


def build_gateway(env: Mapping[str, str], *, with_llm: bool = True) -> Gateway:
    """Build the gateway from `env`; raises ConfigError (one clear line) on bad settings.

    `with_llm=False` skips importing LiteLLM (~2 s, ~175 MB) for the models-only function.
    """
    settings = Settings.from_env(env)
    configure_logging(settings.log_level)
    signer = build_signer(settings)
    return Gateway.build(settings, signer, load_litellm() if with_llm else None)
