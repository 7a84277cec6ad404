"""The local serverless stack: the four functions under fdk behind a local gateway, OCI being the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oci_genai_devstack.localgw.app import LocalGateway
from oci_genai_devstack.localgw.auth import Clock
from oci_genai_devstack.localgw.functions import FunctionProcess, start_function
from oci_genai_devstack.localgw.invoke import Invoker, request_id
from oci_genai_devstack.localgw.server import ThreadedServer
from oci_genai_devstack.localgw.usage_plans import UsagePlans
from oci_genai_emulator import DEFAULT_COMPARTMENT, DEFAULT_REGION, EmulatorClient
from oci_genai_gateway import apigw_spec

ROUTE_FUNCTIONS = ("chat", "embeddings", "moderations", "models")
AUTHORIZER = "authorizer"


def render_local_spec(
    *, cors_origins: Sequence[str] = (), rate_limit_rps: int = 10, usage_plans: bool = True
) -> dict[str, Any]:
    """The apigw/ spec rendered with the local function names as function ids (usage plans: as deployed)."""
    values: dict[str, object] = {
        **apigw_spec.DEFAULT_VALUES,
        "CHAT_FUNCTION_ID": "chat",
        "EMBEDDINGS_FUNCTION_ID": "embeddings",
        "MODERATIONS_FUNCTION_ID": "moderations",
        "MODELS_FUNCTION_ID": "models",
        "AUTHORIZER_FUNCTION_ID": AUTHORIZER,
        "CORS_ALLOWED_ORIGINS": list(cors_origins),
        "RATE_LIMIT_RPS": rate_limit_rps,
    }
    if not usage_plans:
        values["USAGE_PLAN_TOKEN_LOCATIONS"] = []
    return apigw_spec.render(values)


def route_function_env(emulator_url: str, rp_env: Mapping[str, str]) -> dict[str, str]:
    """Config of the chat/embeddings/models functions: resource principal, emulator as OCI, no keys."""
    return {
        **rp_env,
        "GATEWAY_AUTH": "resource_principal",
        "GATEWAY_OCI_ENDPOINT": emulator_url,
        "GATEWAY_REGION": DEFAULT_REGION,
        "GATEWAY_COMPARTMENT_ID": DEFAULT_COMPARTMENT,
    }


@dataclass
class LocalStack:
    """Running functions and the gateway app serving them (on a thread unless served by the caller)."""

    gateway: LocalGateway
    functions: dict[str, FunctionProcess]
    usage_plans: UsagePlans | None = None  # the subscribers of the keys the authorizer holds
    server: ThreadedServer | None = None
    workdir: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """The gateway's base URL (with the deployment prefix)."""
        if self.server is None:
            raise RuntimeError("the stack's gateway is served by the caller")
        return self.server.url

    def warm(self, timeout: float = 120.0) -> None:
        """Invoke every route function once so their cold start (LiteLLM import) is paid up front."""
        functions = [self.functions[name] for name in ROUTE_FUNCTIONS]
        asyncio.run(asyncio.wait_for(_warm(functions), timeout))

    def stop(self) -> None:
        """Stop the server and every function; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self.server is not None:
            self.server.stop()
        for function in self.functions.values():
            function.stop()


def start_stack(
    emulator_url: str,
    workdir: Path,
    *,
    functions_dir: Path,
    api_keys: str,
    spec: Mapping[str, Any] | None = None,
    route_env: Mapping[str, str] | None = None,
    authorizer_env: Mapping[str, str] | None = None,
    clock: Clock = time.time,
    path_prefix: str = "/",
    port: int | None = 0,
) -> LocalStack:
    """Start the four functions of `functions_dir` and a gateway on 127.0.0.1:`port` (None: caller serves)."""
    rp_env = EmulatorClient(emulator_url).mint_resource_principal(workdir / "resource-principal")
    env = {**route_function_env(emulator_url, rp_env), **(route_env or {})}
    functions: dict[str, FunctionProcess] = {}
    try:
        for name in ROUTE_FUNCTIONS:
            functions[name] = start_function(name, env, functions_dir / name)
        functions[AUTHORIZER] = start_function(
            AUTHORIZER, {"GATEWAY_API_KEYS": api_keys, **(authorizer_env or {})}, functions_dir / AUTHORIZER
        )
        for function in functions.values():
            function.wait_listening()
        targets = {name: function.target for name, function in functions.items()}
        # What deploy creates beside the deployment: a subscriber per key, a plan per rate and quota.
        plans = UsagePlans.from_api_keys(api_keys, clock=clock)
        gateway = LocalGateway(
            spec if spec is not None else render_local_spec(),
            targets,
            clock=clock,
            path_prefix=path_prefix,
            usage_plans=plans,
        )
        stack = LocalStack(gateway, functions, plans, workdir=workdir)
        if port is not None:
            stack.server = ThreadedServer(gateway, port).start()
    except BaseException:
        # wait_listening already put a dead function's log into the error.
        for function in functions.values():
            function.stop()
        raise
    return stack


async def _warm(functions: list[FunctionProcess]) -> None:
    invoker = Invoker()
    try:
        calls = [invoker.plain(f.target, b"{}", request_id()) for f in functions]
        await asyncio.gather(*calls)
    finally:
        await invoker.aclose()
