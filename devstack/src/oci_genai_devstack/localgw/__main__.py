"""`python -m oci_genai_devstack.localgw`: serve a rendered spec over running fdk function sockets."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from oci_genai_devstack.localgw.app import LocalGateway
from oci_genai_devstack.localgw.invoke import FunctionTarget
from oci_genai_devstack.localgw.server import serve
from oci_genai_devstack.localgw.usage_plans import UsagePlans
from oci_genai_gateway.apigw_spec import SpecError
from oci_genai_gateway.core.errors import ConfigError


def parse_functions(text: str, timeout: float) -> dict[str, FunctionTarget]:
    """`id=/abs/socket,id2=/abs/socket2` -> targets keyed by the spec's function ids."""
    targets: dict[str, FunctionTarget] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, path = item.partition("=")
        if not sep or not name or not path.startswith("/"):
            raise SpecError(f"--functions entry {item!r} is not id=/absolute/socket/path")
        targets[name] = FunctionTarget(path, timeout)
    return targets


def main(argv: list[str] | None = None) -> int:
    """Load the spec, check every function has a socket, and serve on 127.0.0.1 until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m oci_genai_devstack.localgw",
        description="Local OCI API Gateway stand-in (development and tests only).",
    )
    parser.add_argument("--spec", type=Path, required=True, help="rendered deployment spec (JSON)")
    parser.add_argument("--functions", required=True, help="function-id=/path/to/lsnr.sock,...")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--prefix", default="/", help="deployment path prefix (default /)")
    parser.add_argument("--timeout", type=float, default=30.0, help="function call timeout, seconds")
    parser.add_argument(
        "--api-keys",
        help="the authorizer's GATEWAY_API_KEYS: usage-plan subscribers are derived from it as deploy does",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s localgw %(message)s")
    try:
        spec = json.loads(args.spec.read_text())
        plans = UsagePlans.from_api_keys(args.api_keys) if args.api_keys else None
        targets = parse_functions(args.functions, args.timeout)
        app = LocalGateway(spec, targets, path_prefix=args.prefix, usage_plans=plans)
    except (OSError, ValueError, ConfigError) as exc:  # SpecError is a ValueError
        print(f"localgw: {exc}", file=sys.stderr)
        return 2
    serve(app, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
