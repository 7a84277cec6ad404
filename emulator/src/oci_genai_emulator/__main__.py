"""`python -m oci_genai_emulator`: serve the emulator and announce its URL on stdout."""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import tempfile
from pathlib import Path

import uvicorn

from .app import create_app
from .constants import DEFAULT_REGION
from .regions import parse_catalogs, parse_throttles
from .state import EmulatorConfig


class _Server(uvicorn.Server):
    """A uvicorn server that prints one JSON "listening" line once it accepts connections."""

    def __init__(self, config: uvicorn.Config, state_dir: Path, region: str) -> None:
        super().__init__(config)
        self._state_dir = state_dir
        self._region = region

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        line = {
            "event": "listening",
            "url": f"http://{host}:{port}",
            "state_dir": str(self._state_dir),
            "region": self._region,
        }
        print(json.dumps(line), flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Held streams would otherwise keep the graceful shutdown waiting.
        app = self.config.app
        app.state.emulator.holds.release()  # type: ignore[union-attr]
        app.state.emulator.lingering.release()  # type: ignore[union-attr]
        await super().shutdown(sockets=sockets)


def _raise_fd_limit() -> None:
    # Thousands of concurrent streams need thousands of sockets.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="oci-genai-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8641, help="0 picks a free port")
    parser.add_argument(
        "--state-dir", type=Path, help="issuer key and minted credentials (default: a temp dir)"
    )
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--page-size", type=int, default=100, help="models per page when no limit is asked")
    parser.add_argument(
        "--stream-linger",
        type=float,
        default=120.0,
        help="seconds a stream without [DONE] stays open after its last event, as on OCI",
    )
    parser.add_argument(
        "--region-catalog",
        action="append",
        default=[],
        metavar="REGION=MODEL,...",
        help="serve REGION too (under /REGION), listing and serving only these models (* for all)",
    )
    parser.add_argument(
        "--throttle",
        action="append",
        default=[],
        metavar="REGION=SHARE",
        help="answer this share (0..1) of REGION's chat and embedText calls with 429",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    state_dir: Path = (args.state_dir or Path(tempfile.mkdtemp(prefix="oci-genai-emulator-"))).resolve()
    _raise_fd_limit()
    app = create_app(
        EmulatorConfig(
            state_dir=state_dir,
            region=args.region,
            page_size=args.page_size,
            stream_linger_seconds=args.stream_linger,
            region_catalogs=parse_catalogs(args.region_catalog),
            throttles=parse_throttles(args.throttle),
        )
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        lifespan="off",
        backlog=4096,
        timeout_graceful_shutdown=3,
        access_log=False,
    )
    _Server(config, state_dir, args.region).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
