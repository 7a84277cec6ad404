"""Which regions may serve a target, in which order, and which (region, model) pairs cool down.

The order is the configured one (GATEWAY_REGIONS, home first) cut to the regions whose live
catalogue lists the model, then to the key's data-residency set; a pair that failed recently goes
last, not out, so a request is never refused only because every region was busy a moment ago.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from oci_genai_gateway.core.errors import RegionNotAllowed
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.targets import Target, endpoint_region

log = logging.getLogger(__name__)

# The regions whose live on-demand catalogue lists a model, in the configured order.
Locate = Callable[[str], Awaitable[tuple[str, ...]]]
Clock = Callable[[], float]
BACKOFF_SECONDS = 2.0  # the first cool-down without a Retry-After, doubled per failure in a row
MAX_COOLDOWN_SECONDS = 60.0
# A region that lists a model but answers 404 for it serves it only on dedicated clusters there
# (OCI lists Llama 3.3 70B in regions where it is dedicated-only): tried last for an hour.
ABSENT_SECONDS = 3600.0


@dataclass
class _Cooling:
    until: float
    failures: int


class Cooldowns:
    """(region, model) pairs that recently failed, each until its Retry-After or a growing backoff."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._pairs: dict[tuple[str, str], _Cooling] = {}

    def fail(self, region: str, model: str, retry_after: str | None = None) -> float:
        """Note a failure; returns the seconds the pair now cools down."""
        previous = self._pairs.get((region, model))
        failures = previous.failures + 1 if previous is not None else 1
        seconds = _seconds(retry_after)
        if seconds is None:
            seconds = min(BACKOFF_SECONDS * 2 ** (failures - 1), MAX_COOLDOWN_SECONDS)
        self._pairs[(region, model)] = _Cooling(self._clock() + seconds, failures)
        return seconds

    def absent(self, region: str, model: str) -> None:
        """The region lists the model but does not serve it on demand: last in its route for a while."""
        self._pairs[(region, model)] = _Cooling(self._clock() + ABSENT_SECONDS, 0)

    def succeed(self, region: str, model: str) -> None:
        """The pair answered: its backoff starts over."""
        self._pairs.pop((region, model), None)

    def cooling(self, region: str, model: str) -> bool:
        """True while the pair is cooling down."""
        state = self._pairs.get((region, model))
        return state is not None and state.until > self._clock()


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After in seconds (OCI sends delta-seconds); None when absent or unreadable."""
    if retry_after is None:
        return None
    try:
        value = float(retry_after.strip())
    except ValueError:
        return None
    return min(max(value, 0.0), MAX_COOLDOWN_SECONDS) if value == value else None


class Router:
    """The regions to try for a target, in order (one region: the home region, as always)."""

    def __init__(self, settings: Settings, locate: Locate | None, cooldowns: Cooldowns) -> None:
        self._settings = settings
        self._locate = locate
        self.cooldowns = cooldowns

    async def route(self, target: Target) -> tuple[str, ...]:
        """The regions to try, best first; RegionNotAllowed when residency leaves none."""
        configured = self._settings.regions
        allowed = tuple(r for r in configured if not target.regions or r in target.regions)
        if target.endpoint_id is not None:
            # A dedicated endpoint lives in one region, named in its OCID; an unreadable one stays home.
            region = endpoint_region(target.endpoint_id)
            home = region if region in configured else configured[0]
            if target.regions and home not in target.regions:
                raise RegionNotAllowed(target.endpoint_id, target.regions, (home,))
            return (home,)
        if len(configured) == 1 or self._locate is None:
            if not allowed:
                raise RegionNotAllowed(target.model, target.regions, configured)
            return allowed
        served = await self._locate(target.model)
        if not served:
            # No catalogue lists it (an unlisted name, or discovery failed): ask the first allowed
            # region, whose answer (a 404 most likely) the client gets as before.
            if not allowed:
                raise RegionNotAllowed(target.model, target.regions, ())
            return allowed[:1]
        route = [r for r in served if r in allowed]
        if not route:
            raise RegionNotAllowed(target.model, target.regions, served)
        model = target.model
        return tuple(sorted(route, key=lambda r: self.cooldowns.cooling(r, model)))
