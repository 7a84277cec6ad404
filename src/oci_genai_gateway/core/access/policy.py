"""Keys with policy: each key is a team's, with the models it may use, its rate, quota and token budget.

The keys JSON (`GATEWAY_API_KEYS`, or the Vault secret's `"keys"`) maps a name to a key, as before,
or to an object: `{"key", "models", "regions", "rps", "quota": {"requests", "per"}, "monthly_tokens",
"previous": [{"key", "until"}], "created"}`. A rotated-out key stays valid until its `until`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from oci_genai_gateway.core.access.guardrails import (
    GUARDRAILS_HEADER,
    NO_GUARDRAILS,
    Guardrails,
    from_header,
    parse_guardrails,
)
from oci_genai_gateway.core.access.keys import MIN_KEY_LENGTH, parse_api_keys, read_bearer, validate_keys
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.targets import Resolve, Target

# API Gateway's Quota units (oci.apigateway.models.Quota.unit), in lower case.
PERIODS = ("minute", "hour", "day", "week", "month")
ROTATED = "~"  # `team~1`: the team's first rotated-out key; `~` is not allowed in key names
# Model names, aliases and fnmatch patterns; no comma, so the list travels as one header value.
_MODEL = re.compile(r"^[A-Za-z0-9._:/*?@+-]{1,256}$")
_FIELDS = frozenset({"key", "models", "regions", "rps", "quota", "monthly_tokens", "previous", "created"})
_REGION = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_FIELDS |= {"guardrails"}  # core/access/guardrails.py

# Headers API Gateway sets from the authorizer's context (apigw/deployment.json, OVERWRITE).
KEY_NAME_HEADER = "x-gateway-key-name"
MODELS_HEADER = "x-gateway-key-models"
REGIONS_HEADER = "x-gateway-key-regions"
BUDGET_HEADER = "x-gateway-key-monthly-tokens"


@dataclass(frozen=True)
class Quota:
    """At most `requests` per calendar `per` (minute ... month, UTC)."""

    requests: int
    per: str


@dataclass(frozen=True)
class KeyPolicy:
    """What one key may do; `until` is set on a rotated-out key."""

    team: str
    models: tuple[str, ...] = ()  # empty: every model
    rps: int | None = None
    quota: Quota | None = None
    monthly_tokens: int | None = None
    until: datetime | None = None
    regions: tuple[str, ...] = ()  # data residency: routed and failed over only here (empty: anywhere)
    guardrails: Guardrails = NO_GUARDRAILS  # what applyGuardrails checks (core/access/guardrails.py)

    @property
    def limited(self) -> bool:
        """True when a rate or quota applies (a usage plan with limits)."""
        return self.rps is not None or self.quota is not None

    def expired(self, now: float) -> bool:
        """True for a rotated-out key past its grace period."""
        return self.until is not None and self.until.timestamp() <= now

    def allows(self, model: str, target: Target, resolve: Resolve) -> bool:
        """The requested name, its OCI model (or dedicated endpoint) or its alias is on the list."""
        if not self.models:
            return True
        names = (model, target.endpoint_id or target.model)
        for entry in self.models:
            if any(fnmatchcase(name, entry) for name in names):
                return True
            # An alias on the list allows what it names, whatever the client calls it.
            if "*" not in entry and "?" not in entry and resolve(entry) == target:
                return True
        return False


class KeyTable(Mapping[str, str]):
    """Every valid key by name (rotated-out ones as `team~N`), and each name's policy; repr shows names."""

    def __init__(self, keys: Mapping[str, str], policies: Mapping[str, KeyPolicy]) -> None:
        self._keys = dict(keys)
        self.policies: Mapping[str, KeyPolicy] = dict(policies)

    def __getitem__(self, name: str) -> str:
        return self._keys[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyTable({sorted(self._keys)!r})"

    def policy(self, name: str) -> KeyPolicy:
        """The policy of a key name (plain keys have one too: no limits)."""
        return self.policies.get(name) or KeyPolicy(team=name.split(ROTATED, 1)[0])

    def teams(self) -> dict[str, KeyPolicy]:
        """The current policy of every team (rotated-out names left out)."""
        return {name: p for name, p in self.policies.items() if ROTATED not in name}


def parse_env(raw: str, source: str = "GATEWAY_API_KEYS") -> KeyTable:
    """`name:key,...` or a JSON object of name -> key or policy object."""
    stripped = raw.strip()
    if not stripped.startswith("{"):
        keys = parse_api_keys(raw)
        return KeyTable(keys, {name: KeyPolicy(team=name) for name in keys})
    try:
        parsed = json.loads(stripped)
    except json.JSONDecodeError:
        raise ConfigError(f"{source} is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ConfigError(f"{source} must map key names to keys")
    return parse_entries(parsed, source)


def parse_entries(entries: Mapping[str, object], source: str) -> KeyTable:
    """Validate the keys JSON; errors give the entry's position and never quote a key."""
    current_keys: dict[str, object] = {}
    details: dict[str, Mapping[str, Any]] = {}
    for index, (name, value) in enumerate(entries.items(), start=1):
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - _FIELDS)
            if unknown:
                raise ConfigError(f"{source}: entry #{index} has an unknown field {unknown[0]!r}")
            current_keys[name] = value.get("key")
            details[name] = value
        else:
            current_keys[name] = value
    keys: dict[str, str] = dict(validate_keys(current_keys, source))
    policies = {name: KeyPolicy(team=name) for name in keys}
    for index, name in enumerate(list(keys), start=1):
        if name not in details:
            continue
        where = f"{source}: entry #{index}"
        policies[name] = _policy(name, details[name], where)
        for number, (key, until) in enumerate(_previous(details[name], where), start=1):
            rotated = f"{name}{ROTATED}{number}"
            keys[rotated] = key
            policies[rotated] = dataclasses.replace(policies[name], until=until)
    if len(set(keys.values())) != len(keys):
        raise ConfigError(f"{source}: two entries share a key (a rotated-out key is also a current one)")
    return KeyTable(keys, policies)


def _policy(name: str, entry: Mapping[str, Any], where: str) -> KeyPolicy:
    models = entry.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, str) and _MODEL.match(m) for m in models):
        raise ConfigError(f"{where}: models must be a list of model names, aliases or patterns (no commas)")
    regions = entry.get("regions", [])
    if not isinstance(regions, list) or not all(isinstance(r, str) and _REGION.match(r) for r in regions):
        raise ConfigError(f'{where}: regions must be a list of OCI region names (e.g. ["eu-frankfurt-1"])')
    quota = entry.get("quota")
    if quota is not None:
        if not isinstance(quota, Mapping) or set(quota) != {"requests", "per"} or quota["per"] not in PERIODS:
            raise ConfigError(f'{where}: quota must be {{"requests": N, "per": one of {list(PERIODS)}}}')
        requests = _positive(quota["requests"], f"{where}: quota.requests")
        if requests is None:
            raise ConfigError(f"{where}: quota.requests must be a positive integer")
        quota = Quota(requests, quota["per"])
    return KeyPolicy(
        team=name,
        models=tuple(models),
        regions=tuple(dict.fromkeys(regions)),
        rps=_positive(entry.get("rps"), f"{where}: rps"),
        quota=quota,
        monthly_tokens=_positive(entry.get("monthly_tokens"), f"{where}: monthly_tokens"),
        guardrails=parse_guardrails(entry.get("guardrails"), where),
    )


