"""The emulator as several regions: the oci SDK lists each region's own catalogue with one signer, and
faults, throttling and the request log are per region."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import oci
import pytest

from oci_genai_emulator import DEFAULT_COMPARTMENT, EmulatorProcess
from tests.fixtures.emulator import sign_request

HOME, EU = "us-chicago-1", "eu-frankfurt-1"


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    options = ("--region-catalog", f"{EU}=meta.llama-3.3-70b-instruct,cohere.embed-multilingual-v3.0")
    emulator = EmulatorProcess.start(tmp_path_factory.mktemp("regions"), options=options)
    try:
        yield emulator
    finally:
        emulator.stop()


def listed(emulator: EmulatorProcess, signer: Any, region: str) -> set[str]:
    client = oci.generative_ai.GenerativeAiClient(
        {"region": region},
        signer=signer,
        service_endpoint=emulator.region_url(region),
        retry_strategy=oci.retry.NoneRetryStrategy(),
    )
    items = oci.pagination.list_call_get_all_results(client.list_models, DEFAULT_COMPARTMENT).data
    return {m.display_name for m in items}


def test_one_signer_lists_each_regions_own_catalogue(regions: EmulatorProcess, tmp_path: Path) -> None:
    signer = regions.resource_principal_signer(tmp_path)
    home = listed(regions, signer, HOME)
    assert {"xai.grok-4", "meta.llama-3.3-70b-instruct"} <= home
    assert listed(regions, signer, EU) == {"meta.llama-3.3-70b-instruct", "cohere.embed-multilingual-v3.0"}
    with pytest.raises(oci.exceptions.ServiceError) as unknown:
        listed(regions, signer, "ap-tokyo-1")
    assert unknown.value.status == 404
    assert {e["region"] for e in regions.requests("/models")} == {HOME, EU, "ap-tokyo-1"}


def test_faults_and_throttling_are_per_region(regions: EmulatorProcess, tmp_path: Path) -> None:
    regions.reset()
    signer = regions.resource_principal_signer(tmp_path)
    body = (
        b'{"compartmentId":"' + DEFAULT_COMPARTMENT.encode() + b'","servingMode":{"servingType":"ON_DEMAND",'
        b'"modelId":"xai.grok-4"},"chatRequest":{"apiFormat":"GENERIC","messages":[{"role":"USER",'
        b'"content":[{"type":"TEXT","text":"hi"}]}]}}'
    )

    def chat(region: str) -> int:
        url = f"{regions.region_url(region)}/20231130/actions/chat"
        return httpx.post(
            url, content=body, headers=sign_request(signer, "POST", url, body), timeout=30
        ).status_code

    regions.inject_fault("status=503", region=EU)
    assert chat(HOME) == 200  # the EU fault waits for an EU call
    assert chat(EU) == 503  # taken by the first call to Frankfurt
    assert chat(EU) == 404  # which does not serve Grok
    regions.reset()
    regions.throttle(HOME, 0.5)
    assert [chat(HOME) for _ in range(4)] == [200, 429, 200, 429]
    regions.throttle(HOME, 0)
    assert chat(HOME) == 200
