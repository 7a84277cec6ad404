"""Property-based fuzzing of every front door in process (tests/fuzz/): hostile bodies, headers and paths.

Properties of every answer: no 5xx (the OCI behind answers every call, so nothing may fail), the body
OpenAI's error envelope or a valid success (API Gateway's own 4xx shape on its own answers), no
traceback, file path or exception class name. bench/fuzz.py runs the same at 10,000+ cases per door.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import given, settings

from tests.fuzz.runner import AsgiDoor, FunctionDoor, LocalGatewayDoor, Request
from tests.fuzz.strategies import requests


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.Runner]:
    """One event loop for every case of the module (the gateways live across cases)."""
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture(scope="module")
def asgi(loop: asyncio.Runner) -> Iterator[AsgiDoor]:
    door = AsgiDoor()
    yield door
    loop.run(door.aclose())


@pytest.fixture(scope="module")
def function() -> FunctionDoor:
    return FunctionDoor()


@pytest.fixture(scope="module")
def localgw(loop: asyncio.Runner) -> Iterator[LocalGatewayDoor]:
    door = LocalGatewayDoor()
    yield door
    loop.run(door.aclose())


@settings(max_examples=200)
@given(case=requests)
def test_the_asgi_app(loop: asyncio.Runner, asgi: AsgiDoor, case: Request) -> None:
    loop.run(asgi.send(case))


@settings(max_examples=150)
@given(case=requests)
def test_the_functions_invoked_by_api_gateway(
    loop: asyncio.Runner, function: FunctionDoor, case: Request
) -> None:
    loop.run(function.send(case))


@settings(max_examples=100)
@given(case=requests)
def test_the_functions_invoked_plainly(loop: asyncio.Runner, function: FunctionDoor, case: Request) -> None:
    loop.run(function.send(case, plain=True))


@settings(max_examples=150)
@given(case=requests)
def test_the_local_api_gateway_over_the_functions(
    loop: asyncio.Runner, localgw: LocalGatewayDoor, case: Request
) -> None:
    loop.run(localgw.send(case))
