"""A workaround for the fdk's HTTP server, which otherwise keeps an idle function spinning a core.

fdk 0.1.128's server updates `current_time` in its own module (fdk/async_http/server.py), but the
protocol reads the one in fdk/async_http/protocol.py, which stays None: every kept-alive
connection's keep-alive timer then re-arms with zero delay, and an idle function process runs a
whole core (measured: 99 %). This keeps the protocol's clock set, once a second.
"""

from __future__ import annotations

import asyncio
import time

_clock: list[asyncio.TimerHandle] = []  # this process's one ticking timer, once started


def set_fdk_clock() -> None:
    """Set the protocol's clock now (no event loop needed)."""
    from fdk.async_http import protocol

    protocol.current_time = time.time()


def keep_fdk_clock() -> None:
    """Keep the protocol's clock current; call it from a handler (it needs the running loop)."""
    if not _clock:
        _tick(asyncio.get_running_loop())


def _tick(loop: asyncio.AbstractEventLoop) -> None:
    set_fdk_clock()
    _clock[:] = [loop.call_later(1.0, _tick, loop)]
