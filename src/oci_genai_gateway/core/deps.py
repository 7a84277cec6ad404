"""What the route modules need, built once at the entry point and passed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from oci_genai_gateway.core.settings import Settings, Target
from oci_genai_gateway.core.signers import RefreshingSigner
from oci_genai_gateway.core.upstream import call_upstream

T = TypeVar("T")


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

    async def call(self, make_call: Callable[[], Awaitable[T]], model: str) -> T:
        """Run one OCI call with the configured deadline, retries and 401 token refresh."""
        return await call_upstream(
            make_call,
            model=model,
            signer=self.signer,
            retries=self.settings.upstream_retries,
            deadline=self.settings.upstream_timeout,
        )
