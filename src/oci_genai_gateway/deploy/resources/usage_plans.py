"""API Gateway usage plans (one per rate/quota tier) and subscribers (one per key), from the keys secret.

The keys secret is the source of truth: `deploy apply` and every `keys` command reconcile the plans
and subscribers with it (usage_tiers.py decides what they are). SDK models:
https://docs.oracle.com/en-us/iaas/tools/python/latest/api/apigateway/models/oci.apigateway.models.CreateUsagePlanDetails.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.access.policy import KeyTable
from oci_genai_gateway.deploy.engine.resource_model import (
    OWNER_TAG,
    Changes,
    Context,
    Kind,
    Resource,
    Spec,
    is_pending,
)
from oci_genai_gateway.deploy.engine.sdk_calls import list_all, wait_for_state
from oci_genai_gateway.usage_tiers import Subscription, Tier, subscriptions, tiers

ENTITLEMENT = "gateway"  # the one entitlement of each plan: the deployment, at the tier's limits
_GONE = ("DELETED", "DELETING")


@dataclass
class PlanSet:
    """The live plans and subscribers of one deployment prefix (full objects, by display name)."""

    plans: dict[str, Any] = field(default_factory=dict)
    subscribers: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """A stable stand-in OCID (the set has none of its own)."""
        return next(iter(sorted(p.id for p in self.plans.values())), "usage-plans")


def plan_name(prefix: str, tier: Tier) -> str:
    """`<prefix>-plan-r5-q1000-day`."""
    return f"{prefix}-{tier.suffix()}"


def subscriber_name(prefix: str, team: str) -> str:
    """`<prefix>-key-<team>`."""
    return f"{prefix}-key-{team}"


def entitlement(tier: Tier, deployment_id: str) -> Any:
    """The tier's limits on the deployment (quotas reset on the calendar; excess requests rejected)."""
    from oci.apigateway import models as m

    quota = tier.quota
    return m.Entitlement(
        name=ENTITLEMENT,
        description=f"oci-genai-gateway {tier.suffix()}",
        rate_limit=m.RateLimit(value=tier.rps, unit="SECOND") if tier.rps is not None else None,
        quota=m.Quota(
            value=quota.requests,
            unit=quota.per.upper(),
            reset_policy="CALENDAR",
            operation_on_breach="REJECT",
        )
        if quota is not None
        else None,
        targets=[m.EntitlementTarget(deployment_id=deployment_id)],
    )


def _plain(entitlements: list[Any] | None) -> list[tuple[Any, ...]]:
    out = []
    for e in entitlements or []:
        rate = (e.rate_limit.value, e.rate_limit.unit) if e.rate_limit else None
        quota = (
            (e.quota.value, e.quota.unit, e.quota.reset_policy, e.quota.operation_on_breach)
            if e.quota
            else None
        )
        out.append((e.name, rate, quota, sorted(t.deployment_id for t in e.targets or [])))
    return out


