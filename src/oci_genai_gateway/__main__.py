"""`python -m oci_genai_gateway serve`: the ASGI server of the compose target and `make run`."""

from __future__ import annotations

import argparse
import os
import resource
import socket
import sys
from typing import Any

from oci_genai_gateway.core.errors import ConfigError


def raise_open_file_limit() -> None:
    """Lift the soft open-file limit to the hard one: each open stream holds two sockets."""
    # A stock VM shell or systemd unit starts with a soft limit of 1024; at 1000 concurrent streams
    # the upstream connections then fail with EMFILE (983 of 1000 did, measured by bench/streams.py).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if 0 <= soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def default_workers() -> int:
    """One worker per CPU this process may run on (a container's cpuset, not the host's count)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_app() -> Any:
    """The app factory of each `--workers N` process: the gateway built from the environment."""
    from oci_genai_gateway.adapters.asgi import create_app
    from oci_genai_gateway.bootstrap import build_gateway

    try:
        gateway = build_gateway(os.environ, authenticate=True)
    except ConfigError as exc:
        print(f"oci-genai-gateway: configuration error: {exc}", file=sys.stderr)
        raise  # uvicorn stops the parent on a worker's startup failure
    return create_app(gateway)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the gateway from the environment, and serve until stopped."""
    parser = argparse.ArgumentParser(prog="oci-genai-gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the OpenAI-compatible API over HTTP (ASGI, uvicorn)")
    serve.add_argument("--host", default=os.environ.get("GATEWAY_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("GATEWAY_WORKERS", "0")) or default_workers(),
        help="worker processes (default: GATEWAY_WORKERS, else one per CPU); 1 serves in this process",
    )
    __import__("oci_genai_gateway.deploy").deploy.register(sub)  # `deploy ...` runs deploy.cli and exits
    args = parser.parse_args(argv)

    if args.workers < 1:
        parser.error("--workers must be at least 1")
    # The limits divide by the worker count (core/access/limits.py): the count served is the one they read.
    os.environ["GATEWAY_WORKERS"] = str(args.workers)
    if args.workers > 1:
        return serve_workers(args.host, args.port, args.workers)

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
        create_app(gateway),
        args.host,
        args.port,
        head_timeout=timeout,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0


GRACEFUL_SHUTDOWN_SECONDS = 10  # open streams get this long to finish after SIGTERM


def serve_workers(host: str, port: int, workers: int) -> int:
    """uvicorn's supervisor: `workers` processes share the socket, each builds its own gateway."""
    from uvicorn.supervisors import Multiprocess

    from oci_genai_gateway.adapters.server import server_config
    from oci_genai_gateway.bootstrap import settings_for
    from oci_genai_gateway.core.logs import configure_logging
    from oci_genai_gateway.core.upstream.signers import build_signer

    # Checked here so that a bad configuration fails once, in one line, before any worker starts
    # (uvicorn's supervisor exits 0 when a worker fails at startup); LiteLLM loads in the workers.
    try:
        settings = settings_for(os.environ, authenticate=True)
        build_signer(settings)
    except ConfigError as exc:
        print(f"oci-genai-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    raise_open_file_limit()  # inherited by the workers
    app = "oci_genai_gateway.__main__:worker_app"
    config = server_config(
        app,
        host,
        port,
        head_timeout=settings.client_timeout,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        factory=True,
        workers=workers,
    )
    # uvicorn binds `socket.socket(family)`, whose proto is 0, and asyncio sets TCP_NODELAY only on
    # sockets whose proto is TCP: every worker's connection then waited on Nagle and the client's
    # delayed ACK, +45 ms per call (measured: p50 44 ms for GET /v1/models with 2 workers, 1 ms with
    # one). Rebuilt from its descriptor, the socket reports its real protocol to the workers.
    sock = socket.socket(fileno=config.bind_socket().detach())
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
