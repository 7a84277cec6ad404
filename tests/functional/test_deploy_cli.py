"""The deploy command as a user runs it: the README's offline plan, in its own process."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO


def test_the_readmes_offline_plan_command_runs_as_written() -> None:
    """The README's line, run from the repository root with this environment's console script."""
    lines = [
        line for line in (REPO / "README.md").read_text().splitlines() if "deploy plan --offline" in line
    ]
    assert lines, "the README shows the offline plan"
    command = shlex.split(lines[0].split("#", 1)[0])
    assert command[0] == ".venv/bin/oci-genai-gateway"
    command[0] = str(Path(sys.executable).parent / "oci-genai-gateway")
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "to create" in done.stdout
    assert "allow any-user to use functions-family" in done.stdout