def _previous(entry: Mapping[str, Any], where: str) -> list[tuple[str, datetime]]:
    previous = entry.get("previous", [])
    if not isinstance(previous, list):
        raise ConfigError(f"{where}: previous must be a list of {{key, until}}")
    out: list[tuple[str, datetime]] = []
    for number, item in enumerate(previous, start=1):
        label = f"{where}: previous #{number}"
        if not isinstance(item, Mapping) or set(item) != {"key", "until"}:
            raise ConfigError(f"{label} must be {{key, until}}")
        key = item["key"]
        if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH or read_bearer(f"Bearer {key}").token != key:
            raise ConfigError(f"{label} needs a bearer-token key of at least {MIN_KEY_LENGTH} characters")
        out.append((key, _time(item["until"], f"{label}.until")))
    return out


def _positive(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a positive integer")
    return value


def _time(value: object, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where} must be an ISO 8601 time with a zone") from None
    if parsed.tzinfo is None:
        raise ConfigError(f"{where} must be an ISO 8601 time with a zone")
    return parsed


def client_token(scope: str, team: str) -> str:
    """A team's usage-plan client token: readable, unique per keys secret (OCI wants it tenancy-unique)."""
    return f"{team}.{hashlib.sha256(f'{scope}/{team}'.encode()).hexdigest()[:12]}"


def grant_context(policy: KeyPolicy, scope: str) -> dict[str, str]:
    """The authorizer's `context`: every value a string, every key always present (the spec reads them)."""
    quota = f"{policy.quota.requests}/{policy.quota.per}" if policy.quota else "none"
    return {
        "key_name": policy.team,
        "client_id": client_token(scope, policy.team),
        "models": ",".join(policy.models) or "*",
        "regions": ",".join(policy.regions) or "*",
        "monthly_tokens": str(policy.monthly_tokens or "none"),
        "rate_limit": str(policy.rps or "none"),
        "quota": quota,
        "guardrails": policy.guardrails.to_header(),
    }


def from_headers(headers: Mapping[str, str]) -> KeyPolicy | None:
    """The policy API Gateway passed in the headers its spec sets (None without them: a plain invoke)."""
    team = headers.get(KEY_NAME_HEADER, "").strip()
    if not team:
        return None
    models = headers.get(MODELS_HEADER, "*").strip()
    budget = headers.get(BUDGET_HEADER, "none").strip()
    regions = headers.get(REGIONS_HEADER, "*").strip()
    return KeyPolicy(
        team=team,
        models=() if models in ("", "*") else tuple(m.strip() for m in models.split(",") if m.strip()),
        regions=() if regions in ("", "*") else tuple(r.strip() for r in regions.split(",") if r.strip()),
        monthly_tokens=int(budget) if budget.isdigit() and int(budget) > 0 else None,
        guardrails=from_header(headers.get(GUARDRAILS_HEADER, "")),
    )
