"""Admission: the key a request carries (checked here on the HTTP server, by API Gateway on Functions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from oci_genai_gateway.core.access import policy
from oci_genai_gateway.core.access.grant import Grant
from oci_genai_gateway.core.access.keys import match_key, read_key
from oci_genai_gateway.core.access.limits import Limits
from oci_genai_gateway.core.access.metering import Meter
from oci_genai_gateway.core.access.policy import KeyPolicy
from oci_genai_gateway.core.errors import Unauthorized
from oci_genai_gateway.core.targets import Resolve


class Admission:
    """Turns a request's headers into its Grant; one per process, holding the keys and the counters."""

    def __init__(
        self,
        keys: Mapping[str, str] | None,
        policies: Mapping[str, KeyPolicy],
        targets: Resolve,
        meter: Meter,
        limits: Limits,
    ) -> None:
        # With `keys` (the HTTP server) bearer keys are checked here; without (Functions) the API
        # Gateway authorizer checked them, and passes the key's policy in headers it overwrites.
        self._keys = keys
        self._policies = policies
        self._targets = targets
        self.limits = limits
        self.meter = meter

    def admit(self, headers: Mapping[str, str], *, public: bool = False) -> Grant:
        """The request's grant; 401 for a missing or wrong key where keys are checked here."""
        if self._keys is None:
            found = policy.from_headers(headers)
            return self._grant(found.team if found else None, found)
        if public:
            return self._grant(None, None)
        name = self._authenticate(self._keys, headers)
        return self._grant(name, self._policies.get(name) or KeyPolicy(team=name))

    def _grant(self, key_name: str | None, key_policy: KeyPolicy | None) -> Grant:
        return Grant(key_name, key_policy, self.meter, self._targets, self.limits)

    @staticmethod
    def _authenticate(keys: Mapping[str, str], headers: Mapping[str, str]) -> str:
        credential = read_key(headers.get("authorization"), headers.get("x-api-key"))
        if credential.token is None:
            if credential.problem == "malformed":
                raise Unauthorized()
            raise Unauthorized(
                "Missing bearer key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
            )
        name = match_key(credential.token, keys)
        if name is None:
            raise Unauthorized()
        return name


class MonitoringLike(Protocol):
    """What metering and budgets need of core.upstream.monitoring.Monitoring (tests pass a fake)."""

    def post(self, details: Any) -> Any: ...

    def tokens_spent(self, team: str, start: datetime, end: datetime) -> float: ...
