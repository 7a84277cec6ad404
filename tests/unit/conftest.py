"""The unit tier runs in this process only: spawning a program here is a test in the wrong tier."""

from __future__ import annotations

import os
import subprocess
from typing import Any, NoReturn

import pytest


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AssertionError("the unit tier spawns no process: move this test to tests/functional")


@pytest.fixture(autouse=True)
def _no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way Python starts a program: subprocess (asyncio's too), fork, posix_spawn."""
    monkeypatch.setattr(subprocess.Popen, "_execute_child", _refuse)
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _refuse)
