"""Usage plans and subscribers: in OCI resources beside the spec, here the same tiers deploy creates.

The spec's usage-plan policy names where a request's client token is (`request.auth[client_id]`);
API Gateway forwards a request only when that token is a subscriber's, and meters and limits it by
its plan's entitlement: a rate per second and a calendar quota, each a 429 with Retry-After when
exceeded (quota breach: REJECT).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from oci_genai_devstack.localgw.http import Response, gateway_error
from oci_genai_devstack.localgw.policies import too_many_requests
from oci_genai_gateway.core.access import policy as key_policy
from oci_genai_gateway.core.access.limits import Limiter
from oci_genai_gateway.core.access.policy import KeyPolicy
from oci_genai_gateway.core.errors import RateLimited
from oci_genai_gateway.usage_tiers import Subscription, subscriptions


class UsagePlans:
    """The subscribers of the deployment's plans by client token, and their rates and quotas."""

    def __init__(self, subs: Iterable[Subscription], clock: Callable[[], float] = time.time) -> None:
        self.subscribers = {s.token: s for s in subs}
        self._limiter = Limiter(clock=clock)  # per token: the gateway's own in-process semantics

    @classmethod
    def from_api_keys(
        cls, raw: str, *, scope: str = "static", clock: Callable[[], float] = time.time
    ) -> UsagePlans:
        """What `deploy` would create for these keys (the authorizer's GATEWAY_API_KEYS)."""
        return cls(subscriptions(key_policy.parse_env(raw), scope), clock)

    def admit(self, token: str | None) -> Response | None:
        """None when the request may go on; else API Gateway's 403 (no subscriber) or 429."""
        subscriber = self.subscribers.get(token) if token else None
        if subscriber is None:
            # Not a subscriber of any plan that includes the deployment: not forwarded. OCI's exact
            # status for this is not documented; 403 says "authenticated, but not entitled".
            return gateway_error(403)
        tier = subscriber.tier
        try:
            self._limiter.admit(KeyPolicy(team=subscriber.token, rps=tier.rps, quota=tier.quota))
        except RateLimited as exc:
            return too_many_requests(float(exc.headers["Retry-After"]))
        return None
