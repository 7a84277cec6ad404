"""The oci SDK's own GenerativeAiInferenceClient against the emulator's applyGuardrails and
listGuardrailVersions: the SDK's models in, the SDK's models out, OCI's 400 for what they refuse."""

from __future__ import annotations

from typing import Any

import oci
import pytest
from oci.generative_ai_inference import models as m

from oci_genai_emulator.guardrails import BLOCKLIST_WORD, INJECTION_MARKER, OVERALL_WORD
from tests.fixtures.emulator import COMPARTMENT, Emulator, inference_client

ALL = m.GuardrailConfigs(
    content_moderation_config=m.ContentModerationConfiguration(categories=["OVERALL", "BLOCKLIST"]),
    personally_identifiable_information_config=m.PersonallyIdentifiableInformationConfiguration(
        types=["EMAIL", "TELEPHONE_NUMBER"]
    ),
    prompt_injection_config=m.PromptInjectionConfiguration(),
)


@pytest.fixture
def client(emu: Emulator, rp_signer: Any) -> Any:
    return inference_client(emu, rp_signer)


def apply(client: Any, text: str, **details: Any) -> Any:
    body = m.ApplyGuardrailsDetails(
        input=m.GuardrailsTextInput(content=text),
        guardrail_configs=ALL,
        compartment_id=COMPARTMENT,
        **details,
    )
    return client.apply_guardrails(body).data


def test_detections_come_back_as_the_sdks_result_models(client: Any) -> None:
    text = f"Mail a@b.io or call +44 20 7946 0958; {INJECTION_MARKER}; {BLOCKLIST_WORD}"
    result = apply(client, text)
    assert isinstance(result, m.ApplyGuardrailsResult)
    scores = {c.name: c.score for c in result.results.content_moderation.categories}
    assert scores == {"OVERALL": 0.0, "BLOCKLIST": 1.0}
    spans = result.results.personally_identifiable_information
    assert [(s.label, text[s.offset : s.offset + s.length]) for s in spans] == [
        ("EMAIL", "a@b.io"),
        ("TELEPHONE_NUMBER", "+44 20 7946 0958"),
    ]
    assert result.results.prompt_injection.score == 1.0
    assert result.guardrail_version.version == "1.1.0"
    clean = apply(client, "A calm sentence.")
    assert {c.score for c in clean.results.content_moderation.categories} == {0.0}
    assert clean.results.personally_identifiable_information == []
    assert clean.results.prompt_injection.score == 0.0
    assert apply(client, f"so {OVERALL_WORD}").results.content_moderation.categories[0].score == 1.0


def test_a_version_is_pinned_and_listed(client: Any) -> None:
    pinned = apply(client, "x", guardrail_version_config=m.GuardrailVersionConfig(guardrail_version="1.0.0"))
    assert pinned.guardrail_version.version == "1.0.0"
    listed = client.list_guardrail_versions(COMPARTMENT).data
    assert [(v.guardrail_version, v.state) for v in listed.items] == [
        ("1.0.0", "DEPRECATED"),
        ("1.1.0", "ACTIVE"),
    ]
    active = client.list_guardrail_versions(COMPARTMENT, state="ACTIVE").data
    assert [v.guardrail_version for v in active.items] == ["1.1.0"]
    with pytest.raises(oci.exceptions.ServiceError) as missing:
        apply(client, "x", guardrail_version_config=m.GuardrailVersionConfig(guardrail_version="9.9.9"))
    assert missing.value.status == 404


def test_multimodal_input_scores_text_and_accepts_images(client: Any) -> None:
    body = m.ApplyGuardrailsDetails(
        multimodal_input=[
            m.GuardrailsTextInput(content=BLOCKLIST_WORD),
            m.GuardrailsImageInput(image_url=m.GuardrailsImageUrl(url="https://example.com/cat.png")),
        ],
        guardrail_configs=ALL,
        compartment_id=COMPARTMENT,
    )
    result = client.apply_guardrails(body).data
    assert {c.name: c.score for c in result.results.content_moderation.categories}["BLOCKLIST"] == 1.0


@pytest.mark.parametrize(
    "configs",
    [
        {"contentModerationConfig": {"categories": ["VIOLENCE"]}},
        {"personallyIdentifiableInformationConfig": {"types": ["SSN"]}},
        {"unknownConfig": {}},
    ],
)
def test_what_the_sdks_models_refuse_is_ocis_400(client: Any, configs: dict[str, Any]) -> None:
    body = {
        "input": {"type": "TEXT", "content": "x"},
        "guardrailConfigs": configs,
        "compartmentId": COMPARTMENT,
    }
    with pytest.raises(oci.exceptions.ServiceError) as refused:
        client.base_client.call_api(
            resource_path="/actions/applyGuardrails",
            method="POST",
            header_params={"content-type": "application/json"},
            body=body,
        )
    assert refused.value.status == 400


def test_no_input_at_all_is_ocis_400(client: Any) -> None:
    with pytest.raises(oci.exceptions.ServiceError) as refused:
        client.apply_guardrails(m.ApplyGuardrailsDetails(guardrail_configs=ALL, compartment_id=COMPARTMENT))
    assert refused.value.status == 400
