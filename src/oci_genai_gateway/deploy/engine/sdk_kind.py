"""SdkKind: a Kind for OCI's common resource shape, driven by calls that kind_factory derives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.deploy.engine.compare import field_diff
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import OWNER_TAG, Changes, Context, Kind, Resource, Spec
from oci_genai_gateway.deploy.engine.sdk_calls import wait_for_state, wait_for_work_request

# (client, compartment, scope, name) -> the items listed under that name, deleted or not
Lister = Callable[[Any, str, str | None, str], list[Any]]


@dataclass(frozen=True, kw_only=True)
class SdkKind(Kind):
    """Declarative kind: the client, its calls (functions of the SDK client and the scope) and models."""

    label: str
    family: str
    client: str
    lister: Lister
    create_model: Any
    create_call: Callable[[Any, str | None, Any], Any]
    get_call: Callable[[Any, str | None, str], Any]
    update_model: Any | None
    update_call: Callable[[Any, str | None, str, Any], Any] | None
    delete_call: Callable[[Any, str | None, str], Any]
    name_field: str = "display_name"
    scope_field: str | None = None
    in_tenancy: bool = False
    ready: tuple[str, ...] = ("AVAILABLE",)
    deleted: tuple[str, ...] = ("TERMINATED", "DELETED")
    deleting: tuple[str, ...] = ("TERMINATING", "DELETING")
    work_requests: bool = False
    immutable: frozenset[str] = frozenset()
    replaceable: bool = False
    restore_call: Callable[[Any, str | None, str], Any] | None = None
    # Vault objects are not deleted but scheduled for deletion (and can be restored until then).
    scheduled_delete: bool = False
    # Per-vault clients (KmsManagementClient) take the scope as their service endpoint.
    endpoint_from_scope: bool = False

    def sdk(self, ctx: Context, scope: str | None = None) -> Any:
        """The SDK client this kind uses."""
        if self.client == "identity_home":
            return ctx.clients.identity_home
        return ctx.clients.get(self.client, endpoint=scope if self.endpoint_from_scope else None)

    def compartment(self, ctx: Context) -> str:
        """Where the resource lives (IAM objects: the tenancy)."""
        return ctx.clients.tenancy_id if self.in_tenancy else ctx.compartment_id

    def find(self, ctx: Context, res: Resource, scope: str | None) -> list[Any]:
        """Same-named, not deleted."""
        items = self.lister(self.sdk(ctx, scope), self.compartment(ctx), scope, res.name)
        return [
            item
            for item in items
            if getattr(item, self.name_field, None) == res.name
            and getattr(item, "lifecycle_state", None) not in self.deleted + self.deleting
        ]

    def load(self, ctx: Context, res: Resource, scope: str | None, found: Any) -> Any:
        """The full object (list calls return summaries without config and the like)."""
        return self.get_call(self.sdk(ctx, scope), scope, self.ocid(found)).data

    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """Create from the model and wait until ready."""
        fields: dict[str, Any] = {self.name_field: res.name, **spec, "freeform_tags": tags}
        if "compartment_id" in self.create_model().swagger_types:
            fields.setdefault("compartment_id", self.compartment(ctx))
        if self.scope_field is not None:
            fields[self.scope_field] = scope
        client = self.sdk(ctx, scope)
        response = self.create_call(client, scope, self.create_model(**fields))
        if self.work_requests:
            wait_for_work_request(
                ctx, client, f"{self.label} {res.name}", response.headers["opc-work-request-id"]
            )
            owner = tags.get(OWNER_TAG)
            found = [i for i in self.find(ctx, res, scope) if self.tags(i).get(OWNER_TAG) == owner]
            if not found:
                raise DeployError(f"{self.label} {res.name}: created, but not found afterwards; apply again")
            return self.load(ctx, res, scope, found[0])
        return self._wait_ready(ctx, res, scope, self.ocid(response.data))

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Send only the changed fields (and the tags) and wait."""
        if self.update_model is None or self.update_call is None:
            raise DeployError(f"{self.label} {res.name} cannot be updated in place; destroy and apply")
        client = self.sdk(ctx, scope)
        response = self.update_call(
            client, scope, self.ocid(live), self.update_model(**changed, freeform_tags=tags)
        )
        if self.work_requests:
            wait_for_work_request(
                ctx, client, f"{self.label} {res.name}", response.headers["opc-work-request-id"]
            )
        return self._wait_ready(ctx, res, scope, self.ocid(live))

    def delete(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> None:
        """Delete and wait until it is gone."""
        client = self.sdk(ctx, scope)
        response = self.delete_call(client, scope, self.ocid(live))
        if self.scheduled_delete:
            return
        if self.work_requests:
            wait_for_work_request(
                ctx, client, f"{self.label} {res.name}", response.headers["opc-work-request-id"]
            )
            return
        wait_for_state(
            ctx,
            client,
            f"{self.label} {res.name}",
            lambda: self.get_call(client, scope, self.ocid(live)),
            self.deleted,
            gone_ok=True,
        )

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """Desired fields against the live object."""
        return field_diff(res, live, spec, self.tags(live))

    def pending_deletion(self, live: Any) -> bool:
        """Vault objects wait 1-30 days before deletion; until then they can be restored."""
        return self.restore_call is not None and getattr(live, "lifecycle_state", None) == "PENDING_DELETION"

    def restore(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> Any:
        """Cancel the scheduled deletion and wait until usable."""
        assert self.restore_call is not None
        self.restore_call(self.sdk(ctx, scope), scope, self.ocid(live))
        return self._wait_ready(ctx, res, scope, self.ocid(live))

    def _wait_ready(self, ctx: Context, res: Resource, scope: str | None, ocid: str) -> Any:
        client = self.sdk(ctx, scope)
        return wait_for_state(
            ctx, client, f"{self.label} {res.name}", lambda: self.get_call(client, scope, ocid), self.ready
        )
