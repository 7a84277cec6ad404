"""SdkKind: a Kind for OCI's common resource shape, driven by calls that kind_factory derives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.deploy.engine.compare import field_diff
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import (
    BUSY_STATES,
    DIGEST_TAG,
    OWNER_TAG,
    Changes,
    Condition,
    Context,
    Kind,
    Resource,
    Spec,
)
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
    failed: tuple[str, ...] = ("FAILED",)
    # Create, update and delete are followed by their work request (Logging: the create returns no
    # object; API Gateway: it does, but its lifecycle state lags the work request).
    work_requests: bool = False
    # The client whose get_work_request reads them, when not the kind's own (API Gateway's).
    work_request_client: str | None = None
    # False when OCI's create call takes no retry token (Functions): a failed create is looked up
    # before it is tried again.
    create_retry_token: bool = True
    # Deleting it can meet 409 while OCI releases VNICs of deleted services (subnets, VCN, NSG).
    releases_vnics: bool = False
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
        response = self._create(ctx, res, scope, client, self.create_model(**fields), tags)
        if response is None:
            return self._wait_ready(ctx, res, scope, self.ocid(self._owned(ctx, res, scope, tags)[0]))
        if not self.work_requests:
            return self._wait_ready(ctx, res, scope, self.ocid(response.data))
        self._follow(ctx, res, scope, response)
        if response.data is not None:
            return self._wait_ready(ctx, res, scope, self.ocid(response.data))
        found = self._owned(ctx, res, scope, tags)
        if not found:
            raise DeployError(f"{self.label} {res.name}: created, but not found afterwards; apply again")
        return self._wait_ready(ctx, res, scope, self.ocid(found[0]))

    def _owned(self, ctx: Context, res: Resource, scope: str | None, tags: dict[str, str]) -> list[Any]:
        owner = tags.get(OWNER_TAG)
        return [i for i in self.find(ctx, res, scope) if self.tags(i).get(OWNER_TAG) == owner]

    def _create(
        self, ctx: Context, res: Resource, scope: str | None, client: Any, details: Any, tags: dict[str, str]
    ) -> Any:
        """The create call's response; None when a retry found the first attempt had created it."""
        if self.create_retry_token:
            return self.create_call(client, scope, details)
        attempts: list[int] = []

        def attempt() -> Any:
            # Without a retry token, an attempt that failed after OCI acted must not be repeated.
            if attempts and self._owned(ctx, res, scope, tags):
                return None
            attempts.append(1)
            return self.create_call(client, scope, details)

        return ctx.clients.strategy.make_retrying_call(attempt)

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Send only the changed fields (and the tags) and wait."""
        if self.update_model is None or self.update_call is None:
            raise DeployError(f"{self.label} {res.name} cannot be updated in place; destroy and apply")
        client = self.sdk(ctx, scope)
        # The digest says "this spec is applied": written only once the change has succeeded, so a
        # change that fails asynchronously is still a difference on the next apply.
        old = self.tags(live).get(DIGEST_TAG)
        first = {**tags, DIGEST_TAG: old} if old else {k: v for k, v in tags.items() if k != DIGEST_TAG}
        response = self.update_call(
            client, scope, self.ocid(live), self.update_model(**changed, freeform_tags=first)
        )
        self._follow(ctx, res, scope, response)
        done = self._wait_ready(ctx, res, scope, self.ocid(live))
        if first == tags:
            return done
        response = self.update_call(client, scope, self.ocid(live), self.update_model(freeform_tags=tags))
        self._follow(ctx, res, scope, response)
        return self._wait_ready(ctx, res, scope, self.ocid(live))

    def delete(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> None:
        """Delete and wait until it is gone."""
        client = self.sdk(ctx, scope)
        deleting = ctx.clients.releasing(client) if self.releases_vnics else client
        response = self.delete_call(deleting, scope, self.ocid(live))
        if self.scheduled_delete:
            return
        if self.work_requests:
            self._follow(ctx, res, scope, response)
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

    def condition(self, live: Any) -> Condition:
        """Each lifecycle state of the kind, and the transitional ones OCI uses, mapped explicitly."""
        state = getattr(live, "lifecycle_state", None)
        if self.pending_deletion(live):
            return Condition.PENDING_DELETION
        if state is None or state in self.ready:
            return Condition.READY
        if state in self.failed:
            return Condition.FAILED
        if state in BUSY_STATES:
            return Condition.BUSY
        return Condition.UNUSABLE

    def settle(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> Any:
        """Wait for a creating or updating object to be ready or failed (no error either way)."""
        client = self.sdk(ctx, scope)
        settled = self.ready + self.failed
        return wait_for_state(
            ctx,
            client,
            f"{self.label} {res.name}",
            lambda: self.get_call(client, scope, self.ocid(live)),
            settled,
            failed=(),
        )

    def _follow(self, ctx: Context, res: Resource, scope: str | None, response: Any) -> None:
        work_request = response.headers.get("opc-work-request-id") if self.work_requests else None
        if work_request:
            wr_client = ctx.clients.get(self.work_request_client) if self.work_request_client else None
            client = wr_client or self.sdk(ctx, scope)
            wait_for_work_request(ctx, client, f"{self.label} {res.name}", work_request)

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
            ctx,
            client,
            f"{self.label} {res.name}",
            lambda: self.get_call(client, scope, ocid),
            self.ready,
            failed=self.failed,
        )
