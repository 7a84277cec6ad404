"""`oci-genai-gateway deploy`: plan, apply, destroy and check the gateway in an OCI tenancy."""

from __future__ import annotations

import argparse
import sys
from typing import Any


class _RunDeploy(argparse.Action):
    """Hands everything after `deploy` to the deploy command line and exits with its status."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, opt: Any = None) -> None:
        # Deferred: `serve` never loads the deploy code.
        from oci_genai_gateway.deploy.commands.cli import main

        sys.exit(main(list(values)))


class _RunKeys(argparse.Action):
    """Hands everything after `keys` to the keys command line (deploy/commands/keys_cli.py)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, opt: Any = None) -> None:
        from oci_genai_gateway.deploy.commands.keys_cli import main

        sys.exit(main(list(values)))


def register(subparsers: Any) -> None:
    """Add `deploy` and `keys` to the package's command line (their parsers: deploy/commands/)."""
    # No option prefix: `deploy --help` and every deploy option reach commands/cli.py untouched.
    deploy = subparsers.add_parser(
        "deploy", help="plan/apply/destroy/status of a deployment in OCI", add_help=False, prefix_chars="\0"
    )
    deploy.add_argument("args", nargs=argparse.REMAINDER, action=_RunDeploy)
    keys = subparsers.add_parser(
        "keys", help="create/list/rotate/revoke keys with limits; usage", add_help=False, prefix_chars="\0"
    )
    keys.add_argument("args", nargs=argparse.REMAINDER, action=_RunKeys)