class Plans:
    """Reads and reconciles one prefix's plans and subscribers in one compartment."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.prefix = ctx.config.prefix

    @property
    def _plans(self) -> Any:
        return self.ctx.clients.usage_plans

    @property
    def _subscribers(self) -> Any:
        return self.ctx.clients.subscribers

    def live(self) -> PlanSet:
        """Every plan and subscriber named like ours (owned or not), as full objects."""
        out = PlanSet()
        for summary in list_all(self._plans.list_usage_plans, self.ctx.compartment_id):
            if (
                summary.display_name.startswith(f"{self.prefix}-plan-")
                and summary.lifecycle_state not in _GONE
            ):
                out.plans[summary.display_name] = self._plans.get_usage_plan(summary.id).data
        for summary in list_all(self._subscribers.list_subscribers, self.ctx.compartment_id):
            if (
                summary.display_name.startswith(f"{self.prefix}-key-")
                and summary.lifecycle_state not in _GONE
            ):
                out.subscribers[summary.display_name] = self._subscribers.get_subscriber(summary.id).data
        return out

    def changes(self, live: PlanSet, subs: list[Subscription], deployment_id: str) -> list[str]:
        """Plan and subscriber names that would be created, changed or deleted."""
        want_plans = {plan_name(self.prefix, t): t for t in tiers(subs)}
        plans = [n for n, t in want_plans.items() if not self._plan_ok(live.plans.get(n), t, deployment_id)]
        plans += [n for n in live.plans if n not in want_plans]
        ids = {n: p.id for n, p in live.plans.items()}
        subscribers = [
            subscriber_name(self.prefix, s.team)
            for s in subs
            if not self._subscriber_ok(live.subscribers.get(subscriber_name(self.prefix, s.team)), s, ids)
        ]
        wanted = {subscriber_name(self.prefix, s.team) for s in subs}
        subscribers += [n for n in live.subscribers if n not in wanted]
        return sorted(plans + subscribers)

    def sync(
        self, live: PlanSet, subs: list[Subscription], deployment_id: str, tags: dict[str, str]
    ) -> PlanSet:
        """Create and update what is missing or different, then delete what no key needs."""
        from oci.apigateway import models as m

        ctx = self.ctx
        for tier in tiers(subs):
            name = plan_name(self.prefix, tier)
            current = live.plans.get(name)
            wanted = [entitlement(tier, deployment_id)]
            if current is None:
                details = m.CreateUsagePlanDetails(
                    display_name=name,
                    compartment_id=ctx.compartment_id,
                    entitlements=wanted,
                    freeform_tags=tags,
                )
                live.plans[name] = self._wait(
                    self._plans, "usage_plan", self._plans.create_usage_plan(details)
                )
            elif not self._plan_ok(current, tier, deployment_id):
                self._plans.update_usage_plan(current.id, m.UpdateUsagePlanDetails(entitlements=wanted))
                live.plans[name] = self._wait(self._plans, "usage_plan", current)
        ids = {n: p.id for n, p in live.plans.items()}
        wanted_subs = {subscriber_name(self.prefix, s.team): s for s in subs}
        for name, sub in wanted_subs.items():
            current = live.subscribers.get(name)
            clients = [m.Client(name=sub.team, token=sub.token)]
            plan_ids = [ids[plan_name(self.prefix, sub.tier)]]
            if current is None:
                details = m.CreateSubscriberDetails(
                    display_name=name,
                    compartment_id=ctx.compartment_id,
                    clients=clients,
                    usage_plans=plan_ids,
                    freeform_tags=tags,
                )
                created = self._subscribers.create_subscriber(details)
                live.subscribers[name] = self._wait(self._subscribers, "subscriber", created)
            elif not self._subscriber_ok(current, sub, ids):
                update = m.UpdateSubscriberDetails(clients=clients, usage_plans=plan_ids)
                self._subscribers.update_subscriber(current.id, update)
                live.subscribers[name] = self._wait(self._subscribers, "subscriber", current)
        for name in [n for n in live.subscribers if n not in wanted_subs]:
            self._delete(self._subscribers, "subscriber", live.subscribers.pop(name))
        wanted_plans = {plan_name(self.prefix, t) for t in tiers(subs)}
        for name in [n for n in live.plans if n not in wanted_plans]:
            self._delete(self._plans, "usage_plan", live.plans.pop(name))
        return live

    def delete_all(self, live: PlanSet) -> None:
        """Subscribers first: a plan with subscribers cannot go."""
        for sub in live.subscribers.values():
            self._delete(self._subscribers, "subscriber", sub)
        for plan in live.plans.values():
            self._delete(self._plans, "usage_plan", plan)

    def _plan_ok(self, live: Any, tier: Tier, deployment_id: str) -> bool:
        return live is not None and _plain(live.entitlements) == _plain([entitlement(tier, deployment_id)])

    def _subscriber_ok(self, live: Any, sub: Subscription, plan_ids: Mapping[str, str]) -> bool:
        if live is None:
            return False
        clients = [(c.name, c.token) for c in live.clients or []]
        wanted_plan = plan_ids.get(plan_name(self.prefix, sub.tier))
        return clients == [(sub.team, sub.token)] and list(live.usage_plans or []) == [wanted_plan]

    def _wait(self, client: Any, noun: str, created: Any) -> Any:
        """Until ACTIVE (`created`: a create response or the live object)."""
        ocid = getattr(created, "data", created).id
        get = getattr(client, f"get_{noun}")
        return wait_for_state(
            self.ctx, client, f"{noun.replace('_', ' ')} {ocid}", lambda: get(ocid), ("ACTIVE",)
        )

    def _delete(self, client: Any, noun: str, live: Any) -> None:
        getattr(client, f"delete_{noun}")(live.id)
        get = getattr(client, f"get_{noun}")
        wait_for_state(self.ctx, client, live.display_name, lambda: get(live.id), ("DELETED",), gone_ok=True)


class UsagePlansKind(Kind):
    """A deployment's plans and subscribers as one resource: `{"subscribers": {secret_id, deployment_id}}`."""

    label = "usage plans and subscribers"
    family = "api-gateway-family"

    def __init__(self, read_keys: Callable[[Context, str], KeyTable]) -> None:
        self._read_keys = read_keys

    def find(self, ctx: Context, res: Resource, scope: str | None) -> list[Any]:
        """The set, if any plan or subscriber of ours exists."""
        live = Plans(ctx).live()
        return [live] if live.plans or live.subscribers else []

    def tags(self, live: Any) -> Mapping[str, str]:
        """Owned only if every one of them carries our tag (a stranger's is a conflict)."""
        items = [*live.plans.values(), *live.subscribers.values()]
        owners = {str((getattr(i, "freeform_tags", None) or {}).get(OWNER_TAG)) for i in items}
        return {OWNER_TAG: owners.pop()} if len(owners) == 1 and "None" not in owners else {}

    def ocid(self, live: Any) -> str:
        """The set's stand-in id."""
        return str(live.id)

    def _subs(self, ctx: Context, ids: Mapping[str, str]) -> list[Subscription]:
        return subscriptions(self._read_keys(ctx, ids["secret_id"]), ids["secret_id"])

    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """A plan per tier and a subscriber per key in the secret."""
        ids = spec["subscribers"]
        return Plans(ctx).sync(PlanSet(), self._subs(ctx, ids), ids["deployment_id"], tags)

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Reconcile with the secret's current keys."""
        ids = changed["subscribers"]
        return Plans(ctx).sync(live, self._subs(ctx, ids), ids["deployment_id"], tags)

    def delete(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> None:
        """Every subscriber, then every plan."""
        Plans(ctx).delete_all(live)

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """The plans and subscribers that differ from what the keys need (by name)."""
        ids = spec["subscribers"]
        if is_pending(ids["secret_id"]) or is_pending(ids["deployment_id"]):
            return {"subscribers": ([], "after the keys secret and the deployment exist")}
        differing = Plans(ctx).changes(live, self._subs(ctx, ids), ids["deployment_id"])
        return {"subscribers": (sorted([*live.plans, *live.subscribers]), differing)} if differing else {}
