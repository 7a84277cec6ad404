"""`oci-genai-gateway deploy alarms`: an OCI Monitoring alarm per key budget threshold.

OCI Monitoring alarms read at most a one-day window, so a monthly budget cannot be summed over
the month: each alarm watches the key's daily pace instead, firing when one day's tokens exceed
`percent` of the monthly budget divided by 30 (the day's share). Keys are read from the keys
secret; alarms of keys that no longer have a budget are deleted. SDK models:
https://docs.oracle.com/en-us/iaas/tools/python/latest/api/monitoring/models/oci.monitoring.models.CreateAlarmDetails.html
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from oci_genai_gateway.core.access.policy import KeyTable
from oci_genai_gateway.deploy.commands.keys_store import KeysSecret, table
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import OWNER_TAG, Context
from oci_genai_gateway.deploy.engine.sdk_calls import list_all

DAYS = 30  # a month's days for the daily share of a budget


def alarm_name(prefix: str, team: str, percent: int) -> str:
    """`<prefix>-budget-<team>-<percent>pct`."""
    return f"{prefix}-budget-{team}-{percent}pct"


def wanted(ctx: Context, keys: KeyTable, percents: list[int], topic_id: str) -> dict[str, dict[str, Any]]:
    """The alarms the keys' budgets call for, by display name: the fields of CreateAlarmDetails."""
    config = ctx.config
    out: dict[str, dict[str, Any]] = {}
    for team, policy in sorted(keys.teams().items()):
        if policy.monthly_tokens is None:
            continue
        for percent in percents:
            threshold = policy.monthly_tokens * percent / 100 / DAYS
            out[alarm_name(config.prefix, team, percent)] = {
                "compartment_id": config.compartment_id,
                "metric_compartment_id": config.compartment_id,
                "namespace": config.metrics_namespace,
                "query": f'total_tokens[1d]{{key = "{team}"}}.sum() > {threshold:.0f}',
                "severity": "CRITICAL" if percent >= 100 else "WARNING",
                "destinations": [topic_id],
                "is_enabled": True,
                "body": (
                    f"Key {team} spent more than {percent}% of a day's share of its "
                    f"{policy.monthly_tokens} monthly tokens (oci-genai-gateway {config.prefix})."
                ),
                "pending_duration": "PT1M",
            }
    return out


def sync(ctx: Context, want: dict[str, dict[str, Any]], out: TextIO) -> int:
    """Create what is missing, update what differs, delete our alarms no key needs; the number changed."""
    from oci.monitoring import models as m

    client = ctx.clients.monitoring
    prefix = f"{ctx.config.prefix}-budget-"
    live = {
        a.display_name: a
        for a in list_all(client.list_alarms, ctx.config.compartment_id)
        if a.display_name.startswith(prefix) and a.lifecycle_state != "DELETED"
    }
    tags = {**dict(ctx.config.owner_tags), OWNER_TAG: ctx.config.prefix}
    changed = 0
    for name, fields in want.items():
        current = live.get(name)
        if current is None:
            client.create_alarm(m.CreateAlarmDetails(display_name=name, freeform_tags=tags, **fields))
            print(f"  created alarm {name}: {fields['query']}", file=out)
        else:
            full = client.get_alarm(current.id).data
            if all(getattr(full, k) == v for k, v in fields.items() if k != "compartment_id"):
                continue
            client.update_alarm(current.id, m.UpdateAlarmDetails(**fields))
            print(f"  updated alarm {name}: {fields['query']}", file=out)
        changed += 1
    for name, alarm in live.items():
        if name not in want and (alarm.freeform_tags or {}).get(OWNER_TAG) == ctx.config.prefix:
            client.delete_alarm(alarm.id)
            print(f"  deleted alarm {name}", file=out)
            changed += 1
    return changed


def command(ctx: Context, args: argparse.Namespace, out: TextIO) -> int:
    """Reconcile the budget alarms with the keys secret."""
    try:
        percents = sorted({int(p) for p in args.at.split(",") if p.strip()})
    except ValueError:
        raise DeployError(f"--at {args.at!r} must be comma-separated percentages (80,100)") from None
    if not percents or not all(1 <= p <= 1000 for p in percents):
        raise DeployError("--at needs percentages from 1 to 1000")
    secret = KeysSecret(ctx)
    keys = table(secret.entries, secret.secret_id)
    want = wanted(ctx, keys, percents, args.topic)
    changed = sync(ctx, want, out)
    print(f"{len(want)} budget alarms for {ctx.config.prefix}; {changed} changed.", file=out)
    return 0
