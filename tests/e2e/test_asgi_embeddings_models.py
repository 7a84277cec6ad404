"""Embeddings and models end to end through the ASGI gateway with the OpenAI SDK."""

from __future__ import annotations

import array
import base64
import math
from typing import Any

import httpx
import openai
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import KEY, GatewayProcess
from tests.openapi import validate

EMBED = "cohere.embed-english-v3.0"


def raw_embeddings(gateway: GatewayProcess, **body: Any) -> dict[str, Any]:
    """POST /v1/embeddings as raw JSON, validated against OpenAI's schema."""
    response = httpx.post(
        f"{gateway.base_url}/embeddings", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
    )
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    # OpenAI's schema only models float vectors; base64 ones (OpenAI's own wire form) are checked
    # by decoding them back to floats.
    decoded = {**payload, "data": [{**d, "embedding": _floats(d["embedding"])} for d in payload["data"]]}
    validate(decoded, "CreateEmbeddingResponse")
    return payload


def _floats(vector: Any) -> list[float]:
    if isinstance(vector, list):
        return vector
    return list(array.array("f", base64.b64decode(vector)))


def test_float_embeddings_are_unit_vectors_of_the_model_dimension(gateway: GatewayProcess) -> None:
    body = raw_embeddings(gateway, model=EMBED, input=["alpha", "beta"], encoding_format="float")
    assert body["model"] == EMBED
    assert [d["index"] for d in body["data"]] == [0, 1]
    for item in body["data"]:
        assert len(item["embedding"]) == 1024
        assert math.isclose(math.sqrt(sum(x * x for x in item["embedding"])), 1.0, rel_tol=1e-6)
    assert body["usage"]["prompt_tokens"] > 0


def test_sdk_default_base64_decodes_to_the_float_vectors(
    client: openai.OpenAI, gateway: GatewayProcess
) -> None:
    decoded = client.embeddings.create(model=EMBED, input="gamma")  # the SDK asks for base64 and decodes
    floats = raw_embeddings(gateway, model=EMBED, input="gamma", encoding_format="float")
    assert decoded.data[0].embedding == pytest.approx(floats["data"][0]["embedding"], rel=1e-6)
    raw = raw_embeddings(gateway, model=EMBED, input="gamma", encoding_format="base64")
    assert isinstance(raw["data"][0]["embedding"], str)
    assert _floats(raw["data"][0]["embedding"]) == pytest.approx(floats["data"][0]["embedding"], rel=1e-6)


def test_more_than_96_inputs_are_split_and_merged_in_order(
    client: openai.OpenAI, gateway: GatewayProcess, emulator: Emulator
) -> None:
    inputs = [f"sentence number {i}" for i in range(200)]
    many = client.embeddings.create(model=EMBED, input=inputs, encoding_format="float")
    assert [d.index for d in many.data] == list(range(200))
    batches = [len(r["body"]["inputs"]) for r in emulator.requests("/actions/embedText")]
    assert sorted(batches) == [8, 96, 96]
    single = client.embeddings.create(model=EMBED, input=inputs[150], encoding_format="float")
    assert many.data[150].embedding == pytest.approx(single.data[0].embedding)
    alone = [
        client.embeddings.create(
            model=EMBED, input=inputs[i : i + 96], encoding_format="float"
        ).usage.prompt_tokens
        for i in (0, 96, 192)
    ]
    assert many.usage.prompt_tokens == sum(alone) > 0


def test_dimensions_and_oci_extras_reach_oci(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.embeddings.create(
        model="cohere.embed-v4.0",
        input="delta",
        dimensions=256,
        encoding_format="float",
        extra_body={"input_type": "search_query", "truncate": "start"},
    )
    assert len(response.data[0].embedding) == 256
    sent = emulator.requests("/actions/embedText")[-1]["body"]
    assert sent["outputDimensions"] == 256
    assert sent["inputType"] == "SEARCH_QUERY"
    assert sent["truncate"] == "START"


def test_token_arrays_are_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model=EMBED, input=[[1, 2, 3]])
    assert info.value.body["param"] == "input"  # type: ignore[index]
    assert "Token-id arrays" in info.value.body["message"]  # type: ignore[index]


