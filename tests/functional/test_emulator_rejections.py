"""What the emulator refuses, as OCI does: bad signatures (401) and bad requests (400/404)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import oci
import pytest

from oci_genai_emulator import catalog
from oci_genai_emulator.credentials import generate_api_key
from tests.fixtures.emulator import COMPARTMENT, Emulator, sign_request

CHAT = "/20231130/actions/chat"
EMBED = "/20231130/actions/embedText"
MODELS = "/20231130/models"
GENERIC = {
    "compartmentId": COMPARTMENT,
    "servingMode": {"servingType": "ON_DEMAND", "modelId": "meta.llama-3.3-70b-instruct"},
    "chatRequest": {
        "apiFormat": "GENERIC",
        "messages": [{"role": "USER", "content": [{"type": "TEXT", "text": "Hi"}]}],
    },
}
COHERE = {
    "compartmentId": COMPARTMENT,
    "servingMode": {"servingType": "ON_DEMAND", "modelId": "cohere.command-a-03-2025"},
    "chatRequest": {"apiFormat": "COHERE", "message": "Hi"},
}
EMBED_BODY = {
    "compartmentId": COMPARTMENT,
    "servingMode": {"servingType": "ON_DEMAND", "modelId": "cohere.embed-english-v3.0"},
    "inputs": ["hello"],
}


def post(emu: Emulator, signer: Any, path: str, body: Any, *, send: bytes | None = None) -> httpx.Response:
    """Sign `body` as the SDK would and POST it (or, if given, other bytes with the same headers)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = sign_request(signer, "POST", emu.url + path, raw)
    return httpx.post(emu.url + path, content=send if send is not None else raw, headers=headers)


def get(emu: Emulator, signer: Any, path_and_query: str) -> httpx.Response:
    return httpx.get(emu.url + path_and_query, headers=sign_request(signer, "GET", emu.url + path_and_query))


def assert_oci_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    assert response.headers["opc-request-id"]
    return body


def test_a_correctly_signed_request_passes(emu: Emulator, rp_signer: Any) -> None:
    response = post(emu, rp_signer, CHAT, GENERIC)
    assert response.status_code == 200
    assert response.headers["opc-request-id"]
    assert response.headers["content-type"] == "application/json"


def test_unsigned_request_is_401(emu: Emulator) -> None:
    response = httpx.post(emu.url + CHAT, json=GENERIC)
    assert_oci_error(response, 401, "NotAuthenticated")
    assert emu.requests(CHAT)[-1]["status"] == 401


def test_tampered_body_is_401(emu: Emulator, rp_signer: Any) -> None:
    signed = json.dumps(GENERIC).encode()
    tampered = signed.replace(b'"Hi"', b'"Ho"')
    assert len(tampered) == len(signed)
    assert_oci_error(post(emu, rp_signer, CHAT, signed, send=tampered), 401, "NotAuthenticated")


def test_signature_for_another_path_is_401(emu: Emulator, rp_signer: Any) -> None:
    raw = json.dumps(EMBED_BODY).encode()
    headers = sign_request(rp_signer, "POST", emu.url + EMBED, raw)
    assert_oci_error(httpx.post(emu.url + CHAT, content=raw, headers=headers), 401, "NotAuthenticated")


def test_unregistered_api_key_is_401(emu: Emulator, tmp_path: Path) -> None:
    key = generate_api_key(tmp_path)
    signer = oci.signer.Signer(key.tenancy, key.user, key.fingerprint, str(key.private_key_path))
    assert_oci_error(post(emu, signer, CHAT, GENERIC), 401, "NotAuthenticated")


def test_registered_key_id_with_the_wrong_private_key_is_401(
    emu: Emulator, emulator_api_key: Any, tmp_path: Path
) -> None:
    other = generate_api_key(tmp_path)
    key = emulator_api_key
    signer = oci.signer.Signer(key.tenancy, key.user, key.fingerprint, str(other.private_key_path))
    assert_oci_error(post(emu, signer, CHAT, GENERIC), 401, "NotAuthenticated")


def test_expired_session_token_is_401(emu: Emulator, tmp_path: Path) -> None:
    signer = emu.resource_principal_signer(tmp_path / "rp", ttl_seconds=-5)
    assert_oci_error(post(emu, signer, CHAT, GENERIC), 401, "NotAuthenticated")
    assert emu.requests(CHAT)[-1]["auth_error"] == "token_expired"


def test_rotated_resource_principal_files_are_picked_up(emu: Emulator, tmp_path: Path) -> None:
    signer = emu.resource_principal_signer(tmp_path / "rp")
    assert post(emu, signer, CHAT, GENERIC).status_code == 200
    emu.mint_resource_principal(tmp_path / "rp")  # rotate token and session key in place
    signer.refresh_security_token()
    assert post(emu, signer, CHAT, GENERIC).status_code == 200


def mutated(body: dict[str, Any], change: Any) -> dict[str, Any]:
    copied = copy.deepcopy(body)
    change(copied)
    return copied


