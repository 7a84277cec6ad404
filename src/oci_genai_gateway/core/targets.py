"""What a client-facing model name resolves to on OCI: a base model, or a dedicated endpoint."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Dedicated AI cluster endpoints are addressed by OCID; anything else is a model name or an alias.
ENDPOINT_PREFIX = "ocid1.generativeaiendpoint."


@dataclass(frozen=True)
class Target:
    """An OCI model, served on demand or by a dedicated endpoint."""

    model: str
    endpoint_id: str | None = None
    # The regions a key's data-residency policy allows (empty: every configured region).
    regions: tuple[str, ...] = ()

    @property
    def dedicated(self) -> bool:
        """True when served by a dedicated AI cluster endpoint."""
        return self.endpoint_id is not None


def endpoint_region(endpoint_id: str) -> str | None:
    """The region in a dedicated endpoint's OCID (`ocid1.generativeaiendpoint.oc1.<region>.<id>`)."""
    parts = endpoint_id.split(".")
    return parts[3] if len(parts) >= 5 and parts[3] else None


# A model name (or alias) to its target; key grants wrap one with their allow-list (access/grant.py).
Resolve = Callable[[str], Target]


def target_of(aliases: Mapping[str, Target], model: str) -> Target:
    """An alias's target, an endpoint OCID's, or the name itself."""
    alias = aliases.get(model)
    if alias is not None:
        return alias
    if model.startswith(ENDPOINT_PREFIX):
        return Target(model=model, endpoint_id=model)
    return Target(model=model)
