"""`python -m oci_genai_gateway serve`: the ASGI server of the compose target and `make run`."""

from __future__ import annotations

import argparse
import os
import resource
import sys

from oci_genai_gateway.core.errors import ConfigError


def raise_open_file_limit() -> None:
    """Lift the soft open-file limit to the hard one: each open stream holds two sockets."""
    # A stock VM shell or systemd unit starts with a soft limit of 1024; at 1000 concurrent streams
    # the upstream connections then fail with EMFILE (983 of 1000 did, measured by bench/streams.py).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if 0 <= soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the gateway from the environment, and serve until stopped."""
    parser = argparse.ArgumentParser(prog="oci-genai-gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the OpenAI-compatible API over HTTP (ASGI, uvicorn)")
    serve.add_argument("--host", default=os.environ.get("GATEWAY_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    __import__("oci_genai_gateway.deploy").deploy.register(sub)  # `deploy ...` runs deploy.cli and exits
    args = parser.parse_args(argv)

    import uvicorn

    from oci_genai_gateway.adapters.asgi import create_app
    from oci_genai_gateway.adapters.server import server_config
    from oci_genai_gateway.bootstrap import build_gateway

    try:
        gateway = build_gateway(os.environ, authenticate=True)
    except ConfigError as exc:
        print(f"oci-genai-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    raise_open_file_limit()
    timeout = gateway.settings.client_timeout
    config = server_config(
        create_app(gateway), args.host, args.port, head_timeout=timeout, timeout_graceful_shutdown=10
    )
    server = uvicorn.Server(config)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
