"""`deploy plan` with `deployment.regions`: which models each region serves on demand for this tenancy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oci_genai_gateway.deploy.engine.clients import Clients

_SERVED = {"CHAT", "TEXT_EMBEDDINGS"}


def describe(clients: Clients, compartment_id: str, regions: Sequence[str], offline: bool) -> str:
    """One line per region: the on-demand chat and embedding models it lists, or why it cannot say."""
    lines = ["", "Regions (GATEWAY_REGIONS, home first):"]
    if offline:
        lines.append("  offline: which models each region serves cannot be listed without credentials")
        lines += [f"  {region}" for region in regions]
        return "\n".join(lines)
    for region in regions:
        try:
            names = _models(clients.get("generative_ai", region=region), compartment_id)
        except Exception as exc:  # a region the tenancy does not subscribe to, or one without the service
            status = getattr(exc, "status", None)
            lines.append(f"  {region}: cannot be listed ({type(exc).__name__} {status or ''}".rstrip() + ")")
            continue
        shown = ", ".join(names) if names else "no on-demand chat or embedding models"
        lines.append(f"  {region} ({len(names)}): {shown}")
    return "\n".join(lines)


def _models(client: Any, compartment_id: str) -> list[str]:
    import oci

    summaries = oci.pagination.list_call_get_all_results(
        client.list_models, compartment_id, lifecycle_state="ACTIVE"
    ).data
    return sorted(
        {
            str(m.display_name)
            for m in summaries
            if _SERVED.intersection(m.capabilities or ()) and getattr(m, "type", "BASE") != "CUSTOM"
        }
    )
