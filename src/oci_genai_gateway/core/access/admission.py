"""Admission: the key a request carries (checked here on the HTTP server, by API Gateway on Functions)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from oci_genai_gateway.core.access import metering, policy
from oci_genai_gateway.core.access.grant import Grant
from oci_genai_gateway.core.access.keys import match_key, read_key
from oci_genai_gateway.core.access.limits import Budget, Clock, Limiter, Limits
from oci_genai_gateway.core.access.policy import KeyPolicy
from oci_genai_gateway.core.errors import Unauthorized
from oci_genai_gateway.core.settings import Settings


class Admission:
    """Turns a request's headers into its Grant; one per process, holding the keys and the counters."""

    def __init__(
        self, settings: Settings, meter: metering.Meter, limits: Limits, *, authenticate: bool
    ) -> None:
        # The HTTP server checks bearer keys itself; on Functions the API Gateway authorizer did, and
        # API Gateway passes the key's policy in headers it overwrites (apigw/deployment.json).
        self._keys = settings.api_keys if authenticate else None
        self._policies = settings.key_policies
        self._targets = settings.target_of
        self._limits = limits
        self.meter = meter

    def admit(self, headers: Mapping[str, str], *, public: bool = False) -> Grant:
        """The request's grant; 401 for a missing or wrong key where keys are checked here."""
        if self._keys is None:
            found = policy.from_headers(headers)
            return self._grant(found.team if found else None, found)
        if public:
            return self._grant(None, None)
        name = self._authenticate(headers)
        return self._grant(name, self._policies.get(name) or KeyPolicy(team=name))

    def _grant(self, key_name: str | None, key_policy: KeyPolicy | None) -> Grant:
        return Grant(key_name, key_policy, self.meter, self._targets, self._limits)

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        assert self._keys is not None
        credential = read_key(headers.get("authorization"), headers.get("x-api-key"))
        if credential.token is None:
            if credential.problem == "malformed":
                raise Unauthorized()
            raise Unauthorized(
                "Missing bearer key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
            )
        name = match_key(credential.token, self._keys)
        if name is None:
            raise Unauthorized()
        return name


class MonitoringLike(Protocol):
    """What metering and budgets need of core.upstream.monitoring.Monitoring (tests pass a fake)."""

    def post(self, details: Any) -> Any: ...

    def tokens_spent(self, team: str, start: datetime, end: datetime) -> float: ...


def build_admission(
    settings: Settings, monitoring: MonitoringLike | None, *, authenticate: bool, clock: Clock = time.time
) -> Admission:
    """The meter, the budget (from Monitoring when metrics are on) and, for the HTTP server, the limiter."""
    sender: metering.MetricsSender | None = None
    budget: Budget | None = None
    if monitoring is not None:
        metrics_on = settings.metrics
        reader = monitoring.tokens_spent

        async def spent(team: str, start: datetime, end: datetime) -> float:
            # Without metrics nothing reaches Monitoring: count what this process metered only.
            return await asyncio.to_thread(reader, team, start, end) if metrics_on else 0.0

        budget = Budget(spent, ttl=settings.budget_cache_seconds, clock=clock)
        if metrics_on:
            sender = metering.MetricsSender(
                monitoring.post,
                namespace=settings.metrics_namespace,
                compartment_id=settings.compartment_id,
                flush_seconds=settings.metrics_flush_seconds,
            )
    meter = metering.Meter(sender, spent=budget.add if budget else None, clock=clock)
    # On Functions each instance is its own process: rates and quotas are API Gateway's usage plans.
    limiter = Limiter(clock=clock, workers=settings.workers) if authenticate else None
    return Admission(settings, meter, Limits(limiter, budget, clock), authenticate=authenticate)
