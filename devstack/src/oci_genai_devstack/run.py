"""`make run`: the local serverless stack (or, with --asgi, the ASGI server) on the bundled emulator."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import httpx

from oci_genai_emulator import DEFAULT_COMPARTMENT, DEFAULT_REGION, EmulatorProcess
from oci_genai_gateway.core.access.policy import parse_env

# The authorizer function accepts keys of 16 characters or more.
DEMO_KEY = "sk-local-dev-0000000000"
DEFAULT_ORIGINS = "http://localhost:3000"
_READY_TIMEOUT_SECONDS = 60.0


def gateway_env(emulator_url: str, rp_env: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    """The ASGI server's environment: its real resource-principal signer over minted files."""
    env = {k: v for k, v in base.items() if not k.startswith("OCI_RESOURCE_PRINCIPAL_")}
    env.setdefault("GATEWAY_API_KEYS", f"local:{DEMO_KEY}")
    env.setdefault("GATEWAY_COMPARTMENT_ID", DEFAULT_COMPARTMENT)
    env.setdefault("GATEWAY_CORS_ORIGINS", DEFAULT_ORIGINS)
    env.update(rp_env)
    env.update({"GATEWAY_AUTH": "resource_principal", **region_env(emulator_url, base)})
    return env


def regions_of(env: Mapping[str, str]) -> list[str]:
    """GATEWAY_REGIONS as a list (empty when unset: the emulator's one region)."""
    return [r.strip() for r in env.get("GATEWAY_REGIONS", "").split(",") if r.strip()]


def region_env(emulator_url: str, env: Mapping[str, str]) -> dict[str, str]:
    """Where the gateway finds OCI: the emulator, and with GATEWAY_REGIONS each region under its prefix."""
    regions = regions_of(env)
    if not regions:
        return {
            "GATEWAY_OCI_ENDPOINT": emulator_url,
            "GATEWAY_REGION": env.get("GATEWAY_REGION") or DEFAULT_REGION,
        }
    return {
        "GATEWAY_OCI_ENDPOINT": f"{emulator_url}/{{region}}",
        "GATEWAY_REGIONS": ",".join(regions),
        "GATEWAY_REGION": regions[0],
    }


def emulator_options(env: Mapping[str, str]) -> tuple[str, ...]:
    """Every region of GATEWAY_REGIONS served (all models), then EMULATOR_OPTIONS (which may narrow them)."""
    options: list[str] = []
    for region in regions_of(env):
        options += ["--region-catalog", f"{region}=*"]
    return (*options, *shlex.split(env.get("EMULATOR_OPTIONS", "")))


def key_banner(env: Mapping[str, str]) -> str:
    """What to tell the user about keys: the demo key itself, but configured keys by name only."""
    configured = env.get("GATEWAY_API_KEYS")
    if not configured:
        return f"API key:  {DEMO_KEY}"
    return f"API keys: from GATEWAY_API_KEYS ({', '.join(parse_env(configured).teams())})"


def main(argv: list[str] | None = None) -> int:
    """Run the emulator and the local serverless stack (or the ASGI server) until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="make run")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    parser.add_argument("--asgi", action="store_true", help="serve the ASGI app (the compose target)")
    parser.add_argument("--functions-dir", type=Path, default=Path("functions"), help="the repository's")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every child is stopped and every key file removed; uvicorn
    # re-raises the signal after its own graceful shutdown and lands here too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with _emulator() as (emulator, state):
            if args.asgi:
                return run_asgi(emulator, state, args.port)
            return run_serverless(emulator, state, args.port, args.functions_dir)
    except KeyboardInterrupt:
        return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def _emulator() -> Iterator[tuple[EmulatorProcess, Path]]:
    """The emulator and a private state dir (issuer key, minted keys), both gone on exit."""
    state = Path(tempfile.mkdtemp(prefix="oci-genai-devstack-"))
    try:
        emulator = EmulatorProcess.start(state / "emulator", options=emulator_options(os.environ))
        try:
            yield emulator, state
        finally:
            emulator.stop()
    finally:
        shutil.rmtree(state, ignore_errors=True)


def run_serverless(emulator: EmulatorProcess, state: Path, port: int, functions_dir: Path) -> int:
    """The four functions under real fdk servers behind the local API Gateway on 127.0.0.1:port."""
    from oci_genai_devstack.localgw.server import serve
    from oci_genai_devstack.localgw.stack import render_local_spec, start_stack

    if not (functions_dir / "chat" / "func.py").is_file():
        raise SystemExit(f"{functions_dir}/chat/func.py not found: run from the repository root")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    origins = os.environ.get("GATEWAY_CORS_ORIGINS", DEFAULT_ORIGINS)
    spec = render_local_spec(
        cors_origins=[o.strip() for o in origins.split(",") if o.strip()],
        rate_limit_rps=int(os.environ.get("GATEWAY_RATE_LIMIT_RPS", "10")),
    )
    print("  starting the functions (the first call of each imports LiteLLM) ...", flush=True)
    keys = os.environ.get("GATEWAY_API_KEYS") or f"local:{DEMO_KEY}"
    stack = start_stack(
        emulator.url,
        state / "stack",
        functions_dir=functions_dir,
        api_keys=keys,
        spec=spec,
        port=None,
        route_env=region_env(emulator.url, os.environ),
    )
    try:
        stack.warm()
        logs = "\n".join(f"    {name}: {fn.log_path}" for name, fn in stack.functions.items())
        _banner(emulator.url, f"http://127.0.0.1:{port}/v1", f"  Function logs:\n{logs}\n")
        serve(stack.gateway, port)
        return 0
    finally:
        stack.stop()


def run_asgi(emulator: EmulatorProcess, state: Path, port: int) -> int:
    """The ASGI server (the compose target's process) on 127.0.0.1:port."""
    rp_env = emulator.mint_resource_principal(state / "resource-principal")
    env = gateway_env(emulator.url, rp_env, os.environ)
    command = [sys.executable, "-m", "oci_genai_gateway", "serve", "--host", "127.0.0.1", "--port", str(port)]
    gateway = subprocess.Popen(command, env=env)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", gateway)
        _banner(emulator.url, f"http://127.0.0.1:{port}/v1", "")
        return gateway.wait()
    finally:
        _terminate(gateway)


def _banner(emulator_url: str, base_url: str, extra: str) -> None:
    keys = key_banner(os.environ)
    print(
        f"\n  OCI Generative AI emulator: {emulator_url}\n"
        f"  OpenAI base URL:            {base_url}\n"
        f"  {keys}\n{extra}\n"
        f"  curl {base_url}/models -H 'Authorization: Bearer <key>'\n",
        flush=True,
    )


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    """Block until the server answers /health/readiness, so the printed URL works when printed."""
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the gateway exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health/readiness", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the gateway did not become ready")


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
