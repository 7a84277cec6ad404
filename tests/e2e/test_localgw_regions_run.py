"""`make run` with GATEWAY_REGIONS over two emulated regions: the issue's "done when", on the serverless
stack (the EU key's policy reaches the functions through the authorizer, as its model list does)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from oci_genai_emulator import EmulatorClient
from tests.e2e.test_localgw_dev_run import Output
from tests.fixtures.gateway import free_port, stop

pytestmark = pytest.mark.slow

HOME, EU = "us-chicago-1", "eu-frankfurt-1"
SHARED, EU_ONLY = "meta.llama-3.3-70b-instruct", "cohere.command-a-03-2025"
KEY, EU_KEY = "sk-local-regions-000001", "sk-local-eu-only-000002"
EMULATOR_OPTIONS = (
    f"--region-catalog {HOME}={SHARED},xai.grok-4,xai.grok-3-mini --region-catalog {EU}={SHARED},{EU_ONLY}"
)


@pytest.fixture
def stack() -> Iterator[tuple[str, EmulatorClient, subprocess.Popen[str]]]:
    """`make run` with two regions, a key for anywhere and an EU-only key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "OCI_RESOURCE_"))}
    keys = {"anywhere": KEY, "eu-team": {"key": EU_KEY, "regions": [EU]}}
    env.update(
        GATEWAY_REGIONS=f"{HOME},{EU}", GATEWAY_API_KEYS=json.dumps(keys), EMULATOR_OPTIONS=EMULATOR_OPTIONS
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oci_genai_devstack.run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = Output(process)
        emulator = output.wait_for(r"OCI Generative AI emulator:\s+(\S+)").group(1)
        base = output.wait_for(r"OpenAI base URL:\s+(\S+)").group(1)
        output.wait_for(r"curl ")
        yield base, EmulatorClient(emulator), process
    finally:
        stop(process)


def chat(base: str, model: str, key: str = KEY) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(
        f"{base}/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


def test_one_url_answers_the_second_regions_model_fails_over_and_keeps_an_eu_key_in_the_eu(
    stack: tuple[str, EmulatorClient, subprocess.Popen[str]],
) -> None:
    base, emulator, process = stack
    listed = httpx.get(f"{base}/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=60).json()
    assert {m["id"]: m.get("oci_regions") for m in listed["data"]}[EU_ONLY] == [EU]

    only_second = chat(base, EU_ONLY)  # served in Frankfurt only
    assert only_second.status_code == 200, only_second.text
    assert only_second.headers["x-gateway-region"] == EU

    emulator.reset()
    emulator.inject_fault("status=429", region=HOME, model=SHARED)  # the home region throttles
    failed_over = chat(base, SHARED)
    assert failed_over.status_code == 200, failed_over.text
    assert failed_over.headers["x-gateway-region"] == EU
    assert [e["region"] for e in emulator.requests("/actions/chat")] == [HOME, EU]

    emulator.reset()
    eu = chat(base, SHARED, EU_KEY)  # served at home too; the key may not go there
    assert eu.headers["x-gateway-region"] == EU
    refused = chat(base, "xai.grok-4", EU_KEY)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "region_not_allowed"
    assert {e["region"] for e in emulator.requests("/actions/chat")} == {EU}

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
