"""Several regions in one emulator: each with its own catalogue, queued faults and throttling.

One process serves every region under a path prefix (`/<region>/20231130/...`; the default region
also answers without one), so one issuer key signs for all of them, as one realm's identity does,
and tests start one process instead of one per region. A gateway reaches region R at
`<emulator url>/R` (its GATEWAY_OCI_ENDPOINT template `<url>/{region}`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .catalog import Model


def parse_catalogs(items: Iterable[str]) -> dict[str, frozenset[str] | None]:
    """`REGION=MODEL,MODEL` (or `REGION=*`, every model) into region -> display names (None: all)."""
    out: dict[str, frozenset[str] | None] = {}
    for item in items:
        region, _, models = item.partition("=")
        region = region.strip()
        if not region:
            raise ValueError(f"--region-catalog needs REGION=MODEL,...: {item!r}")
        names = frozenset(m.strip() for m in models.split(",") if m.strip())
        out[region] = None if not names or names == {"*"} else names
    return out


def parse_throttles(items: Iterable[str]) -> dict[str, float]:
    """`REGION=SHARE` (0..1: the share of inference calls answered 429) into region -> share."""
    out: dict[str, float] = {}
    for item in items:
        region, _, raw = item.partition("=")
        share = float(raw)
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"--throttle share must be between 0 and 1: {item!r}")
        out[region.strip()] = share
    return out


@dataclass
class Throttle:
    """Answers a steady share of calls with 429, deterministically (every other one at 0.5)."""

    share: float = 0.0
    _owed: float = field(default=0.0, repr=False)

    def take(self) -> bool:
        """True when this call is to be throttled."""
        if self.share <= 0.0:
            return False
        self._owed += self.share
        if self._owed >= 1.0 - 1e-9:
            self._owed -= 1.0
            return True
        return False


@dataclass
class Regions:
    """The regions served: what each lists and serves, and how much of its traffic it throttles."""

    default: str
    catalogs: Mapping[str, frozenset[str] | None]
    throttles: dict[str, Throttle] = field(default_factory=dict)

    @classmethod
    def create(
        cls, default: str, catalogs: Mapping[str, frozenset[str] | None], throttles: Mapping[str, float]
    ) -> Regions:
        """Every region named anywhere is served; the default region serves everything unless limited."""
        merged: dict[str, frozenset[str] | None] = {default: None, **catalogs}
        for region in throttles:
            merged.setdefault(region, None)
        return cls(default, merged, {r: Throttle(s) for r, s in throttles.items()})

    def known(self, region: str) -> bool:
        """True for a region this emulator serves."""
        return region in self.catalogs

    def serves(self, region: str, model: Model) -> bool:
        """True when `region` lists and serves `model` on demand."""
        names = self.catalogs.get(region)
        return names is None or model.display_name in names

    def throttled(self, region: str) -> bool:
        """True when this call to `region` is one its throttle answers with 429."""
        throttle = self.throttles.get(region)
        return throttle is not None and throttle.take()

    def set_throttle(self, region: str, share: float) -> None:
        """Throttle `region` from now on (0 stops it)."""
        self.throttles[region] = Throttle(share)

    def describe(self) -> dict[str, object]:
        """The regions, for the control plane."""
        return {
            region: {
                "models": sorted(names) if names is not None else "*",
                "throttle": self.throttles[region].share if region in self.throttles else 0.0,
            }
            for region, names in self.catalogs.items()
        }
