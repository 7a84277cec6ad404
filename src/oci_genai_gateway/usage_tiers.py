"""The API Gateway usage plans keys need: a plan per distinct rate and quota, a subscriber per key.

API Gateway forwards a request only if its client token belongs to a subscriber of a usage plan
that includes the deployment, so every key is subscribed, unlimited ones to an unlimited plan.
https://docs.oracle.com/en-us/iaas/Content/APIGateway/Tasks/apigatewaydefiningusageplans_topic-Making_an_API_Deployment_Eligible_for_Inclusion_in_a_Usage_Plan.htm
Subscribers of one plan each have their own rate and quota: a plan is a tier, not a shared pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from oci_genai_gateway.core.access.policy import KeyTable, Quota, client_token


@dataclass(frozen=True)
class Tier:
    """A rate (requests per second) and a calendar quota; neither: unlimited."""

    rps: int | None
    quota: Quota | None

    def suffix(self) -> str:
        """The plan's name after the prefix: `plan-unlimited`, `plan-r5`, `plan-r5-q1000-day`."""
        parts = ["plan"]
        if self.rps is not None:
            parts.append(f"r{self.rps}")
        if self.quota is not None:
            parts.append(f"q{self.quota.requests}-{self.quota.per}")
        if len(parts) == 1:
            parts.append("unlimited")
        return "-".join(parts)


@dataclass(frozen=True)
class Subscription:
    """One key's subscriber: its client (the team's name and token) and its tier."""

    team: str
    token: str
    tier: Tier


def subscriptions(keys: KeyTable, scope: str) -> list[Subscription]:
    """One per team (rotated-out keys share their team's), sorted by team."""
    return [
        Subscription(team, client_token(scope, team), Tier(policy.rps, policy.quota))
        for team, policy in sorted(keys.teams().items())
    ]


def tiers(subs: list[Subscription]) -> list[Tier]:
    """The distinct tiers, in a stable order."""
    return sorted({s.tier for s in subs}, key=lambda t: t.suffix())
