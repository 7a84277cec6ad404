"""The scaled target's kinds that depart from SdkKind: configurations without state, the rolling pool."""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.deploy.engine.resource_model import Condition, Context, Resource, Spec
from oci_genai_gateway.deploy.engine.sdk_calls import list_all, wait_for_state
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind


class StatelessKind(SdkKind):
    """Objects without a lifecycle state (instance and autoscaling configurations)."""

    def _wait_ready(self, ctx: Context, res: Resource, scope: str | None, ocid: str) -> Any:
        return self.get_call(self.sdk(ctx, scope), scope, ocid).data

    def find(self, ctx: Context, res: Resource, scope: str | None) -> list[Any]:
        """Same-named (their list calls filter neither by name nor by state)."""
        items = self.lister(self.sdk(ctx, scope), self.compartment(ctx), scope, res.name)
        return [item for item in items if getattr(item, self.name_field, None) == res.name]

    def delete(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> None:
        """Deleted at once."""
        self.delete_call(self.sdk(ctx, scope), scope, self.ocid(live))

    def condition(self, live: Any) -> Condition:
        """Always usable: there is no state to be in."""
        return Condition.READY


class ConfigurationKind(StatelessKind):
    """An instance configuration: immutable in OCI, so a change is a new one (the pool rolls onto it)."""

    def find(self, ctx: Context, res: Resource, scope: str | None) -> list[Any]:
        """The newest of the same-named: the one the pool uses, or is about to."""
        found = super().find(ctx, res, scope)
        return sorted(found, key=lambda item: str(item.time_created))[-1:]

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """A new configuration next to the old one; the pool deletes the old one after its roll."""
        return self.create(ctx, res, scope, changed, tags)


class PoolKind(SdkKind):
    """An instance pool that, given a new instance configuration, replaces its instances one by one.

    Each old instance is detached with auto-terminate and without shrinking the pool: the pool
    launches its replacement from the new configuration, and the old one leaves the backend set and
    waits out the pre-termination drain (`scaled.drain_seconds`) before it is terminated. The next
    one goes only once the pool is RUNNING again; then the superseded configurations are deleted.
    """

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Point the pool at the new configuration, then roll its instances onto it."""
        updated = super().update(ctx, res, scope, live, changed, tags)
        if "instance_configuration_id" in changed:
            self._roll(ctx, res, self.ocid(live), changed["instance_configuration_id"])
        return updated

    def _roll(self, ctx: Context, res: Resource, pool_id: str, configuration_id: str) -> None:
        import oci

        client = self.sdk(ctx)
        members = list_all(client.list_instance_pool_instances, ctx.compartment_id, pool_id)
        old = [m for m in members if m.instance_configuration_id != configuration_id]
        for member in old:
            ctx.reporter.progress(f"replacing instance {member.display_name} of {res.name} (draining first)")
            details = oci.core.models.DetachInstancePoolInstanceDetails(
                instance_id=member.id, is_decrement_size=False, is_auto_terminate=True
            )
            client.detach_instance_pool_instance(pool_id, details)
            self._wait_ready(ctx, res, None, pool_id)
        # The configurations this pool no longer uses (same name, made by earlier applies).
        name = res.name.removesuffix("-pool")  # the configuration's name (resources/scaled.py)
        for item in list_all(client.list_instance_configurations, ctx.compartment_id):
            if item.display_name == name and item.id != configuration_id:
                client.delete_instance_configuration(item.id)

    def _wait_ready(self, ctx: Context, res: Resource, scope: str | None, ocid: str) -> Any:
        client = self.sdk(ctx, scope)
        what = f"{self.label} {res.name}"
        return wait_for_state(ctx, client, what, lambda: self.get_call(client, scope, ocid), self.ready)


class LoadBalancerKind(SdkKind):
    """The load balancer: a new bandwidth range is its own call (UpdateLoadBalancerShape)."""

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """The shape's bandwidth first (its own work request), then the rest as any kind's update."""
        if "shape_details" in changed:
            import oci

            changed = dict(changed)
            details = oci.load_balancer.models.UpdateLoadBalancerShapeDetails(
                shape_name="flexible", shape_details=changed.pop("shape_details")
            )
            client = self.sdk(ctx, scope)
            self._follow(ctx, res, scope, client.update_load_balancer_shape(self.ocid(live), details))
        return super().update(ctx, res, scope, live, changed, tags)
