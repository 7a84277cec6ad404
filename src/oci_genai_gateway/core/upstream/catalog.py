"""OCI's model catalogue: listed over the signed client, filtered, cached for a TTL, aliases added."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.errors import ModelNotFound, UpstreamError
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.upstream.http import OciHttp

log = logging.getLogger(__name__)

_SERVED = frozenset({"CHAT", "TEXT_EMBEDDINGS"})
# The extension field of a listed model naming the regions that serve it; OpenAI's Model object
# allows more properties, and the openai SDKs keep unknown fields (pydantic extra="allow").
REGIONS_FIELD = "oci_regions"


@dataclass(frozen=True)
class ModelEntry:
    """One OpenAI `Model` object."""

    id: str
    created: int
    owned_by: str
    regions: tuple[str, ...] = ()  # where it is served on demand (several regions configured only)

    def to_dict(self) -> dict[str, Any]:
        """Render as OpenAI's Model schema (plus `oci_regions`, an extension clients ignore)."""
        out: dict[str, Any] = {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
        }
        if self.regions:
            out[REGIONS_FIELD] = list(self.regions)
        return out


# The summaries of every model OCI lists (ModelSummary as JSON: `displayName`, `capabilities`, ...).
Fetch = Callable[[], Awaitable[list[dict[str, Any]]]]


def oci_fetcher(oci: OciHttp, compartment_id: str, region: str | None = None) -> Fetch:
    """List every page of one region's model catalogue (ListModels) over the gateway's signed client."""

    async def fetch() -> list[dict[str, Any]]:
        query = {"compartmentId": compartment_id, "lifecycleState": "ACTIVE"}
        return await oci.list_all("models", query, region)

    return fetch


def select(summaries: Iterable[Mapping[str, Any]], now: dt.datetime) -> list[ModelEntry]:
    """Keep active, on-demand, not-retired chat and embedding base models, one per name."""
    seen: dict[str, ModelEntry] = {}
    for m in summaries:
        name = m.get("displayName")
        if (
            m.get("lifecycleState") != "ACTIVE"
            or m.get("type", "BASE") == "CUSTOM"
            or not isinstance(name, str)
        ):
            continue
        if not _SERVED.intersection(m.get("capabilities") or ()):
            continue
        retired = _time(m.get("timeOnDemandRetired"))
        if retired is not None and retired <= now:
            continue
        created = _time(m.get("timeCreated"))
        entry = ModelEntry(name, int(created.timestamp()) if created else 0, str(m.get("vendor") or "oci"))
        # OCI lists several versions under one name; the newest represents it.
        if name not in seen or entry.created > seen[name].created:
            seen[name] = entry
    return sorted(seen.values(), key=lambda e: e.id)


def _time(value: object) -> dt.datetime | None:
    """An RFC 3339 time as OCI writes it (`2024-05-01T00:00:00.000Z`); None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


class ModelCatalog:
    """The discovered models of every region (their union) plus aliases, refreshed once per TTL."""

    def __init__(
        self,
        settings: Settings,
        fetch: Fetch | Mapping[str, Fetch],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        # One fetch per region, in the configured order (home first).
        self._fetches = dict(fetch) if isinstance(fetch, Mapping) else {settings.region: fetch}
        self._clock = clock
        self._entries: list[ModelEntry] | None = None
        self._by_region: dict[str, list[ModelEntry]] = {}
        self._served: dict[str, tuple[str, ...]] = {}
        self._fetched_at = 0.0
        self._refresh: asyncio.Task[None] | None = None
        self.fetches = 0

    async def entries(self) -> list[ModelEntry]:
        """All models, aliases first-class; a discovery failure serves the last good list."""
        if self._entries is None or self._clock() - self._fetched_at >= self._settings.models_cache_ttl:
            if self._refresh is None or self._refresh.done():
                self._refresh = asyncio.create_task(self._do_refresh())
            await asyncio.shield(self._refresh)
        if self._entries is None:
            raise UpstreamError("The model list could not be fetched from OCI Generative AI.")
        return self._entries

    async def get(self, model: str) -> ModelEntry:
        """One model by id (or alias)."""
        for entry in await self.entries():
            if entry.id == model:
                return entry
        raise ModelNotFound(model)

    async def regions_serving(self, model: str) -> tuple[str, ...]:
        """The regions whose catalogue lists `model` (an OCI name), in the configured order."""
        try:
            await self.entries()
        except UpstreamError:
            return ()
        return self._served.get(model, ())

    async def _do_refresh(self) -> None:
        self.fetches += 1
        regions = list(self._fetches)
        results = await asyncio.gather(*(self._fetches[r]() for r in regions), return_exceptions=True)
        now = dt.datetime.now(dt.UTC)
        fresh = False
        for region, result in zip(regions, results, strict=True):
            if isinstance(result, BaseException):
                stale = "serving the last good list" if region in self._by_region else "no list to serve"
                log.warning(
                    "model discovery failed in %s; %s",
                    region,
                    stale,
                    extra={
                        "event": "models_refresh_failed",
                        "region": region,
                        "exc_type": type(result).__name__,
                    },
                )
                continue
            self._by_region[region] = select(result, now)
            fresh = True
        if not self._by_region:
            return  # nothing to serve: the next request tries again
        if fresh or self._entries is None:
            self._entries = self._with_aliases(self._union())
        # After a failure too: back off for a TTL rather than hammering OCI on every request.
        self._fetched_at = self._clock()

    def _union(self) -> list[ModelEntry]:
        """Every region's models, one entry per name, naming the regions that serve it."""
        merged: dict[str, ModelEntry] = {}
        served: dict[str, list[str]] = {}
        for region in self._fetches:
            for entry in self._by_region.get(region, ()):
                served.setdefault(entry.id, []).append(region)
                known = merged.get(entry.id)
                if known is None or entry.created > known.created:
                    merged[entry.id] = entry
        self._served = {name: tuple(regions) for name, regions in served.items()}
        if not self._settings.multi_region:
            return sorted(merged.values(), key=lambda e: e.id)
        return sorted(
            (dataclasses.replace(e, regions=self._served[e.id]) for e in merged.values()), key=lambda e: e.id
        )

    def _with_aliases(self, discovered: list[ModelEntry]) -> list[ModelEntry]:
        by_id = {e.id: e for e in discovered}
        aliases = []
        for alias, target in sorted(self._settings.aliases.items()):
            base = by_id.get(target.model)
            entry = ModelEntry(alias, base.created if base else 0, base.owned_by if base else "oci")
            aliases.append(dataclasses.replace(entry, regions=base.regions) if base else entry)
        return [e for e in discovered if e.id not in self._settings.aliases] + aliases
