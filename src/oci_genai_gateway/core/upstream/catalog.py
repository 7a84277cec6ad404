"""GET /v1/models and /v1/models/{model}: live OCI discovery behind a TTL cache."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.errors import ModelNotFound, UpstreamError
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.upstream.signers import RefreshingSigner

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


Fetch = Callable[[], Awaitable[list[Any]]]


def oci_fetcher(settings: Settings, signer: RefreshingSigner) -> Fetch:
    """List every page of OCI's model catalogue with the SDK, off the event loop."""
    client: Any = None

    def fetch_all() -> list[Any]:
        nonlocal client
        import oci  # deferred: the SDK client is built at the first refresh, not at start-up

        if client is None:
            kwargs: dict[str, Any] = {"signer": signer.inner}  # the SDK only accepts its own signers
            if settings.management_endpoint:
                kwargs["service_endpoint"] = settings.management_endpoint
            client = oci.generative_ai.GenerativeAiClient(
                {**signer.sdk_config, "region": settings.region}, **kwargs
            )
        for attempt in (1, 2):
            signer.ensure_fresh()
            try:
                response = oci.pagination.list_call_get_all_results(
                    client.list_models, compartment_id=settings.compartment_id, lifecycle_state="ACTIVE"
                )
                return list(response.data)
            except oci.exceptions.ServiceError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                signer.force_refresh()
        raise AssertionError("unreachable")

    async def fetch() -> list[Any]:
        return await asyncio.to_thread(fetch_all)

    return fetch


def select(summaries: Iterable[Any], now: dt.datetime) -> list[ModelEntry]:
    """Keep active, on-demand, not-retired chat and embedding base models, one per name."""
    seen: dict[str, ModelEntry] = {}
    for m in summaries:
        if getattr(m, "lifecycle_state", None) != "ACTIVE" or getattr(m, "type", "BASE") == "CUSTOM":
            continue
        if not _SERVED.intersection(getattr(m, "capabilities", None) or ()):
            continue
        retired = getattr(m, "time_on_demand_retired", None)
        if retired is not None and retired <= now:
            continue
        name = m.display_name
        created = getattr(m, "time_created", None)
        entry = ModelEntry(
            name, int(created.timestamp()) if created else 0, str(getattr(m, "vendor", None) or "oci")
        )
        # OCI lists several versions under one name; the newest represents it.
        if name not in seen or entry.created > seen[name].created:
            seen[name] = entry
    return sorted(seen.values(), key=lambda e: e.id)


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
