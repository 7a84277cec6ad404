"""What the route modules need, built once at the entry point and passed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.settings import Settings, Target
from oci_genai_gateway.core.signers import RefreshingSigner


@dataclass(frozen=True)
class Deps:
    """Settings, the injected signer, and the LLM client (the `litellm` module or a stand-in)."""

    settings: Settings
    signer: RefreshingSigner
    llm: Any

    def oci_kwargs(self, target: Target) -> dict[str, Any]:
        """LiteLLM arguments that route a call to `target` on OCI with our signer."""
        kwargs: dict[str, Any] = {
            "model": f"oci/{target.model}",
            "oci_signer": self.signer,
            # LiteLLM ignores the signer's region and would default to us-ashburn-1 (FACTS.md).
            "oci_region": self.settings.region,
            "oci_compartment_id": self.settings.compartment_id,
        }
        if self.settings.inference_endpoint:
            kwargs["api_base"] = self.settings.inference_endpoint
        if target.endpoint_id:
            kwargs["oci_serving_mode"] = "DEDICATED"
            kwargs["oci_endpoint_id"] = target.endpoint_id
        return kwargs
