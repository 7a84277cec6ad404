"""GET /v1/models and /v1/models/{model}: OCI's live catalogue, as the request's key may see it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from oci_genai_gateway.core.access.grant import Grant
from oci_genai_gateway.core.errors import RegionNotAllowed
from oci_genai_gateway.core.upstream.catalog import ModelCatalog, ModelEntry
from oci_genai_gateway.core.upstream.quirks import ModelQuirks, Quirk


async def list_models(catalog: ModelCatalog, quirks: ModelQuirks, grant: Grant) -> dict[str, Any]:
    """Every model OCI serves on demand that the key may use (a key limited to some lists only those)."""
    refused = quirks.models(Quirk.NOT_ON_DEMAND)  # listed by OCI, but it answered 404 when called
    entries = [e for e in await catalog.entries() if e.id not in refused and grant.allows(e.id)]
    return {"object": "list", "data": [e.to_dict() for e in _resident(entries, grant.regions)]}


def _resident(entries: list[ModelEntry], regions: tuple[str, ...]) -> list[ModelEntry]:
    """A key held to some regions sees only what is served there, and only those regions named."""
    if not regions:
        return entries
    kept = []
    for entry in entries:
        served = tuple(r for r in entry.regions if r in regions)
        if served or not entry.regions:  # one region configured: routing decides (core/upstream/regions.py)
            kept.append(replace(entry, regions=served))
    return kept


async def get_model(catalog: ModelCatalog, grant: Grant, model: str) -> dict[str, Any]:
    """One model; 403 for one the key may not use (or not where it may go), 404 for one OCI does not list."""
    grant.resolve(model)
    entry = await catalog.get(model)
    resident = _resident([entry], grant.regions)
    if not resident:
        raise RegionNotAllowed(model, grant.regions, entry.regions)
    return resident[0].to_dict()
