"""`oci-genai-gateway deploy`: plan, apply, destroy and check the gateway in an OCI tenancy."""

from __future__ import annotations

import argparse
import sys
from typing import Any


class _RunDeploy(argparse.Action):
    """Hands everything after `deploy` to the deploy command line and exits with its status."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, opt: Any = None) -> None:
        from oci_genai_gateway.deploy.cli import main  # deferred: `serve` never loads the deploy code

        sys.exit(main(list(values)))


def register(subparsers: Any) -> None:
    """Add `deploy` to the package's command line (its own parser lives in deploy.cli)."""
    # No option prefix: `deploy --help` and every deploy option reach deploy.cli untouched.
    deploy = subparsers.add_parser(
        "deploy", help="plan/apply/destroy/status of a deployment in OCI", add_help=False, prefix_chars="\0"
    )
    deploy.add_argument("args", nargs=argparse.REMAINDER, action=_RunDeploy)
