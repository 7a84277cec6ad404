"""The emulator's configuration and mutable state (keys, faults, scripted answers, holds, request log)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .auth import Verifier
from .constants import DEFAULT_REGION
from .credentials import Issuer
from .faults import FaultQueue, Holds
from .monitoring import MetricStore
from .regions import Regions
from .scripts import ScriptQueue

_LOG_LIMIT = 10_000


@dataclass(frozen=True)
class EmulatorConfig:
    """Settings fixed at start-up."""

    state_dir: Path
    region: str = DEFAULT_REGION
    max_skew_seconds: int = 300
    hold_timeout_seconds: float = 120.0
    # How long a stream that does not end with [DONE] stays open after its last event, as OCI keeps
    # it; a client that reads to EOF waits this long. The client leaving or a reset ends it sooner.
    stream_linger_seconds: float = 120.0
    page_size: int = 100  # OCI's default page; tests shrink it so consumers must follow pages
    # Regions besides `region` (regions.py): region -> the display names it serves (None: every model).
    region_catalogs: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    throttles: Mapping[str, float] = field(default_factory=dict)  # region -> share of calls answered 429


class RequestLog:
    """The OCI requests received, newest last, for tests to check what a client sent."""

    def __init__(self, limit: int = _LOG_LIMIT) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._ids = itertools.count(1)

    def add(self, method: str, path: str, query: str) -> dict[str, Any]:
        """Record a request; the caller fills in body, principal, fault and status as it goes."""
        entry: dict[str, Any] = {"seq": next(self._ids), "method": method, "path": path, "query": query}
        self._entries.append(entry)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        """A snapshot of the log."""
        return list(self._entries)

    def clear(self) -> None:
        """Forget every request."""
        self._entries.clear()


@dataclass
class EmulatorState:
    """Everything the handlers share."""

    config: EmulatorConfig
    issuer: Issuer
    verifier: Verifier
    faults: FaultQueue = field(default_factory=FaultQueue)
    scripts: ScriptQueue = field(default_factory=ScriptQueue)
    log: RequestLog = field(default_factory=RequestLog)
    metrics: MetricStore = field(default_factory=MetricStore)
    holds: Holds = field(init=False)
    regions: Regions = field(init=False)
    lingering: Holds = field(init=False)  # streams past their last event, kept open

    def __post_init__(self) -> None:
        self.holds = Holds(self.config.hold_timeout_seconds)
        config = self.config
        self.regions = Regions.create(config.region, config.region_catalogs, config.throttles)
        self.lingering = Holds(self.config.stream_linger_seconds)

    @classmethod
    def create(cls, config: EmulatorConfig) -> EmulatorState:
        """Load (or create) the issuer key in the state dir and build a verifier trusting it."""
        config.state_dir.mkdir(parents=True, exist_ok=True)
        issuer = Issuer.load_or_create(config.state_dir / "issuer.pem")
        verifier = Verifier(issuer.public_key, max_skew_seconds=config.max_skew_seconds)
        return cls(config, issuer, verifier)

    def reset(self) -> int:
        """Clear faults, scripted answers, log and metrics; release held and lingering streams (keys stay)."""
        self.faults.clear()
        self.scripts.clear()
        self.log.clear()
        self.metrics.clear()
        self.lingering.release()
        return self.holds.release()
