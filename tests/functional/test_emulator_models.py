"""The oci SDK's GenerativeAiClient against the emulator's model catalogue: paging, filters, sorting."""

from __future__ import annotations

from typing import Any

import oci
import pytest

from oci_genai_emulator import catalog
from tests.fixtures.emulator import COMPARTMENT, Emulator, management_client

LLAMA = "meta.llama-3.3-70b-instruct"


@pytest.fixture(params=["api_key", "resource_principal"])
def models_client(request: pytest.FixtureRequest, emu: Emulator) -> Any:
    if request.param == "api_key":
        return management_client(
            emu, request.getfixturevalue("api_key_signer"), request.getfixturevalue("api_key_config")
        )
    return management_client(emu, request.getfixturevalue("rp_signer"))


def test_list_models_pages_with_opc_next_page(models_client: Any) -> None:
    first = models_client.list_models(COMPARTMENT, limit=4)
    assert len(first.data.items) == 4
    assert first.next_page
    assert first.has_next_page
    everything = oci.pagination.list_call_get_all_results(
        models_client.list_models, COMPARTMENT, limit=4
    ).data

    assert len(everything) == len(catalog.MODELS)
    assert len({i.id for i in everything}) == len(everything)
    names = [i.display_name for i in everything]
    assert names.count(LLAMA) == 2  # one entry per version: consumers must de-duplicate
    created = [i.time_created for i in everything]
    assert created == sorted(created, reverse=True)  # OCI's default: newest first
    assert all(i.lifecycle_state == "ACTIVE" for i in everything)
    # Base models belong to no compartment; fine-tuned ones live in the caller's.
    assert {i.compartment_id for i in everything if i.type == "BASE"} == {None}
    assert {i.compartment_id for i in everything if i.type == "CUSTOM"} == {COMPARTMENT}


def test_list_models_carries_deprecation_retirement_and_custom_models(models_client: Any) -> None:
    items = {
        (i.display_name, i.version): i for i in models_client.list_models(COMPARTMENT, limit=100).data.items
    }
    retired = items[("meta.llama-3.1-405b-instruct", "1.0.0")]
    deprecated = items[("cohere.command-r-08-2024", "1.7")]
    custom = items[("ft-llama-3.3-support-assistant", "1")]
    assert retired.time_on_demand_retired < retired.time_created.now(retired.time_created.tzinfo)
    assert deprecated.time_deprecated is not None
    assert deprecated.time_on_demand_retired.year > 2030
    assert custom.type == "CUSTOM"
    assert custom.base_model_id == items[(LLAMA, "1.0.0")].id


def test_list_models_filters(models_client: Any) -> None:
    embeddings = models_client.list_models(COMPARTMENT, capability=["TEXT_EMBEDDINGS"]).data.items
    assert {i.display_name for i in embeddings} == {
        "cohere.embed-english-v3.0",
        "cohere.embed-multilingual-v3.0",
        "cohere.embed-english-light-v3.0",
        "cohere.embed-v4.0",
    }
    xai = models_client.list_models(COMPARTMENT, vendor="xai").data.items
    assert {i.display_name for i in xai} == {"xai.grok-4", "xai.grok-3-mini"}
    generation = models_client.list_models(COMPARTMENT, capability=["TEXT_GENERATION"]).data.items
    assert "cohere.command-a-03-2025" in {i.display_name for i in generation}
    assert all("CHAT" not in i.capabilities for i in generation)
    named = models_client.list_models(
        COMPARTMENT, display_name=LLAMA, sort_by="timeCreated", sort_order="ASC"
    )
    assert [i.version for i in named.data.items] == ["1.0.0", "1.0.1"]
    assert models_client.list_models(COMPARTMENT, lifecycle_state="DELETED").data.items == []
    by_name = models_client.list_models(COMPARTMENT, sort_by="displayName", limit=100).data.items
    assert [i.display_name for i in by_name] == sorted(i.display_name for i in by_name)
