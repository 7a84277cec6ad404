"""GET /models: the catalogue as OCI's ModelCollection, with filters, sorting and paging."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any

from starlette.datastructures import QueryParams

from .catalog import MODELS, Model
from .errors import invalid

_LIFECYCLE_STATES = ("ACTIVE", "CREATING", "DELETING", "DELETED", "FAILED")
_SORT_BY = ("displayName", "lifecycleState", "timeCreated")
_DEFAULT_LIMIT = 100
_MAX_LIMIT = 1000


def list_models(
    query: QueryParams,
    default_limit: int = _DEFAULT_LIMIT,
    served: Callable[[Model], bool] = lambda _: True,
) -> tuple[dict[str, Any], str | None]:
    """The page of the region's models the query asks for, and the next page token if there is more."""
    compartment = query.get("compartmentId")
    if not compartment:
        raise invalid("compartmentId is required")
    models = [m for m in MODELS if served(m) and _matches(m, query)]
    models = _sorted(models, query.get("sortBy", "timeCreated"), query.get("sortOrder"))
    limit = _int(query.get("limit"), "limit", default_limit)
    if not 1 <= limit <= _MAX_LIMIT:
        raise invalid(f"limit must be between 1 and {_MAX_LIMIT}")
    start = _offset(query.get("page"))
    page = models[start : start + limit]
    more = start + limit < len(models)
    next_page = _token(start + limit) if more else None
    return {"items": [summary(m, compartment) for m in page]}, next_page


def _matches(model: Model, query: QueryParams) -> bool:
    capabilities: Sequence[str] = query.getlist("capability")
    state = query.get("lifecycleState")
    if state is not None and state not in _LIFECYCLE_STATES:
        raise invalid(f"lifecycleState must be one of {', '.join(_LIFECYCLE_STATES)}")
    checks = (
        not capabilities or any(c in model.capabilities for c in capabilities),
        query.get("vendor") in (None, model.vendor),
        state in (None, "ACTIVE"),  # every catalogue model is ACTIVE
        query.get("displayName") in (None, model.display_name),
        query.get("id") in (None, model.id),
    )
    return all(checks)


def _sorted(models: list[Model], sort_by: str, order: str | None) -> list[Model]:
    if sort_by not in _SORT_BY:
        raise invalid(f"sortBy must be one of {', '.join(_SORT_BY)}")
    if order not in (None, "ASC", "DESC"):
        raise invalid("sortOrder must be ASC or DESC")
    # OCI's defaults: timeCreated newest first, names A to Z.
    descending = order == "DESC" if order else sort_by == "timeCreated"
    if sort_by == "timeCreated":
        return sorted(models, key=lambda m: (m.time_created, m.id), reverse=descending)
    if sort_by == "displayName":
        return sorted(models, key=lambda m: (m.display_name, m.version), reverse=descending)
    return sorted(models, key=lambda m: m.id, reverse=descending)


def _int(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"models:{offset}".encode()).decode()


def _offset(page: str | None) -> int:
    if not page:
        return 0
    try:
        kind, _, raw = base64.urlsafe_b64decode(page.encode()).decode().partition(":")
        if kind == "models" and raw.isdigit():
            return int(raw)
    except (ValueError, binascii.Error):
        pass
    raise invalid("page is not a valid page token")


def _time(value: Any) -> str:
    return str(value.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def summary(model: Model, compartment: str) -> dict[str, Any]:
    """A ModelSummary as OCI serialises it (absent optional fields are omitted).

    Base models belong to no compartment and carry `compartmentId` and `isLongTermSupported` as
    null (recorded in CLI output: https://qiita.com/shukawam, see catalog.py); fine-tuned models are
    in the caller's compartment.
    """
    item: dict[str, Any] = {
        "id": model.id,
        "compartmentId": compartment if model.type == "CUSTOM" else None,
        "capabilities": list(model.capabilities),
        "lifecycleState": "ACTIVE",
        "displayName": model.display_name,
        "vendor": model.vendor,
        "version": model.version,
        "timeCreated": _time(model.time_created),
        "type": model.type,
        "isLongTermSupported": model.is_long_term_supported,  # None: null, as OCI lists base models
        "freeformTags": {},
        "definedTags": {},
        "systemTags": {},
    }
    if model.base_model:
        item["baseModelId"] = model.base_model
    if model.time_deprecated:
        item["timeDeprecated"] = _time(model.time_deprecated)
    if model.time_on_demand_retired:
        item["timeOnDemandRetired"] = _time(model.time_on_demand_retired)
    return item
