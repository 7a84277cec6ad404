"""OCI's model catalogue: listed over the signed client, filtered, cached for a TTL, aliases added."""

from __future__ import annotations

import asyncio
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


@dataclass(frozen=True)
class ModelEntry:
    """One OpenAI `Model` object."""

    id: str
    created: int
    owned_by: str

    def to_dict(self) -> dict[str, Any]:
        """Render as OpenAI's Model schema."""
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by}


# The summaries of every model OCI lists (ModelSummary as JSON: `displayName`, `capabilities`, ...).
Fetch = Callable[[], Awaitable[list[dict[str, Any]]]]


def oci_fetcher(oci: OciHttp, compartment_id: str) -> Fetch:
    """List every page of OCI's model catalogue (ListModels) over the gateway's own signed client."""

    async def fetch() -> list[dict[str, Any]]:
        query = {"compartmentId": compartment_id, "lifecycleState": "ACTIVE"}
        return await oci.list_all("models", query)

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
    """The discovered models plus aliases, refreshed at most once per TTL by a single task."""

    def __init__(self, settings: Settings, fetch: Fetch, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._fetch = fetch
        self._clock = clock
        self._entries: list[ModelEntry] | None = None
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

    async def _do_refresh(self) -> None:
        self.fetches += 1
        try:
            summaries = await self._fetch()
        except Exception as exc:
            stale = "serving the last good list" if self._entries is not None else "no list to serve"
            log.warning(
                "model discovery failed; %s",
                stale,
                extra={"event": "models_refresh_failed", "exc_type": type(exc).__name__},
            )
            # Back off for a TTL rather than hammering OCI on every request.
            if self._entries is not None:
                self._fetched_at = self._clock()
            return
        discovered = select(summaries, dt.datetime.now(dt.UTC))
        self._entries = self._with_aliases(discovered)
        self._fetched_at = self._clock()

    def _with_aliases(self, discovered: list[ModelEntry]) -> list[ModelEntry]:
        by_id = {e.id: e for e in discovered}
        aliases = []
        for alias, target in sorted(self._settings.aliases.items()):
            base = by_id.get(target.model)
            aliases.append(ModelEntry(alias, base.created if base else 0, base.owned_by if base else "oci"))
        return [e for e in discovered if e.id not in self._settings.aliases] + aliases
