"""How a live object is compared with its desired fields: models as subsets, opaque inputs by digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from oci_genai_gateway.deploy.engine.resource_model import DIGEST_TAG, Changes, Resource, Spec


def digest(spec: Spec, fields: frozenset[str]) -> str:
    """A short stable digest of the named spec fields."""
    data = {name: plain(spec.get(name)) for name in sorted(fields)}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ModelDict(dict[str, Any]):
    """A plain-data SDK model: compared as a subset, since OCI fills in fields we never set."""


def plain(value: Any) -> Any:
    """SDK models, lists and dicts as plain data (models as ModelDict without None fields)."""
    if hasattr(value, "swagger_types"):
        items = ((name, getattr(value, name)) for name in value.swagger_types)
        return ModelDict({name: plain(item) for name, item in items if item is not None})
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def matches(desired: Any, live: Any) -> bool:
    """True when `live` has what `desired` asks for: models as subsets, dicts exactly, lists as multisets."""
    if live is None and desired in ({}, []):
        return True
    if isinstance(desired, ModelDict):
        return isinstance(live, dict) and all(k in live and matches(v, live[k]) for k, v in desired.items())
    if isinstance(desired, dict):
        return (
            isinstance(live, dict)
            and desired.keys() == live.keys()
            and all(matches(v, live[k]) for k, v in desired.items())
        )
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        rest = list(live)
        for item in desired:
            hit = next((i for i, candidate in enumerate(rest) if matches(item, candidate)), None)
            if hit is None:
                return False
            rest.pop(hit)
        return True
    return bool(desired == live)


def field_diff(res: Resource, live: Any, spec: Spec, tags: Any) -> Changes:
    """Fields of `spec` that `live` does not match; digest fields by the digest tag."""
    out: Changes = {}
    for name, desired in spec.items():
        if name in res.digest_fields:
            continue
        current = getattr(live, name, None)
        if not matches(plain(desired), plain(current)):
            out[name] = (plain(current), plain(desired))
    if res.digest_fields:
        want = digest(spec, res.digest_fields)
        have = tags.get(DIGEST_TAG)
        if have != want:
            for name in sorted(res.digest_fields):
                out[name] = (f"digest {have}", f"digest {want}")
    return out
