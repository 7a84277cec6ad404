"""The deployed keys secret for the `keys` command: find it, edit its entries, write a new version.

Every write is checked with the authorizer's own parser first (a secret it refused would stop every
request), and the API Gateway usage-plan subscribers are reconciled with it (serverless target).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from oci_genai_gateway.core.access import policy as key_policy
from oci_genai_gateway.core.access.policy import PERIODS, KeyTable
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import OWNER_TAG, Context
from oci_genai_gateway.deploy.engine.sdk_calls import list_all, wait_for_state
from oci_genai_gateway.deploy.resources.usage_plans import Plans
from oci_genai_gateway.deploy.resources.vault import encode, key_of, new_key, read_entries
from oci_genai_gateway.usage_tiers import subscriptions

Entries = dict[str, Any]


def find_secret(ctx: Context) -> str:
    """The OCID of the deployment's keys secret (`<prefix>-api-keys`, carrying the owner tag)."""
    name = f"{ctx.config.prefix}-api-keys"
    found = [
        s
        for s in list_all(ctx.clients.vaults.list_secrets, ctx.compartment_id, name=name)
        if s.secret_name == name
        and (s.freeform_tags or {}).get(OWNER_TAG) == ctx.config.prefix
        and s.lifecycle_state == "ACTIVE"
    ]
    if not found:
        raise DeployError(
            f"no active secret {name!r} owned by this prefix: run `oci-genai-gateway deploy apply`"
        )
    return str(found[0].id)


def find_deployment(ctx: Context) -> str | None:
    """The API deployment's OCID (serverless), or None when there is none yet."""
    prefix = ctx.config.prefix

    def owned(items: list[Any]) -> list[Any]:
        return [i for i in items if (i.freeform_tags or {}).get(OWNER_TAG) == prefix]

    gateways = owned(
        list_all(ctx.clients.gateway.list_gateways, ctx.compartment_id, display_name=f"{prefix}-gateway")
    )
    for gw in gateways:
        deployments = owned(
            list_all(
                ctx.clients.deployment.list_deployments,
                ctx.compartment_id,
                gateway_id=gw.id,
                display_name=f"{prefix}-v1",
            )
        )
        live = [d for d in deployments if d.lifecycle_state not in ("DELETED", "DELETING")]
        if live:
            return str(live[0].id)
    return None


def table(entries: Mapping[str, Any], secret_id: str) -> KeyTable:
    """The entries as the authorizer reads them; DeployError (naming the entry) if it would refuse them."""
    try:
        return key_policy.parse_entries(entries, f"secret {secret_id}")
    except ConfigError as exc:
        raise DeployError(str(exc)) from None


def policy_entry(
    key: str,
    *,
    models: Sequence[str],
    rps: int | None,
    quota: str | None,
    monthly_tokens: int | None,
    now: datetime,
) -> dict[str, Any]:
    """A policy object (only the limits given), stamped with its creation time."""
    entry: dict[str, Any] = {"key": key}
    if models:
        entry["models"] = list(models)
    if rps is not None:
        entry["rps"] = rps
    if quota is not None:
        requests, _, per = quota.partition("/")
        if not requests.isdigit() or per not in PERIODS:
            raise DeployError(f"--quota {quota!r} must be N/PERIOD, PERIOD one of {', '.join(PERIODS)}")
        entry["quota"] = {"requests": int(requests), "per": per}
    if monthly_tokens is not None:
        entry["monthly_tokens"] = monthly_tokens
    entry["created"] = now.isoformat(timespec="seconds")
    return entry


def rotated(entry: Any, new: str, grace: timedelta, now: datetime) -> dict[str, Any]:
    """The entry with a new key; the old one valid until now + grace (0: revoked at once)."""
    out = dict(entry) if isinstance(entry, dict) else {"key": entry}
    previous = list(out.get("previous", []))
    if grace > timedelta(0):
        previous.append({"key": key_of(entry), "until": (now + grace).isoformat(timespec="seconds")})
    out["key"] = new
    out["previous"] = previous
    return out


def pruned(entries: Mapping[str, Any], now: datetime) -> Entries:
    """Rotated-out keys past their grace period are dropped (the authorizer refuses them already)."""
    out: Entries = {}
    for name, entry in entries.items():
        if isinstance(entry, dict) and entry.get("previous"):
            alive = [p for p in entry["previous"] if datetime.fromisoformat(p["until"]) > now]
            entry = {**entry, "previous": alive}
            if not alive:
                del entry["previous"]
        out[name] = entry
    return out


class KeysSecret:
    """The secret's entries, read once; `write` stores a new version and syncs the subscribers."""

    def __init__(self, ctx: Context, clock: Callable[[], float] = time.time) -> None:
        self.ctx = ctx
        self.secret_id = find_secret(ctx)
        self.entries = read_entries(ctx, self.secret_id)
        self.clock = clock

    @property
    def now(self) -> datetime:
        """The command's clock as an aware datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def new_key(self) -> str:
        """A fresh key in the deployment's format."""
        return new_key(self.ctx.config.prefix)

    def write(self, entries: Mapping[str, Any], *, subscribers_first: bool) -> None:
        """A new secret version with `entries`; subscribers before it (a new key) or after (a revoked one)."""
        entries = pruned(entries, self.now)
        keys = table(entries, self.secret_id)
        if subscribers_first:
            self._sync(keys)
        self._store(entries)
        if not subscribers_first:
            self._sync(keys)
        self.entries = dict(entries)

    def _store(self, entries: Mapping[str, Any]) -> None:
        from oci.vault import models as m

        content = m.Base64SecretContentDetails(
            content_type="BASE64", content=encode(entries), stage="CURRENT"
        )
        vaults = self.ctx.clients.vaults
        vaults.update_secret(self.secret_id, m.UpdateSecretDetails(secret_content=content))
        wait_for_state(
            self.ctx, vaults, "the keys secret", lambda: vaults.get_secret(self.secret_id), ("ACTIVE",)
        )

    def _sync(self, keys: KeyTable) -> None:
        if self.ctx.config.target != "serverless" or not self.ctx.config.api_gateway.usage_plans:
            return  # the compose VM (or, without usage plans, each function) enforces limits itself
        deployment = find_deployment(self.ctx)
        if deployment is None:
            self.ctx.reporter.progress("no API deployment yet: `deploy apply` creates the usage plans")
            return
        plans = Plans(self.ctx)
        plans.sync(
            plans.live(), subscriptions(keys, self.secret_id), deployment, dict(self.ctx.config.owner_tags)
        )
