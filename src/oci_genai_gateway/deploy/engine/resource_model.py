"""Desired resources, what the engine found for each, and the per-kind operations it drives."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.clients import Clients

OWNER_TAG = "oci-genai-gateway"
# Opaque inputs (a deployment spec, user data) are compared by this digest, since OCI returns them
# with server-side defaults filled in or not at all.
DIGEST_TAG = "oci-genai-gateway-digest"

Spec = dict[str, Any]


class Action(StrEnum):
    """What apply does (or destroy did) to one resource."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    RESTORE = "restore"
    NOOP = "ok"
    CONFLICT = "conflict"
    DELETE = "delete"


class Condition(StrEnum):
    """What a live object's lifecycle state means to the engine (every state maps to one)."""

    READY = "ready"  # compare and update
    BUSY = "busy"  # creating, updating...: wait, then look again
    FAILED = "failed"  # OCI gave up on it: replaced by the next apply
    PENDING_DELETION = "pending deletion"  # a Vault object: restored by apply, skipped by destroy
    UNUSABLE = "unusable"  # e.g. stopped or disabled by someone: a conflict naming the state


# Transitional states across the services deploy uses: waited for, never compared.
BUSY_STATES = frozenset(
    {
        "CREATING",
        "UPDATING",
        "PROVISIONING",
        "ENABLING",
        "DISABLING",
        "RESTORING",
        "SCHEDULING_DELETION",
        "CANCELLING_DELETION",
        "STARTING",
        "STOPPING",
        "ASSIGNING",
        "UNASSIGNING",
        "ATTACHING",
        "CHANGING_COMPARTMENT",
    }
)


class Reporter(Protocol):
    """Where progress and the one-time key display go (the CLI prints; tests collect)."""

    def progress(self, message: str) -> None: ...

    def secret(self, name: str, value: str) -> None: ...


def pending(key: str) -> str:
    """The placeholder for an OCID that exists only after apply."""
    return f"<{key}>"


def is_pending(value: object) -> bool:
    """True for a pending() placeholder."""
    return isinstance(value, str) and value.startswith("<") and value.endswith(">")


class State:
    """OCIDs and live objects found or created so far, by resource key; reused resources are given."""

    def __init__(self, external: Mapping[str, str] | None = None) -> None:
        self._ids: dict[str, str] = dict(external or {})
        self._live: dict[str, Any] = {}

    def put(self, key: str, live: Any, ocid: str) -> None:
        """Record a resource that exists."""
        self._live[key] = live
        self._ids[key] = ocid

    def forget(self, key: str) -> None:
        """Drop a deleted resource."""
        self._live.pop(key, None)
        self._ids.pop(key, None)

    def ocid(self, key: str) -> str:
        """The resource's OCID, or its pending placeholder."""
        return self._ids.get(key, pending(key))

    def known(self, key: str) -> bool:
        """True once the resource exists (or was given)."""
        return key in self._ids

    def live(self, key: str) -> Any | None:
        """The live SDK object, if found or created in this run."""
        return self._live.get(key)

    def attr(self, key: str, name: str) -> Any:
        """An attribute of the live object, or the pending placeholder `<key.name>`."""
        live = self._live.get(key)
        value = getattr(live, name, None) if live is not None else None
        return pending(f"{key}.{name}") if value is None else value


@dataclass
class Context:
    """What every kind operation gets."""

    clients: Clients
    config: DeployConfig
    reporter: Reporter
    max_wait_seconds: int = 1800

    @property
    def compartment_id(self) -> str:
        """The deployment's compartment."""
        return self.config.compartment_id


Changes = dict[str, tuple[Any, Any]]


class Kind(ABC):
    """The operations on one type of OCI resource; implementations wait until the result is usable."""

    label: str = ""
    # The IAM resource family the deploying user needs, named in permission errors.
    family: str = ""
    immutable: frozenset[str] = frozenset()
    replaceable: bool = False

    @abstractmethod
    def find(self, ctx: Context, res: Resource, scope: str | None) -> list[Any]:
        """Live resources with the resource's name (owned or not), not deleted."""

    def load(self, ctx: Context, res: Resource, scope: str | None, found: Any) -> Any:
        """The full object for a list summary (default: the summary is complete)."""
        return found

    @abstractmethod
    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """Create and wait; return the live object."""

    @abstractmethod
    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Change only the `changed` fields and wait; return the live object."""

    @abstractmethod
    def delete(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> None:
        """Delete (or schedule deletion) and wait."""

    @abstractmethod
    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """Field -> (live, desired) for every field that differs."""

    def ocid(self, live: Any) -> str:
        """The live object's OCID."""
        return str(live.id)

    def tags(self, live: Any) -> Mapping[str, str]:
        """The live object's freeform tags."""
        return getattr(live, "freeform_tags", None) or {}

    def pending_deletion(self, live: Any) -> bool:
        """True when deletion is scheduled but can still be cancelled."""
        return False

    def condition(self, live: Any) -> Condition:
        """What the live object's lifecycle state means (kinds without one are always ready)."""
        return Condition.PENDING_DELETION if self.pending_deletion(live) else Condition.READY

    def failure(self, live: Any) -> str:
        """OCI's own words for why the object is not usable, with its OCID."""
        state = getattr(live, "lifecycle_state", None)
        details = getattr(live, "lifecycle_details", None) or "OCI gives no details"
        return f"{self.ocid(live)} is {state}: {details}"

    def settle(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> Any:
        """Wait until a busy object is ready or failed; the object as it then is."""
        return live

    def restore(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> Any:
        """Cancel a scheduled deletion."""
        raise NotImplementedError(self.label)


@dataclass(frozen=True)
class Resource:
    """One desired resource: its kind, name, desired fields (from the state so far) and parents."""

    key: str
    kind: Kind
    name: str
    spec: Callable[[State], Spec]
    depends_on: tuple[str, ...] = ()
    scope: Callable[[State], str] | None = None
    digest_fields: frozenset[str] = frozenset()
    # Fields worth showing in a plan (the rest is noise or secret).
    show: tuple[str, ...] = ()


class Desired(Protocol):
    """What the engine needs of a stack: resources in creation order, the OCIDs of reused ones."""

    @property
    def resources(self) -> tuple[Resource, ...]: ...

    @property
    def external(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Change:
    """What the engine found for one resource and what it will do (or did)."""

    resource: Resource
    action: Action
    fields: Changes = field(default_factory=dict)
    spec: Spec = field(default_factory=dict)
    scope: str | None = None
    live: Any | None = None
    note: str = ""