def test_models_list_keeps_served_models_once_plus_aliases(
    client: openai.OpenAI, gateway: GatewayProcess
) -> None:
    raw = httpx.get(f"{gateway.base_url}/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    validate(raw, "ListModelsResponse")
    ids = [m["id"] for m in raw["data"]]
    assert len(ids) == len(set(ids)), "OCI lists some models once per version; we list each once"
    assert "meta.llama-3.3-70b-instruct" in ids
    assert "cohere.embed-v4.0" in ids
    assert "cohere.command-r-08-2024" in ids, "deprecated but not retired: still served"
    assert "meta.llama-3.1-405b-instruct" not in ids, "retired for on-demand use"
    assert not any(i.startswith("ft-") for i in ids), "custom models are only reachable via endpoints"
    assert {"fast", "tuned"} <= set(ids)
    assert {m.id for m in client.models.list()} == set(ids)


def test_models_retrieve_model_and_alias(client: openai.OpenAI, gateway: GatewayProcess) -> None:
    model = client.models.retrieve("xai.grok-4")
    assert (model.id, model.owned_by) == ("xai.grok-4", "xai")
    raw = httpx.get(f"{gateway.base_url}/models/fast", headers={"Authorization": f"Bearer {KEY}"}).json()
    validate(raw, "Model")
    assert raw["owned_by"] == "xai"
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("no.such-model")
    validate(info.value.body and {"error": info.value.body}, "ErrorResponse")
    assert info.value.body["code"] == "model_not_found"  # type: ignore[index]


def test_models_are_cached_between_requests(client: openai.OpenAI, emulator: Emulator) -> None:
    client.models.list()
    emulator.reset()
    for _ in range(3):
        client.models.list()
        client.models.retrieve("xai.grok-4")
    assert emulator.requests("/models") == []


def test_model_discovery_follows_every_page(tmp_path: Any, emulator: Emulator) -> None:
    """The emulator pages at PAGE_SIZE models, so the list is only complete if every page was read."""
    from tests.fixtures.gateway import start_gateway, stop

    proc = start_gateway(emulator, tmp_path, GATEWAY_MODELS_CACHE_TTL="0")
    try:
        emulator.reset()
        with proc.client() as sdk:
            ids = {m.id for m in sdk.models.list()}
        pages = emulator.requests("/models")
        assert len(pages) >= 3
        assert all("compartmentId" in r["query"] for r in pages)
        assert "page=" in pages[-1]["query"]
        assert {"xai.grok-4", "cohere.embed-v4.0", "meta.llama-3.3-70b-instruct", "fast"} <= ids
    finally:
        stop(proc.process)


def test_an_api_key_profile_lists_models_and_chats(
    tmp_path: Any, emulator: Emulator, api_key_config: dict[str, str]
) -> None:
    """GATEWAY_AUTH=config_file with an API-key profile, as a developer runs it against a tenancy."""
    from tests.fixtures.gateway import start_gateway, stop

    profile = "[DEV]\n" + "".join(f"{name}={value}\n" for name, value in api_key_config.items())
    (tmp_path / "oci-config").write_text(profile)
    env = {"GATEWAY_AUTH": "config_file", "GATEWAY_OCI_CONFIG_FILE": str(tmp_path / "oci-config")}
    proc = start_gateway(emulator, tmp_path, GATEWAY_OCI_PROFILE="DEV", **env)
    try:
        emulator.reset()
        with proc.client() as sdk:
            assert "xai.grok-4" in {m.id for m in sdk.models.list()}
            reply = sdk.chat.completions.create(
                model="xai.grok-4", messages=[{"role": "user", "content": "hi"}]
            )
        assert reply.choices[0].message.content
        principals = {r["principal"]["kind"] for r in emulator.requests()}
        assert principals == {"api_key"}, "every OCI call was signed with the profile's API key"
    finally:
        stop(proc.process)
