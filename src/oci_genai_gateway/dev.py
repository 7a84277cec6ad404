"""`make run`: the local serverless stack (or, with --asgi, the ASGI server) on the bundled emulator."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

# The authorizer function accepts keys of 16 characters or more.
DEMO_KEY = "sk-local-dev-0000000000"
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
    """Run the emulator and the local serverless stack (or, with --asgi, the ASGI server) until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="make run")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    parser.add_argument(
        "--asgi", action="store_true", help="serve the ASGI app (the compose target) instead of the functions"
    )
    args = parser.parse_args(argv)
    state = Path(tempfile.mkdtemp(prefix="oci-genai-emulator-"))
    emulator, url = start_emulator(state)
    try:
        return run_asgi(url, args.port) if args.asgi else run_serverless(url, args.port, state)
    except KeyboardInterrupt:
        return 0
    finally:
        _terminate(emulator)
        shutil.rmtree(state, ignore_errors=True)


def run_serverless(emulator_url: str, port: int, state: Path) -> int:
    """The four functions under real fdk servers behind the local API Gateway on 127.0.0.1:port."""
    from oci_genai_gateway.core.settings import parse_api_keys
    from oci_genai_gateway.localgw.server import serve
    from oci_genai_gateway.localgw.stack import render_local_spec, start_stack

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    keys = os.environ.get("GATEWAY_API_KEYS") or f"local:{DEMO_KEY}"
    origins = os.environ.get("GATEWAY_CORS_ORIGINS", "http://localhost:3000")
    spec = render_local_spec(
        cors_origins=[o.strip() for o in origins.split(",") if o.strip()],
        rate_limit_rps=int(os.environ.get("GATEWAY_RATE_LIMIT_RPS", "10")),
    )
    print("  starting the functions (the first call of each imports LiteLLM) ...", flush=True)
    stack = start_stack(emulator_url, state, api_keys=keys, spec=spec, port=None)
    try:
        stack.warm()
        key = next(iter(parse_api_keys(keys).values()))
        logs = "\n".join(f"    {name}: {fn.log_path}" for name, fn in stack.functions.items())
        print(
            f"\n  OCI Generative AI emulator: {emulator_url}\n"
            f"  Local API Gateway (OpenAI base URL): http://127.0.0.1:{port}/v1\n"
            f"  API key:                             {key}\n"
            f"  Function logs:\n{logs}\n\n"
            f"  curl http://127.0.0.1:{port}/v1/models -H 'Authorization: Bearer {key}'\n",
            flush=True,
        )
        serve(stack.gateway, port)
        return 0
    finally:
        stack.stop()


def run_asgi(emulator_url: str, port: int) -> int:
    """The ASGI server (the compose target's process) on 127.0.0.1:port."""
    env = gateway_env(emulator_url, os.environ)
    gateway = subprocess.Popen(
        [sys.executable, "-m", "oci_genai_gateway", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
    )
    key = env["GATEWAY_API_KEYS"].split(":", 1)[1].split(",", 1)[0]
    print(
        f"\n  OCI Generative AI emulator: {emulator_url}\n"
        f"  Gateway (OpenAI-compatible): http://127.0.0.1:{port}/v1\n"
        f"  API key:                     {key}\n\n"
        f"  curl http://127.0.0.1:{port}/v1/models -H 'Authorization: Bearer {key}'\n",
        flush=True,
    )
    try:
        return gateway.wait()
    finally:
        _terminate(gateway)


def _terminate(proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
