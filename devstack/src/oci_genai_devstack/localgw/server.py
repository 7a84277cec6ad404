"""Serve a LocalGateway with uvicorn on 127.0.0.1, in the foreground or on a background thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from oci_genai_devstack.localgw.app import LocalGateway
from oci_genai_gateway.adapters.server import server_config

LOCALHOST = "127.0.0.1"


def _config(app: LocalGateway, port: int) -> uvicorn.Config:
    # 127.0.0.1 only: this is a development tool, never an internet-facing server. The product's
    # server settings (head size and time limits, keep-alive, JSON answers to bad HTTP) apply too.
    return server_config(app, LOCALHOST, port, lifespan="on", timeout_graceful_shutdown=5)


def serve(app: LocalGateway, port: int) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM)."""
    uvicorn.Server(_config(app, port)).run()


class ThreadedServer:
    """A uvicorn server on its own thread and event loop; `port=0` picks a free port."""

    def __init__(self, app: LocalGateway, port: int = 0) -> None:
        self.app = app
        self._server = uvicorn.Server(_config(app, port))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        sockets: Any = self._server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL including the deployment path prefix."""
        return f"http://{LOCALHOST}:{self.port}{self.app.prefix}"

    def start(self, timeout: float = 15.0) -> ThreadedServer:
        """Start serving; return once the socket is bound."""
        self._thread = threading.Thread(target=self._server.run, name="localgw", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the local gateway did not start on {LOCALHOST}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut down gracefully (closing the function sockets' clients) and join the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
