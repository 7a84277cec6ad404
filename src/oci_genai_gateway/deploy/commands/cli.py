"""`oci-genai-gateway deploy plan|apply|destroy|status`: one config file, one command each."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.commands import alarms, regions_plan, report, status
from oci_genai_gateway.deploy.commands.auth import clients_for
from oci_genai_gateway.deploy.config.loader import load
from oci_genai_gateway.deploy.engine import reconcile
from oci_genai_gateway.deploy.engine.clients import ClientMaker
from oci_genai_gateway.deploy.engine.failures import DeployError, explain, genai_region_problem
from oci_genai_gateway.deploy.engine.resource_model import Action, Change, Context, State
from oci_genai_gateway.deploy.engine.retries import Sleep
from oci_genai_gateway.deploy.resources import identity
from oci_genai_gateway.deploy.resources.container_images import find_source
from oci_genai_gateway.deploy.resources.facts import gather
from oci_genai_gateway.deploy.resources.image_build import Builder, CliBuilder
from oci_genai_gateway.deploy.resources.stack import Stack, build
from oci_genai_gateway.deploy.resources.vault import read_keys

DEFAULT_CONFIG = "deploy/gateway.toml"


def parser() -> argparse.ArgumentParser:
    """The deploy command line."""
    top = argparse.ArgumentParser(prog="oci-genai-gateway deploy", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    helps = {
        "plan": "show what apply would create, update or leave alone (changes nothing)",
        "apply": "create or update everything, wait, print the URL (idempotent; resumes after a failure)",
        "destroy": "delete what this prefix owns, in dependency order",
        "status": "check the live deployment end to end and name what is wrong",
        "alarms": "create an OCI Monitoring alarm per key budget threshold (to a Notifications topic)",
    }
    for name, text in helps.items():
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument(
            "-c", "--config", type=Path, default=Path(DEFAULT_CONFIG), help="the TOML config file"
        )
        cmd.add_argument(
            "--source",
            type=Path,
            help="the project's source tree, to build function images (default: the working directory, "
            "when it is one)",
        )
        if name == "plan":
            cmd.add_argument(
                "--offline", action="store_true", help="no credentials: plan against an empty tenancy"
            )
        if name in ("apply", "destroy"):
            cmd.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
        if name == "apply":
            cmd.add_argument(
                "--skip-region-check", action="store_true", help="apply even if Generative AI does not answer"
            )
        if name == "destroy":
            cmd.add_argument("--dry-run", action="store_true", help="list what would be deleted")
        if name == "alarms":
            cmd.add_argument("--topic", required=True, help="the OCID of the Notifications topic to alert")
            cmd.add_argument(
                "--at", default="80,100", help="percentages of each key's budget (default 80,100)"
            )
        if name == "status":
            cmd.add_argument("--api-key", help="a bearer key (default: the first key in the keys secret)")
            cmd.add_argument(
                "--model", help="the model for the chat check (default: the first chat model listed)"
            )
    return top


def main(
    argv: list[str] | None = None,
    *,
    maker: ClientMaker | None = None,
    builder: Builder | None = None,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    transport: Any = None,
    sleep: Sleep = time.sleep,
) -> int:
    """Run one deploy command; clients, builder, environment, output and sleeping are injectable."""
    import oci

    args = parser().parse_args(argv)
    stream = out or sys.stdout
    env = os.environ if env is None else env
    reporter = report.PrintReporter(stream)
    compartment = "<compartment>"
    try:
        config = load(args.config)
        compartment = config.compartment_id
        offline = bool(getattr(args, "offline", False))
        source = find_source(args.source, Path.cwd())
        try:
            clients = clients_for(config, offline, maker, env, sleep)
        except (oci.exceptions.InvalidConfig, oci.exceptions.InvalidPrivateKey, OSError) as exc:
            print(f"oci-genai-gateway deploy: credentials: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        ctx = Context(clients, config, reporter)
        builder = builder or CliBuilder(config.images.tool, source=source)
        stack = build(config, gather(config, clients), builder, env, source)
        if args.command == "alarms":
            return alarms.command(ctx, args, stream)
        command = {"plan": _plan, "apply": _apply, "destroy": _destroy, "status": _status}[args.command]
        return command(ctx, stack, args, stream, transport)
    except ConfigError as exc:
        hint = f" (copy deploy/gateway.example.toml to {DEFAULT_CONFIG})" if not args.config.exists() else ""
        print(f"oci-genai-gateway deploy: configuration error: {exc}{hint}", file=sys.stderr)
        return 2
    except (oci.exceptions.ServiceError, oci.exceptions.RequestException) as exc:
        # Outside a resource step: the look-ups before the plan (domains, images, namespace).
        what = "reading the tenancy before planning"
        print(
            f"oci-genai-gateway deploy: {explain(what, 'all-resources', compartment, exc)}", file=sys.stderr
        )
        return 1
    except DeployError as exc:
        print(f"oci-genai-gateway deploy: {exc}", file=sys.stderr)
        return 1
    finally:
        _print_keys(reporter, stream)  # keys stored before any failure (or Ctrl-C) must not be lost


def _confirm(question: str, yes: bool, stream: TextIO) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        print("not a terminal: pass --yes to go ahead", file=stream)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _plan(ctx: Context, stack: Stack, args: argparse.Namespace, out: TextIO, transport: Any) -> int:
    changes = reconcile.plan(ctx, stack)
    missing = None if args.offline else _missing_prerequisites(ctx)
    print(report.format_plan(changes, stack, offline=args.offline, missing_prerequisites=missing), file=out)
    if not args.offline:
        problem = genai_region_problem(ctx.clients.generative_ai, ctx.compartment_id, ctx.config.region)
        if problem:
            print(f"\nWarning: {problem}", file=out)
    if ctx.config.regions:
        print(
            regions_plan.describe(ctx.clients, ctx.compartment_id, ctx.config.regions, args.offline), file=out
        )
    return 0


def _missing_prerequisites(ctx: Context) -> list[str] | None:
    """The Functions service statements no visible policy has; None when policies cannot be read."""
    import oci

    try:
        return identity.missing_prerequisites(ctx.config, ctx.clients)
    except oci.exceptions.ServiceError:
        return None


def _apply(ctx: Context, stack: Stack, args: argparse.Namespace, out: TextIO, transport: Any) -> int:
    problem = genai_region_problem(ctx.clients.generative_ai, ctx.compartment_id, ctx.config.region)
    if problem and not args.skip_region_check:
        raise DeployError(f"{problem} (or pass --skip-region-check)")
    planned = reconcile.plan(ctx, stack)
    missing = _missing_prerequisites(ctx)
    print(report.format_plan(planned, stack, offline=False, missing_prerequisites=missing), file=out)
    if all(c.action is Action.NOOP for c in planned):
        print("\nEverything is up to date.", file=out)
    elif any(c.action is Action.CONFLICT for c in planned):
        pass  # reconcile.apply refuses with the list, before any change
    elif not _confirm("\nApply these changes?", args.yes, out):
        return 1
    else:
        print("\nApplying:", file=out)
    done = reconcile.apply(ctx, stack, planned)
    _print_result(ctx, done, out)
    return 0


def _destroy(ctx: Context, stack: Stack, args: argparse.Namespace, out: TextIO, transport: Any) -> int:
    found = reconcile.destroy(ctx, stack, dry_run=True)
    print(report.format_destroy(found), file=out)
    count = sum(1 for c in found if c.action is Action.DELETE)
    if args.dry_run or not count or not _confirm(f"\nDelete these {count} resources?", args.yes, out):
        return 0
    done = reconcile.destroy(ctx, stack)
    print(report.format_destroyed(done), file=out)
    return 1 if any(c.action is Action.CONFLICT for c in done) else 0


def _status(ctx: Context, stack: Stack, args: argparse.Namespace, out: TextIO, transport: Any) -> int:
    changes = reconcile.plan(ctx, stack)
    drift = [c for c in changes if c.action is not Action.NOOP]
    for change in drift:
        what = (
            "missing"
            if change.action is Action.CREATE
            else f"{change.action.value}: {change.note or ', '.join(change.fields)}"
        )
        print(f"  FAIL {change.resource.kind.label} {change.resource.name}: {what} (run apply)", file=out)
    state = _state_of(changes, stack.external)
    url = _base_url(ctx, state)
    if url is None:
        print("  FAIL not deployed: run apply", file=out)
        return 1
    key = args.api_key or _first_key(ctx, state)
    logs = f"{ctx.config.prefix}-functions-invoke"
    usage_plans = ctx.config.target == "serverless" and ctx.config.api_gateway.usage_plans
    checks = status.run(
        url,
        key,
        target=ctx.config.target,
        logs=logs,
        model=args.model,
        transport=transport,
        usage_plans=usage_plans,
        key_from_secret=args.api_key is None,
    )
    print(f"Base URL: {url}\n{report.format_checks(checks)}", file=out)
    return 0 if not drift and all(c.ok for c in checks) else 1


def _state_of(changes: list[Change], external: Mapping[str, str]) -> State:
    state = State(external)
    for change in changes:
        if change.live is not None:
            state.put(change.resource.key, change.live, change.resource.kind.ocid(change.live))
    return state


def _base_url(ctx: Context, state: State) -> str | None:
    if ctx.config.target == "compose":
        return f"https://{ctx.config.compose.site_address}/v1" if state.known("compose.vm") else None
    deployment = state.live("gateway.deployment")
    endpoint = getattr(deployment, "endpoint", None)
    return f"{str(endpoint).rstrip('/')}/v1" if endpoint else None


def _first_key(ctx: Context, state: State) -> str | None:
    if not state.known("keys.secret"):
        return None
    return next(iter(read_keys(ctx, state.ocid("keys.secret")).values()), None)


def _print_result(ctx: Context, done: list[Change], out: TextIO) -> None:
    state = _state_of(done, {})
    url = _base_url(ctx, state)
    if ctx.config.target == "compose":
        ip = getattr(state.live("compose.public-ip"), "ip_address", None)
        print(f"\nCreate this DNS record: {ctx.config.compose.site_address}. A {ip}", file=out)
        print("Caddy obtains the certificate once the name resolves (a few minutes after boot).", file=out)
    if url:
        print(f"\nBase URL: {url}", file=out)
        print(report.snippet(url, "<one of your keys>"), file=out)
    print("Check it end to end with: oci-genai-gateway deploy status", file=out)


def _print_keys(reporter: report.PrintReporter, out: TextIO) -> None:
    if not reporter.new_keys:
        return
    print(
        "\nNew API keys - shown once, store them now (they are in the Vault secret, nowhere else):", file=out
    )
    for name, key in reporter.new_keys.items():
        print(f"  {name}: {key}", file=out)
    reporter.new_keys.clear()


if __name__ == "__main__":
    sys.exit(main())
