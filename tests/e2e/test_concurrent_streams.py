"""Hundreds of concurrent streams through the ASGI server: all open at once, all complete, server recovers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bench.streams import gateway_streams

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import KEY, start_gateway, stop

# More than LiteLLM's default pool of 500 connections per host, which would have parked the rest.
STREAMS = 600
CHAT_PATH = "/20231130/actions/chat"


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_hundreds_of_streams_are_open_at_once_and_all_complete(
    emulator: Emulator, tmp_path: Path
) -> None:
    # A gateway of its own: if it wedged, the rest of the suite would not go down with it.
    gateway = start_gateway(emulator, tmp_path, GATEWAY_UPSTREAM_TIMEOUT="300")
    emulator.reset()
    try:
        # Every stream stops after its first OCI event until all of them are open at the same time.
        emulator.inject_fault("hold=1", path=CHAT_PATH, count=STREAMS)
        run = asyncio.create_task(gateway_streams(gateway.base_url, KEY, STREAMS))
        try:
            await asyncio.to_thread(emulator.wait_held, STREAMS, 300.0)
        finally:
            emulator.reset()  # release them all, and hold no late arrival should the wait fail
        results = await run
        failed = [r for r in results if not r.ok]
        assert not failed, f"{len(failed)} of {STREAMS} streams failed, e.g. {failed[:3]}"

        # And the server answers normally afterwards, streamed and not.
        (after,) = await gateway_streams(gateway.base_url, KEY, 1)
        assert after.ok, after
        with gateway.client() as client:
            assert client.models.list().data
        assert not [e for e in gateway.logs() if e["level"] == "ERROR"]
    finally:
        emulator.reset()
        stop(gateway.process)
