"""The authorizer function under the real fdk server, called as API Gateway calls it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from oci_genai_gateway.core.access.policy import client_token
from tests.fixtures.fdk_server import FdkServer, start_fdk
from tests.paths import FUNCTIONS_DIR

FUNC = FUNCTIONS_DIR / "authorizer" / "func.py"
KEY_A = "sk-functional-a-0123456789"
KEY_B = "sk-functional-b-9876543210"


def call(server: FdkServer, header: str | None) -> tuple[int, dict[str, object]]:
    data = {} if header is None else {"authorization": header}
    response = server.invoke(json.dumps({"type": "USER_DEFINED", "data": data}))
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


@pytest.fixture(scope="module")
def server() -> Iterator[FdkServer]:
    keys = {"team-a": KEY_A, "team-b": {"key": KEY_B, "models": ["meta.*", "fast"], "monthly_tokens": 5000}}
    env = {"GATEWAY_API_KEYS": json.dumps(keys), "GATEWAY_AUTH_CACHE_SECONDS": "120"}
    with start_fdk(FUNC, "handler", env) as running:
        yield running


def test_valid_key_is_granted(server: FdkServer) -> None:
    before = datetime.now(UTC)
    status, body = call(server, f"Bearer {KEY_B}")
    assert status == 200
    assert body["active"] is True
    # The key's name and limits, every value a string (API Gateway reads them as request.auth[...]).
    context = {
        "key_name": "team-b",
        "client_id": client_token("static", "team-b"),
        "models": "meta.*,fast",
        "regions": "*",
        "monthly_tokens": "5000",
        "rate_limit": "none",
        "quota": "none",
        "guardrails": "none",
    }
    assert (body["principal"], body["scope"], body["context"]) == ("team-b", ["openai"], context)
    expires = datetime.fromisoformat(str(body["expiresAt"]))
    # Loose on purpose: this checks that GATEWAY_AUTH_CACHE_SECONDS=120 applied (default is 300).
    assert timedelta(seconds=60) < expires - before < timedelta(seconds=180)


def test_both_rotation_keys_are_granted(server: FdkServer) -> None:
    assert call(server, f"Bearer {KEY_A}")[1]["principal"] == "team-a"
    assert call(server, f"Bearer {KEY_B}")[1]["principal"] == "team-b"


@pytest.mark.parametrize(
    ("header", "error_code"),
    [(None, False), (f"Basic {KEY_A}", False), ("Bearer sk-not-a-known-key-000000", True), ("Bearer ", True)],
)
def test_invalid_or_missing_is_refused_with_200(
    server: FdkServer, header: str | None, error_code: bool
) -> None:
    status, body = call(server, header)
    assert status == 200
    assert body["active"] is False
    challenge = str(body["wwwAuthenticate"])
    assert challenge.startswith('Bearer realm="oci-genai-gateway"')
    assert ('error="invalid_token"' in challenge) is error_code


def test_a_body_it_cannot_read_is_502_without_exception_text(server: FdkServer) -> None:
    response = server.invoke(b"{not json")
    assert response.status_code == 502
    assert response.json() == {"error": "authorizer_unavailable"}


def test_keys_never_reach_the_function_log(server: FdkServer) -> None:
    call(server, f"Bearer {KEY_A}")
    call(server, f"Bearer {KEY_A}-wrong")
    logs = server.logs()
    assert "auth_granted" in logs
    assert "auth_refused" in logs
    assert KEY_A not in logs
    assert KEY_B not in logs


def test_vault_unreachable_is_502_and_never_active() -> None:
    # A secret OCID but no resource principal in the environment: the keys cannot be read.
    env = {"GATEWAY_API_KEYS_SECRET_ID": "ocid1.vaultsecret.oc1.iad.example"}
    with start_fdk(FUNC, "handler", env) as running:
        response = running.invoke(
            json.dumps({"type": "USER_DEFINED", "data": {"authorization": f"Bearer {KEY_A}"}})
        )
        assert response.status_code == 502
        assert "active" not in response.json()
        assert "keys_error" in running.logs()


def test_missing_configuration_is_502() -> None:
    with start_fdk(FUNC, "handler", {}) as running:
        response = running.invoke(
            json.dumps({"type": "USER_DEFINED", "data": {"authorization": f"Bearer {KEY_A}"}})
        )
        assert response.status_code == 502
        assert "GATEWAY_API_KEYS" in running.logs()
