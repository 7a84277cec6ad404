"""`oci-genai-gateway keys create|list|rotate|revoke|usage`: the deployed keys, their limits, their usage."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from oci_genai_gateway.core.access.metering import METRICS
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.upstream.monitoring import DAILY, sum_points
from oci_genai_gateway.deploy.commands import report, usage_chart
from oci_genai_gateway.deploy.commands.auth import clients_for
from oci_genai_gateway.deploy.commands.cli import DEFAULT_CONFIG
from oci_genai_gateway.deploy.commands.keys_store import KeysSecret, policy_entry, rotated
from oci_genai_gateway.deploy.config.loader import load
from oci_genai_gateway.deploy.engine.clients import ClientMaker
from oci_genai_gateway.deploy.engine.failures import DeployError, explain
from oci_genai_gateway.deploy.engine.resource_model import Context

# The authorizer re-reads Vault every 60 s; API Gateway keeps a grant until its expiresAt (300 s).
REVOKED_WITHIN = "about six minutes (authorizer cache 60 s + API Gateway's grant cache 300 s)"


def parser() -> argparse.ArgumentParser:
    """The keys command line."""
    top = argparse.ArgumentParser(prog="oci-genai-gateway keys", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    commands = {
        "create": "add a key for a team, with optional limits; the key is printed once",
        "list": "the keys' names and limits (never the keys)",
        "rotate": "give a team a new key; the old one stays valid for --grace",
        "revoke": "remove a team's key (and its rotated-out keys)",
        "usage": "tokens and requests per key and model, and per key and day as a chart, from OCI Monitoring",
    }
    for name, text in commands.items():
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("-c", "--config", type=Path, default=Path(DEFAULT_CONFIG), help="the deploy config")
        if name in ("create", "rotate", "revoke"):
            cmd.add_argument("name", help="the key's name: the team (letters, digits, . _ -)")
        if name == "create":
            cmd.add_argument(
                "--models", default="", help="comma-separated names, aliases or patterns (meta.*)"
            )
            cmd.add_argument(
                "--regions", default="", help="data residency: comma-separated regions its calls stay in"
            )
            cmd.add_argument("--rps", type=int, help="requests per second")
            cmd.add_argument("--quota", help="requests per calendar period: N/minute|hour|day|week|month")
            cmd.add_argument("--monthly-tokens", type=int, help="token budget per calendar month (UTC)")
        if name == "rotate":
            cmd.add_argument(
                "--grace", default="24h", help="how long the old key keeps working: 0, 30m, 24h, 7d"
            )
        if name == "usage":
            cmd.add_argument("--month", help="YYYY-MM (default: this month, UTC)")
            cmd.add_argument("--days", type=int, help="the last N days instead (at most 90)")
            cmd.add_argument("--key", help="one key's usage only")
            cmd.add_argument("--html", type=Path, help="also write the chart as a self-contained HTML file")
    return top


def main(
    argv: list[str] | None = None,
    *,
    maker: ClientMaker | None = None,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """Run one keys command; clients, environment, output and clock are injectable for tests."""
    import oci

    args = parser().parse_args(argv)
    stream = out or sys.stdout
    compartment = "<compartment>"
    try:
        config = load(args.config)
        compartment = config.compartment_id
        ctx = Context(
            clients_for(config, False, maker, os.environ if env is None else env),
            config,
            report.PrintReporter(stream),
        )
        commands = {"create": _create, "list": _list, "rotate": _rotate, "revoke": _revoke, "usage": _usage}
        return commands[args.command](ctx, args, stream, clock)
    except ConfigError as exc:
        print(f"oci-genai-gateway keys: configuration error: {exc}", file=sys.stderr)
        return 2
    except (oci.exceptions.ServiceError, oci.exceptions.RequestException) as exc:
        problem = explain("managing keys", "secret-family", compartment, exc)
        print(f"oci-genai-gateway keys: {problem}", file=sys.stderr)
        return 1
    except DeployError as exc:
        print(f"oci-genai-gateway keys: {exc}", file=sys.stderr)
        return 1


def _create(ctx: Context, args: argparse.Namespace, out: TextIO, clock: Callable[[], float]) -> int:
    secret = KeysSecret(ctx, clock)
    if args.name in secret.entries:
        raise DeployError(f"key {args.name!r} exists: rotate it, or revoke it first")
    key = secret.new_key()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    entry = policy_entry(
        key, models=models, rps=args.rps, quota=args.quota, monthly_tokens=args.monthly_tokens, now=secret.now
    )
    regions = [r.strip() for r in getattr(args, "regions", "").split(",") if r.strip()]
    if regions:
        entry = {**entry, "regions": regions}  # validated with the rest by the secret's parser
    secret.write({**secret.entries, args.name: entry}, subscribers_first=True)
    print(f"Created key {args.name!r} ({_limits(entry)}). Shown once, store it now:\n  {key}", file=out)
    print("It works within a minute (the authorizer re-reads Vault every 60 s).", file=out)
    return 0


def _list(ctx: Context, args: argparse.Namespace, out: TextIO, clock: Callable[[], float]) -> int:
    secret = KeysSecret(ctx, clock)
    rows: list[tuple[str, ...]] = [("NAME", "LIMITS", "ROTATED-OUT KEYS VALID UNTIL")]
    for name, entry in sorted(secret.entries.items()):
        previous = entry.get("previous", []) if isinstance(entry, dict) else []
        rows.append((name, _limits(entry), ", ".join(p["until"] for p in previous) or "-"))
    _table(rows, out)
    return 0


def _rotate(ctx: Context, args: argparse.Namespace, out: TextIO, clock: Callable[[], float]) -> int:
    secret = KeysSecret(ctx, clock)
    if args.name not in secret.entries:
        raise DeployError(f"no key {args.name!r}")
    grace = _duration(args.grace)
    key = secret.new_key()
    entry = rotated(secret.entries[args.name], key, grace, secret.now)
    secret.write({**secret.entries, args.name: entry}, subscribers_first=True)
    until = (secret.now + grace).isoformat(timespec="seconds")
    print(f"New key for {args.name!r}. Shown once, store it now:\n  {key}", file=out)
    print(
        f"The old key works until {until}" if grace else f"The old key is revoked within {REVOKED_WITHIN}.",
        file=out,
    )
    return 0


def _revoke(ctx: Context, args: argparse.Namespace, out: TextIO, clock: Callable[[], float]) -> int:
    secret = KeysSecret(ctx, clock)
    if args.name not in secret.entries:
        raise DeployError(f"no key {args.name!r}")
    if len(secret.entries) == 1:
        raise DeployError("this is the last key; create another first (the authorizer needs one)")
    entries = {n: e for n, e in secret.entries.items() if n != args.name}
    secret.write(entries, subscribers_first=False)
    print(f"Revoked {args.name!r}: refused within {REVOKED_WITHIN}.", file=out)
    if ctx.config.target == "compose":
        print(
            "On the compose VM: sudo systemctl restart oci-genai-gateway (it reads the keys at start).",
            file=out,
        )
    return 0


def _usage(ctx: Context, args: argparse.Namespace, out: TextIO, clock: Callable[[], float]) -> int:
    from oci.monitoring import models as m

    start, end = _period(args, clock())
    where = f'{{key = "{args.key}"}}' if args.key else ""
    totals: dict[tuple[str, str], dict[str, float]] = {}
    daily: dict[str, dict[date, dict[str, float]]] = {}
    monitoring = ctx.clients.monitoring
    for metric in METRICS:
        details = m.SummarizeMetricsDataDetails(
            namespace=ctx.config.metrics_namespace,
            query=f"{metric}[{DAILY}]{where}.sum()",
            start_time=start,
            end_time=end,
            resolution=DAILY,
        )
        for series in monitoring.summarize_metrics_data(ctx.compartment_id, details).data:
            row = totals.setdefault(
                (series.dimensions.get("key", "?"), series.dimensions.get("model", "?")), {}
            )
            row[metric] = row.get(metric, 0.0) + sum_points([series])
            if metric in ("requests", "total_tokens"):
                usage_chart.add_series(daily, metric, series)
    print(
        f"Usage from {start:%Y-%m-%d} to {end:%Y-%m-%d %H:%M} UTC, namespace {ctx.config.metrics_namespace}:",
        file=out,
    )
    rows: list[tuple[str, ...]] = [("KEY", "MODEL", *(name.upper() for name in METRICS))]
    for (key, model), values in sorted(totals.items()):
        rows.append((key, model, *(f"{values.get(name, 0):.0f}" for name in METRICS)))
    _table(rows, out)
    usage_chart.terminal(daily, out)
    if args.html is not None:
        title = f"Usage {start:%Y-%m-%d} to {end:%Y-%m-%d}, {ctx.config.metrics_namespace}"
        args.html.write_text(usage_chart.page(daily, title), encoding="utf-8")
        print(f"\nWrote {args.html}", file=out)
    return 0


def _period(args: argparse.Namespace, now: float) -> tuple[datetime, datetime]:
    end = datetime.fromtimestamp(now, UTC)
    if args.days is not None:
        if not 1 <= args.days <= 90:
            raise DeployError("--days must be 1 to 90 (Monitoring keeps daily data for 90 days)")
        start = (end - timedelta(days=args.days)).replace(hour=0, minute=0, second=0, microsecond=0)
        return start, end
    if args.month:
        try:
            start = datetime.strptime(args.month, "%Y-%m").replace(tzinfo=UTC)
        except ValueError:
            raise DeployError(f"--month {args.month!r} must be YYYY-MM") from None
        return start, min(end, (start + timedelta(days=32)).replace(day=1))
    return end.replace(day=1, hour=0, minute=0, second=0, microsecond=0), end


def _duration(text: str) -> timedelta:
    units = {"m": 60, "h": 3600, "d": 86400}
    if text == "0":
        return timedelta(0)
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise DeployError(f"--grace {text!r} must be 0 or a number with m, h or d (30m, 24h, 7d)")
    return timedelta(seconds=int(text[:-1]) * units[text[-1]])


def _limits(entry: Any) -> str:
    if not isinstance(entry, dict):
        return "no limits (managed by deploy)"
    parts = [f"models {','.join(entry['models'])}"] if entry.get("models") else []
    if entry.get("regions"):
        parts.append(f"regions {','.join(entry['regions'])}")
    if entry.get("rps"):
        parts.append(f"{entry['rps']} req/s")
    if entry.get("quota"):
        parts.append(f"{entry['quota']['requests']} req/{entry['quota']['per']}")
    if entry.get("monthly_tokens"):
        parts.append(f"{entry['monthly_tokens']} tokens/month")
    return "; ".join(parts) or "no limits"


def _table(rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out
        )
