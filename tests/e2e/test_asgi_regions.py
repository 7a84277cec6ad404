"""Several regions behind one URL (GATEWAY_REGIONS), end to end: the ASGI gateway, the OpenAI SDK and
one emulator serving two regions, each with its own catalogue, faults and throttling."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from oci_genai_emulator import EmulatorProcess
from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import KEY, GatewayProcess, start_gateway, stop
from tests.openapi import validate

HOME, EU = "us-chicago-1", "eu-frankfurt-1"
BOTH = "meta.llama-3.3-70b-instruct"  # on demand in both regions
HOME_ONLY = "xai.grok-4"
EU_ONLY = "cohere.command-a-03-2025"
EMBED = "cohere.embed-multilingual-v3.0"  # Frankfurt only
EU_KEY = "sk-test-eu-only-0003"
# More models on demand in both regions: each test that cools a (region, model) pair down has its own.
FAILOVER = {
    "status=429,retry-after=30": "meta.llama-4-maverick-17b-128e-instruct-fp8",
    "status=503": "google.gemini-2.5-flash",
    "status=500": "openai.gpt-5",
    "latency=1500": "openai.gpt-oss-120b",  # longer than GATEWAY_UPSTREAM_TIMEOUT
}
CLIENT_ERROR, STREAMED = "cohere.command-r-08-2024", BOTH
SHARED = ",".join([BOTH, *FAILOVER.values(), CLIENT_ERROR])
CATALOGS = (
    "--region-catalog",
    f"{HOME}={SHARED},{HOME_ONLY},xai.grok-3-mini,cohere.embed-english-v3.0",
    "--region-catalog",
    f"{EU}={SHARED},{EU_ONLY},{EMBED}",
)


@pytest.fixture(scope="module")
def regions_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator of its own serving two regions (the session one serves one)."""
    state = tmp_path_factory.mktemp("regions-emulator")
    with (state / "emulator.log").open("w") as log:
        process = EmulatorProcess.start(state, stderr=log, options=CATALOGS)
    emulator = Emulator(process.url, process.state_dir, process.process)
    emulator.log_path = state / "emulator.log"
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def regional(
    regions_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """The gateway over both regions, Chicago home, with an EU-only key beside the default one."""
    keys = {"primary": KEY, "eu-team": {"key": EU_KEY, "regions": [EU]}}
    proc = start_gateway(
        regions_emulator,
        tmp_path_factory.mktemp("regional"),
        GATEWAY_REGIONS=f"{HOME},{EU}",
        GATEWAY_OCI_ENDPOINT=f"{regions_emulator.url}/{{region}}",
        GATEWAY_API_KEYS=json.dumps(keys),
        GATEWAY_UPSTREAM_TIMEOUT="1",
        GATEWAY_METRICS_FLUSH_SECONDS="0.1",
    )
    try:
        yield proc
    finally:
        stop(proc.process)


@pytest.fixture
def emu(regions_emulator: Emulator) -> Emulator:
    """The two-region emulator with no faults, throttling or logged requests."""
    regions_emulator.reset()
    regions_emulator.throttle(HOME, 0)
    regions_emulator.throttle(EU, 0)
    return regions_emulator


def chat(gateway: GatewayProcess, model: str, key: str = KEY, **body: Any) -> httpx.Response:
    """POST /v1/chat/completions as raw JSON."""
    payload = {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}
    return httpx.post(
        f"{gateway.base_url}/chat/completions",
        json=payload,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def regions_called(emulator: Emulator, action: str = "/actions/chat") -> list[str]:
    """The region of each inference call the emulator received, in order."""
    return [e["region"] for e in emulator.requests(action)]


def test_the_model_list_is_the_union_of_both_regions_naming_where_each_is_served(
    regional: GatewayProcess, emu: Emulator
) -> None:
    raw = httpx.get(f"{regional.base_url}/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    validate(raw, "ListModelsResponse")  # the extension field is allowed by OpenAI's schema
    where = {m["id"]: m.get("oci_regions") for m in raw["data"]}
    assert where[BOTH] == [HOME, EU]
    assert where[HOME_ONLY] == [HOME]
    assert where[EU_ONLY] == [EU]
    assert where[EMBED] == [EU]
    # The OpenAI SDK keeps the extension as an extra field of its Model.
    with regional.client() as client:
        listed = {m.id: m for m in client.models.list()}
    assert (listed[EU_ONLY].model_extra or {})["oci_regions"] == [EU]


def test_a_model_only_the_second_region_serves_is_answered_there(
    regional: GatewayProcess, emu: Emulator
) -> None:
    with regional.client() as client:
        raw = client.chat.completions.with_raw_response.create(
            model=EU_ONLY, messages=[{"role": "user", "content": "hi"}]
        )
    assert raw.headers["x-gateway-region"] == EU
    assert raw.parse().choices[0].message.content
    assert regions_called(emu) == [EU]
    embedded = httpx.post(
        f"{regional.base_url}/embeddings",
        json={"model": EMBED, "input": "hallo"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    assert embedded.status_code == 200
    assert embedded.headers["x-gateway-region"] == EU
    assert regions_called(emu, "/actions/embedText") == [EU]


def test_a_model_served_at_home_stays_home(regional: GatewayProcess, emu: Emulator) -> None:
    answer = chat(regional, BOTH)
    assert answer.status_code == 200
    assert answer.headers["x-gateway-region"] == HOME
    assert regions_called(emu) == [HOME]


@pytest.mark.parametrize("fault", list(FAILOVER), ids=str)
def test_a_throttled_failing_or_slow_home_region_fails_over_then_cools_down(
    regional: GatewayProcess, emu: Emulator, fault: str
) -> None:
    model = FAILOVER[fault]
    emu.inject_fault(fault, region=HOME, model=model)
    answer = chat(regional, model)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-gateway-region"] == EU
    assert regions_called(emu) == [HOME, EU]
    # The (home, model) pair cools down: the next call goes to Frankfurt first.
    again = chat(regional, model)
    assert again.headers["x-gateway-region"] == EU
    assert regions_called(emu) == [HOME, EU, EU]
    log = regional.wait_for_log('"region_failover"')
    assert '"region": "us-chicago-1"' in log


def test_a_client_error_is_never_retried_in_another_region(regional: GatewayProcess, emu: Emulator) -> None:
    emu.inject_fault("status=400", region=HOME)
    answer = chat(regional, CLIENT_ERROR)
    assert answer.status_code == 400
    assert regions_called(emu) == [HOME]
    # No cool-down either: the next call goes home again.
    assert chat(regional, CLIENT_ERROR).headers["x-gateway-region"] == HOME


def test_a_stream_never_switches_region_after_its_first_byte(regional: GatewayProcess, emu: Emulator) -> None:
    model = STREAMED
    # Stream opened in one region, then cut mid-way: the client sees the failure, no other region is asked.
    emu.inject_fault("cut=2", model=model)
    with regional.client() as client:
        stream = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}], stream=True
        )
        with pytest.raises((openai.APIError, httpx.HTTPError)):
            list(stream)
    assert len(regions_called(emu)) == 1
    # A stream whose region throttles before answering fails over like any call.
    served = regions_called(emu)[0]
    other = EU if served == HOME else HOME
    emu.reset()
    emu.inject_fault("status=429", region=served, model=model)
    with httpx.stream(
        "POST",
        f"{regional.base_url}/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["x-gateway-region"] == other
        assert "[DONE]" in response.read().decode()


def test_an_eu_only_key_stays_in_the_eu(regional: GatewayProcess, emu: Emulator) -> None:
    answer = chat(regional, BOTH, key=EU_KEY)  # served at home too, but the key may not go there
    assert answer.status_code == 200
    assert answer.headers["x-gateway-region"] == EU
    refused = chat(regional, HOME_ONLY, key=EU_KEY)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "region_not_allowed"
    assert EU in error["message"]
    assert HOME in error["message"]
    # When Frankfurt throttles, the EU key gets the 429: it never fails over out of its regions.
    emu.reset()
    emu.inject_fault("status=429", region=EU, model=BOTH)
    throttled = chat(regional, BOTH, key=EU_KEY)
    assert throttled.status_code == 429
    assert regions_called(emu) == [EU]
    listed = httpx.get(f"{regional.base_url}/models", headers={"Authorization": f"Bearer {EU_KEY}"}).json()
    where = {m["id"]: m.get("oci_regions") for m in listed["data"]}
    assert HOME_ONLY not in where
    assert where[BOTH] == [EU]
    one = httpx.get(f"{regional.base_url}/models/{HOME_ONLY}", headers={"Authorization": f"Bearer {EU_KEY}"})
    assert one.status_code == 403
    assert one.json()["error"]["code"] == "region_not_allowed"


def test_usage_metrics_carry_the_serving_region(regional: GatewayProcess, emu: Emulator) -> None:
    emu.control("DELETE", "/metrics")
    assert chat(regional, EU_ONLY).status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        dims = [m["dimensions"] for m in emu.metrics() if m["name"] == "total_tokens"]
        if dims:
            break
        time.sleep(0.05)
    assert {"model": EU_ONLY, "region": EU, "route": "chat", "key": "primary"} in dims


def test_cross_realm_regions_are_refused_at_start(regions_emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="realm"):
        start_gateway(
            regions_emulator,
            tmp_path,
            GATEWAY_REGIONS=f"{HOME},us-langley-1",
            GATEWAY_OCI_ENDPOINT=f"{regions_emulator.url}/{{region}}",
        )