BAD_REQUESTS = {
    "unknown top-level field": (CHAT, mutated(GENERIC, lambda b: b.update(extra=1)), "extra"),
    "unknown nested field": (
        CHAT,
        mutated(GENERIC, lambda b: b["chatRequest"].update(maxTokenz=5)),
        "maxTokenz",
    ),
    "bad apiFormat": (
        CHAT,
        mutated(GENERIC, lambda b: b["chatRequest"].update(apiFormat="OPENAI")),
        "apiFormat",
    ),
    "bad role": (
        CHAT,
        mutated(GENERIC, lambda b: b["chatRequest"]["messages"][0].update(role="BOT")),
        "role",
    ),
    "bad enum value": (
        CHAT,
        mutated(GENERIC, lambda b: b["chatRequest"].update(reasoningEffort="EXTREME")),
        "reasoningEffort",
    ),
    "bad servingType": (
        CHAT,
        mutated(GENERIC, lambda b: b["servingMode"].update(servingType="SPOT")),
        "servingType",
    ),
    "wrong type": (CHAT, mutated(GENERIC, lambda b: b["chatRequest"].update(maxTokens="many")), "maxTokens"),
    "missing compartmentId": (CHAT, mutated(GENERIC, lambda b: b.pop("compartmentId")), "compartmentId"),
    "missing servingMode": (CHAT, mutated(GENERIC, lambda b: b.pop("servingMode")), "servingMode"),
    "missing cohere message": (CHAT, mutated(COHERE, lambda b: b["chatRequest"].pop("message")), "message"),
    "no messages": (CHAT, mutated(GENERIC, lambda b: b["chatRequest"].update(messages=[])), "messages"),
    "GENERIC to a Cohere model": (
        CHAT,
        mutated(GENERIC, lambda b: b["servingMode"].update(modelId="cohere.command-a-03-2025")),
        "COHERE",
    ),
    "COHERE to a Llama model": (
        CHAT,
        mutated(COHERE, lambda b: b["servingMode"].update(modelId="meta.llama-3.3-70b-instruct")),
        "GENERIC",
    ),
    "retired model": (
        CHAT,
        mutated(GENERIC, lambda b: b["servingMode"].update(modelId="meta.llama-3.1-405b-instruct")),
        "retired",
    ),
    "fine-tuned model on demand": (
        CHAT,
        mutated(GENERIC, lambda b: b["servingMode"].update(modelId=catalog.CUSTOM_MODEL.id)),
        "dedicated",
    ),
    "embedding model on chat": (
        CHAT,
        mutated(GENERIC, lambda b: b["servingMode"].update(modelId="cohere.embed-v4.0")),
        "CHAT",
    ),
    "bad truncate": (EMBED, mutated(EMBED_BODY, lambda b: b.update(truncate="MIDDLE")), "truncate"),
    "97 inputs": (EMBED, mutated(EMBED_BODY, lambda b: b.update(inputs=["x"] * 97)), "96"),
    "no inputs": (EMBED, mutated(EMBED_BODY, lambda b: b.update(inputs=[])), "inputs"),
    "chat model on embedText": (
        EMBED,
        mutated(EMBED_BODY, lambda b: b["servingMode"].update(modelId="xai.grok-4")),
        "TEXT_EMBEDDINGS",
    ),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_request_is_400_invalid_parameter(case: str, emu: Emulator, rp_signer: Any) -> None:
    path, body, mentioned = BAD_REQUESTS[case]
    error = assert_oci_error(post(emu, rp_signer, path, body), 400, "InvalidParameter")
    assert mentioned in error["message"]


def test_malformed_json_is_400(emu: Emulator, rp_signer: Any) -> None:
    assert_oci_error(post(emu, rp_signer, CHAT, b'{"compartmentId": '), 400, "CannotParseRequest")


@pytest.mark.parametrize(
    "serving_mode",
    [
        {"servingType": "ON_DEMAND", "modelId": "meta.llama-0-nano"},
        {"servingType": "ON_DEMAND", "modelId": "ocid1.generativeaimodel.oc1.us-chicago-1.amaaaaaanothere"},
        {
            "servingType": "DEDICATED",
            "endpointId": "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaanothere",
        },
        {"servingType": "DEDICATED", "endpointId": catalog.MODELS[0].id},
    ],
)
def test_unknown_model_or_endpoint_is_404(
    serving_mode: dict[str, str], emu: Emulator, rp_signer: Any
) -> None:
    body = {**GENERIC, "servingMode": serving_mode}
    assert_oci_error(post(emu, rp_signer, CHAT, body), 404, "NotAuthorizedOrNotFound")


def test_model_ocid_works_on_demand(emu: Emulator, rp_signer: Any) -> None:
    model = catalog.by_name("xai.grok-3-mini")
    assert model is not None
    body = {**GENERIC, "servingMode": {"servingType": "ON_DEMAND", "modelId": model.id}}
    assert post(emu, rp_signer, CHAT, body).status_code == 200


def test_list_models_needs_a_compartment(emu: Emulator, rp_signer: Any) -> None:
    assert_oci_error(get(emu, rp_signer, MODELS + "?limit=2"), 400, "InvalidParameter")
    assert_oci_error(get(emu, rp_signer, MODELS + "?compartmentId=c&page=garbage"), 400, "InvalidParameter")
    assert_oci_error(
        get(emu, rp_signer, MODELS + "?compartmentId=c&lifecycleState=GONE"), 400, "InvalidParameter"
    )
    assert_oci_error(get(emu, rp_signer, MODELS + "?compartmentId=c&limit=0"), 400, "InvalidParameter")


def test_unknown_route_is_an_oci_404(emu: Emulator, rp_signer: Any) -> None:
    assert_oci_error(
        post(emu, rp_signer, "/20231130/actions/generateText", GENERIC), 404, "NotAuthorizedOrNotFound"
    )
