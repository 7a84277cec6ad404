"""What OCI showed about particular models at run time, remembered for the process's life."""

from __future__ import annotations

import logging
from enum import StrEnum

log = logging.getLogger(__name__)


class Quirk(StrEnum):
    """A way a model departs from what OCI's API promises, learnt from its answers."""

    NO_STREAM_USAGE = "no_stream_usage"  # finishes its streams without a usage event
    NO_STREAM_OPTIONS = "no_stream_options"  # refuses `streamOptions` with a 400
    NOT_ON_DEMAND = "not_on_demand"  # listed by OCI, but answers 404 on demand
    NO_REASONING_EFFORT = "no_reasoning_effort"  # refuses `reasoningEffort` with a 400 (grok-4, ...)


class ModelQuirks:
    """The registry: each quirk is noted once per model (and logged then), and read by name."""

    def __init__(self) -> None:
        self._models: dict[Quirk, set[str]] = {quirk: set() for quirk in Quirk}

    def note(self, model: str, quirk: Quirk) -> None:
        """Remember that `model` has `quirk`."""
        seen = self._models[quirk]
        if model not in seen:
            seen.add(model)
            log.info(
                "model quirk noted", extra={"event": "model_quirk", "model": model, "quirk": quirk.value}
            )

    def has(self, model: str, quirk: Quirk) -> bool:
        """Whether `model` was seen with `quirk`."""
        return model in self._models[quirk]

    def models(self, quirk: Quirk) -> frozenset[str]:
        """Every model seen with `quirk`."""
        return frozenset(self._models[quirk])
