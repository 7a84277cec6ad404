"""An idle function process under the real fdk server uses no CPU once a connection goes idle.

fdk 0.1.128 arms a keep-alive timer 75 s after each response; its protocol then reads a clock its
server never sets and re-arms the timer with zero delay, so an idle function spins a core.
adapters/fdk_clock.py keeps that clock set. This waits out the 75 s, so it is in the slow tier.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.fixtures.fdk_server import FdkServer, start_fdk
from tests.fixtures.functions import Functions, plain_call
from tests.paths import FUNCTIONS_DIR

pytestmark = pytest.mark.slow

FDK_KEEP_ALIVE_SECONDS = 75  # fdk/async_http/server.py's default
MEASURE_SECONDS = 2.0
# A spinning process burns about MEASURE_SECONDS of CPU in MEASURE_SECONDS; an idle one, almost none.
MAX_IDLE_CPU_SECONDS = 0.3


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_idle_functions_do_not_spin_after_their_keep_alive_timer_fires(functions: Functions) -> None:
    env = {"GATEWAY_API_KEYS": "team-a:sk-idle-test-0123456789"}
    with start_fdk(FUNCTIONS_DIR / "authorizer" / "func.py", "handler", env) as authorizer:
        authorizer.invoke(json.dumps({"type": "USER_DEFINED", "data": {"authorization": "Bearer x"}}))
        servers: dict[str, FdkServer] = {"authorizer": authorizer}
        for name in ("chat", "embeddings", "models"):
            plain_call(functions[name], b"{}")  # served on a kept-alive connection
            servers[name] = functions[name]
        time.sleep(FDK_KEEP_ALIVE_SECONDS + 3)
        before = {name: cpu_seconds(s.process.pid) for name, s in servers.items()}
        time.sleep(MEASURE_SECONDS)
        used = {name: round(cpu_seconds(s.process.pid) - before[name], 2) for name, s in servers.items()}
    assert {name: cpu for name, cpu in used.items() if cpu >= MAX_IDLE_CPU_SECONDS} == {}
