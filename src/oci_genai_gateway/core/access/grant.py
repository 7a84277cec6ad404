"""A request's grant: whose key it carries, what that key may use, and where its usage is counted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from oci_genai_gateway.core.access.limits import Limits
from oci_genai_gateway.core.access.metering import Meter
from oci_genai_gateway.core.access.policy import KeyPolicy
from oci_genai_gateway.core.errors import GatewayError
from oci_genai_gateway.core.targets import Resolve, Target


class ModelNotAllowed(GatewayError):
    """The key may not use this model (403)."""

    status = 403
    error_type = "invalid_request_error"
    default_code = "model_not_allowed"

    def __init__(self, model: str, team: str) -> None:
        super().__init__(f"The API key '{team}' is not allowed to use the model `{model}`.", param="model")


@dataclass(frozen=True)
class Grant:
    """What admission decided for one request; handed explicitly to every step that needs it."""

    key_name: str | None  # the key that authenticated it (`team~1` for a rotated-out key), for the log
    policy: KeyPolicy | None  # None: no key (a public route, or a plain `fn invoke`)
    meter: Meter
    targets: Resolve  # the settings' model names and aliases
    limits: Limits = field(default_factory=Limits)  # what this process counts (none: API Gateway)

    @property
    def team(self) -> str | None:
        """The team the request's usage is counted for."""
        return self.policy.team if self.policy is not None else None

    async def enforce(self, method: str) -> None:
        """Hold the key to its limits: 401 once rotated out, 429 past its rate, quota or budget."""
        if self.policy is not None:
            await self.limits.enforce(self.policy, method)

    def resolve(self, model: str) -> Target:
        """The OCI target of `model`; 403 when this key may not use it."""
        target = self.targets(model)
        if self.policy is None:
            return target
        if not self.policy.allows(model, target, self.targets):
            raise ModelNotAllowed(model, self.policy.team)
        # The key's residency travels with the target to the upstream router (core/upstream/regions.py).
        return replace(target, regions=self.policy.regions) if self.policy.regions else target

    def allows(self, model: str) -> bool:
        """Whether this key may use `model` (listing models: a key limited to some sees only those)."""
        return self.policy is None or self.policy.allows(model, self.targets(model), self.targets)

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions this key is restricted to (empty: any)."""
        return self.policy.regions if self.policy is not None else ()

    def record(
        self,
        route: str,
        model: str,
        target: Target,
        usage: Mapping[str, Any] | None,
        *,
        stream: bool = False,
        region: str | None = None,
    ) -> None:
        """Meter one generation of this request for its team (and the region that served it)."""
        self.meter.record(self.team, route, model, target, usage, stream=stream, region=region)

    def blocked(self, route: str, model: str, target: Target, tripped: list[str]) -> None:
        """Meter a request this key's guardrails blocked (no tokens were spent)."""
        self.meter.blocked(self.team, route, model, target, tripped)
