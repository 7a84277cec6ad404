"""The emulator is a distribution of its own: it installs into a fresh venv and runs from its README."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.paths import REPO

# A fresh venv and a pip install (from the index's cache after the first run).
pytestmark = pytest.mark.slow


def test_the_emulator_installs_alone_and_serves_as_its_readme_says(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    constraints = ["-c", str(REPO / "constraints.txt")]
    subprocess.run([*pip, *constraints, str(REPO / "emulator")], check=True, capture_output=True)
    probe = "import importlib.util as u; print(u.find_spec('oci_genai_gateway') is None)"
    alone = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True)
    assert alone.stdout.strip() == "True", "the emulator must not pull in the gateway"

    command = [str(venv / "bin" / "oci-genai-emulator"), "--port", "0", "--state-dir", str(tmp_path / "s")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        assert line["event"] == "listening"
        assert httpx.get(f"{line['url']}/_emulator/health", timeout=10).json()["status"] == "ok"
        unsigned = httpx.post(f"{line['url']}/20231130/actions/chat", json={}, timeout=10)
        assert unsigned.status_code == 401  # every OCI request must be signed
    finally:
        process.terminate()
        process.wait(timeout=15)
