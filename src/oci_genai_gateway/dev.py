"""`make run`: the gateway on 127.0.0.1 with the bundled OCI Generative AI emulator behind it."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

DEMO_KEY = "sk-local-dev"
EMULATOR_COMPARTMENT = "ocid1.compartment.oc1..emulator"


def start_emulator(state_dir: Path, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    """Start the emulator process and return it with its base URL (read from its first line)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oci_genai_gateway.emulator",
            "--port",
            str(port),
            "--state-dir",
            str(state_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = _listening_url(proc.stdout)
    if url is None:
        proc.kill()
        raise RuntimeError("the emulator did not start")
    return proc, url


def _listening_url(stream: IO[str] | None) -> str | None:
    assert stream is not None
    for line in stream:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "listening":
            return str(event["url"])
    return None


def gateway_env(emulator_url: str, base: Mapping[str, str]) -> dict[str, str]:
    """Environment for a gateway that signs with emulator-minted resource-principal credentials."""
    env = dict(base)
    env.setdefault("GATEWAY_API_KEYS", f"local:{DEMO_KEY}")
    env.update(
        {
            "GATEWAY_AUTH": "emulator",
            "GATEWAY_OCI_ENDPOINT": emulator_url,
            "GATEWAY_REGION": env.get("GATEWAY_REGION", "us-chicago-1"),
            "GATEWAY_COMPARTMENT_ID": env.get("GATEWAY_COMPARTMENT_ID", EMULATOR_COMPARTMENT),
            "GATEWAY_CORS_ORIGINS": env.get("GATEWAY_CORS_ORIGINS", "http://localhost:3000"),
        }
    )
    return env


def main(argv: list[str] | None = None) -> int:
    """Run the emulator and the gateway until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="make run")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    args = parser.parse_args(argv)
    state = Path(tempfile.mkdtemp(prefix="oci-genai-emulator-"))
    emulator, url = start_emulator(state)
    env = gateway_env(url, os.environ)
    gateway = subprocess.Popen(
        [sys.executable, "-m", "oci_genai_gateway", "serve", "--host", "127.0.0.1", "--port", str(args.port)],
        env=env,
    )
    key = env["GATEWAY_API_KEYS"].split(":", 1)[1].split(",", 1)[0]
    print(
        f"\n  OCI Generative AI emulator: {url}\n"
        f"  Gateway (OpenAI-compatible): http://127.0.0.1:{args.port}/v1\n"
        f"  API key:                     {key}\n\n"
        f"  curl http://127.0.0.1:{args.port}/v1/models -H 'Authorization: Bearer {key}'\n",
        flush=True,
    )
    try:
        return gateway.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in (gateway, emulator):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    sys.exit(main())
