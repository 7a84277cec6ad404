"""The authorizer's rules: grants, refusals, key rotation, Vault caching and failure, no leaks."""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import oci
import pytest

from oci_genai_gateway import authorizer as authz
from oci_genai_gateway.authorizer import (
    CHALLENGE,
    INVALID_TOKEN_CHALLENGE,
    Authorizer,
    AuthorizerSettings,
    CannotDecide,
    StaticKeys,
    VaultKeys,
    respond,
)
from oci_genai_gateway.core.access.keys import validate_keys
from oci_genai_gateway.core.access.policy import client_token, parse_entries
from oci_genai_gateway.core.errors import ConfigError

KEY_A = "sk-team-a-0123456789abcdef"
KEY_B = "sk-team-b-fedcba9876543210"
SECRET_ID = "ocid1.vaultsecret.oc1.iad.example"
T0 = 1_800_000_000.0


class Clock:
    """A settable clock (epoch seconds)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def event(header: str | None) -> dict[str, Any]:
    data = {} if header is None else {"authorization": header}
    return {"type": "USER_DEFINED", "data": data}


def static(keys: dict[str, str] | None = None, *, grant: int = 300) -> Authorizer:
    keys = keys or {"team-a": KEY_A, "team-b": KEY_B}
    return Authorizer(StaticKeys(keys), grant_seconds=grant, clock=Clock())


def bundle(content: object, *, encode: bool = True, content_type: str = "BASE64") -> oci.response.Response:
    """A real SDK response as SecretsClient.get_secret_bundle returns it."""
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    details = oci.secrets.models.Base64SecretBundleContentDetails(
        content_type=content_type, content=base64.b64encode(raw).decode() if encode else raw.decode()
    )
    data = oci.secrets.models.SecretBundle(secret_id=SECRET_ID, secret_bundle_content=details)
    return oci.response.Response(200, {}, data, None)


@pytest.fixture
def secrets(mocker: Any) -> Any:
    return mocker.create_autospec(oci.secrets.SecretsClient, instance=True)


def vault(secrets: Any, clock: Clock, *, refresh: float = 60, stale: float = 300) -> Authorizer:
    source = VaultKeys(SECRET_ID, lambda: secrets, refresh_seconds=refresh, stale_seconds=stale, clock=clock)
    return Authorizer(source, grant_seconds=300, clock=clock)


# --- grants and refusals -------------------------------------------------------------------------


def test_valid_key_is_granted_with_its_name_and_a_bounded_expiry() -> None:
    result = static(grant=120).decide(event(f"Bearer {KEY_B}"))
    expires = result.pop("expiresAt")
    assert result == {
        "active": True,
        "principal": "team-b",
        "scope": ["openai"],
        "context": {
            "key_name": "team-b",
            "client_id": client_token("static", "team-b"),
            "models": "*",
            "regions": "*",
            "monthly_tokens": "none",
            "rate_limit": "none",
            "quota": "none",
            "guardrails": "none",
        },
    }
    assert datetime.fromisoformat(expires) == datetime.fromtimestamp(T0 + 120, UTC)


def test_bearer_scheme_is_case_insensitive_and_whitespace_tolerant() -> None:
    assert static().decide(event(f"  bearer   {KEY_A} "))["principal"] == "team-a"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_is_refused_without_an_error_code(header: str | None) -> None:
    assert static().decide(event(header)) == {"active": False, "wwwAuthenticate": CHALLENGE}


def test_data_without_the_argument_is_refused() -> None:
    assert static().decide({"type": "USER_DEFINED"})["active"] is False


@pytest.mark.parametrize("header", [f"Basic {KEY_A}", f"Token {KEY_A}", KEY_A])
def test_wrong_scheme_is_refused_even_with_a_valid_key(header: str) -> None:
    assert static().decide(event(header)) == {"active": False, "wwwAuthenticate": CHALLENGE}


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer   ", f"Bearer {KEY_A} extra", "Bearer sk-\u00e9t\u00e9"]
)
def test_empty_or_malformed_token_is_refused_as_invalid(header: str) -> None:
    assert static().decide(event(header)) == {"active": False, "wwwAuthenticate": INVALID_TOKEN_CHALLENGE}


@pytest.mark.parametrize("token", ["sk-unknown-key-0000000000", KEY_A[:-1], KEY_A + "x", KEY_A.upper()])
def test_unknown_key_is_refused_as_invalid(token: str) -> None:
    assert static().decide(event(f"Bearer {token}")) == {
        "active": False,
        "wwwAuthenticate": INVALID_TOKEN_CHALLENGE,
    }


def test_the_x_api_key_header_carries_the_same_keys() -> None:
    granted = static().decide({"type": "USER_DEFINED", "data": {"x-api-key": f" {KEY_A} "}})
    assert granted["principal"] == "team-a"
    unknown = static().decide({"type": "USER_DEFINED", "data": {"x-api-key": "sk-unknown-key-0000000000"}})
    assert unknown == {"active": False, "wwwAuthenticate": INVALID_TOKEN_CHALLENGE}
    malformed = static().decide({"type": "USER_DEFINED", "data": {"x-api-key": "sk-\u00e9t\u00e9"}})
    assert malformed == {"active": False, "wwwAuthenticate": INVALID_TOKEN_CHALLENGE}


def test_an_authorization_header_when_sent_is_the_one_that_counts() -> None:
    wrong_bearer = {"authorization": "Bearer sk-unknown-key-0000000000", "x-api-key": KEY_A}
    assert static().decide({"type": "USER_DEFINED", "data": wrong_bearer})["active"] is False
    empty_bearer = {"authorization": "", "x-api-key": KEY_B}
    assert static().decide({"type": "USER_DEFINED", "data": empty_bearer})["principal"] == "team-b"


@pytest.mark.parametrize(
    "call", [{"type": "TOKEN", "token": KEY_A}, {"data": {"authorization": f"Bearer {KEY_A}"}}, [], "x", None]
)
def test_a_call_that_is_not_multi_argument_cannot_be_decided(call: object) -> None:
    with pytest.raises(CannotDecide):
        static().decide(call)


def test_every_key_is_compared_even_after_a_match(mocker: Any) -> None:
    spy = mocker.spy(hmac, "compare_digest")
    static({"team-a": KEY_A, "team-b": KEY_B, "team-c": "sk-team-c-000000000000000"}).decide(
        event(f"Bearer {KEY_A}")
    )
    assert spy.call_count == 3
    assert {len(call.args[0]) for call in spy.call_args_list} == {32}  # hashed: fixed length


def test_two_keys_are_valid_at_once_for_rotation() -> None:
    auth = static()
    assert auth.decide(event(f"Bearer {KEY_A}"))["principal"] == "team-a"
    assert auth.decide(event(f"Bearer {KEY_B}"))["principal"] == "team-b"


def test_a_policy_keys_grant_carries_its_limits_and_a_client_token_from_the_secret(secrets: Any) -> None:
    policy = {"key": KEY_B, "models": ["meta.*"], "rps": 5, "quota": {"requests": 9, "per": "hour"}}
    secrets.get_secret_bundle.return_value = bundle({"keys": {"team-a": KEY_A, "team-b": policy}})
    settings = AuthorizerSettings(secret_id=SECRET_ID)
    auth = Authorizer.from_settings(settings, secrets_client_factory=lambda: secrets, clock=Clock())
    grant = auth.decide(event(f"Bearer {KEY_B}"))
    assert grant["context"] == {
        "key_name": "team-b",
        "client_id": client_token(SECRET_ID, "team-b"),
        "models": "meta.*",
        "regions": "*",
        "monthly_tokens": "none",
        "rate_limit": "5",
        "quota": "9/hour",
        "guardrails": "none",
    }


def test_a_rotated_out_key_is_granted_as_its_team_until_its_grace_period_ends() -> None:
    until = datetime.fromtimestamp(T0 + 200, UTC).isoformat()
    keys = parse_entries({"team-b": {"key": KEY_B, "previous": [{"key": KEY_A, "until": until}]}}, "test")
    clock = Clock()
    auth = Authorizer(StaticKeys(keys), grant_seconds=300, clock=clock)
    grant = auth.decide(event(f"Bearer {KEY_A}"))
    assert (grant["principal"], grant["context"]["key_name"]) == ("team-b", "team-b")
    # API Gateway must not cache the grant past the grace period.
    assert datetime.fromisoformat(grant["expiresAt"]) == datetime.fromtimestamp(T0 + 200, UTC)
    clock.now = T0 + 200
    assert auth.decide(event(f"Bearer {KEY_A}")) == {
        "active": False,
        "wwwAuthenticate": INVALID_TOKEN_CHALLENGE,
    }
    assert auth.decide(event(f"Bearer {KEY_B}"))["active"] is True


# --- Vault source --------------------------------------------------------------------------------


def test_vault_keys_are_read_with_the_secret_id_and_cached(secrets: Any) -> None:
    clock = Clock()
    secrets.get_secret_bundle.return_value = bundle({"keys": {"team-a": KEY_A}})
    auth = vault(secrets, clock, refresh=60)
    for _ in range(3):
        assert auth.decide(event(f"Bearer {KEY_A}"))["active"] is True
        clock.now += 20
    secrets.get_secret_bundle.assert_called_once_with(SECRET_ID)


def test_a_key_removed_from_vault_is_refused_after_the_refresh_interval(secrets: Any) -> None:
    clock = Clock()
    secrets.get_secret_bundle.side_effect = [
        bundle({"keys": {"old": KEY_A, "new": KEY_B}}),
        bundle({"keys": {"new": KEY_B}}),
    ]
    auth = vault(secrets, clock, refresh=60)
    assert auth.decide(event(f"Bearer {KEY_A}"))["principal"] == "old"
    assert auth.decide(event(f"Bearer {KEY_B}"))["principal"] == "new"
    clock.now += 59
    assert auth.decide(event(f"Bearer {KEY_A}"))["active"] is True
    clock.now += 2
    assert auth.decide(event(f"Bearer {KEY_A}"))["active"] is False
    assert auth.decide(event(f"Bearer {KEY_B}"))["principal"] == "new"


def test_vault_unreachable_cannot_decide_and_never_grants(secrets: Any) -> None:
    secrets.get_secret_bundle.side_effect = oci.exceptions.ServiceError(503, "Unavailable", {}, "down")
    auth = vault(secrets, Clock())
    with pytest.raises(CannotDecide):
        auth.decide(event(f"Bearer {KEY_A}"))
    status, body = respond(lambda: auth, json.dumps(event(f"Bearer {KEY_A}")).encode())
    assert status == 502
    assert "active" not in json.loads(body)


def test_client_construction_failure_cannot_decide_and_is_retried() -> None:
    calls = 0

    def factory() -> Any:
        nonlocal calls
        calls += 1
        raise OSError("OCI_RESOURCE_PRINCIPAL_VERSION is not set")

    source = VaultKeys(SECRET_ID, factory, refresh_seconds=60, stale_seconds=0, clock=Clock())
    for _ in range(2):
        with pytest.raises(CannotDecide):
            source.current()
    assert calls == 2


def test_missing_header_is_refused_without_reading_vault(secrets: Any) -> None:
    secrets.get_secret_bundle.side_effect = oci.exceptions.ServiceError(503, "Unavailable", {}, "down")
    assert vault(secrets, Clock()).decide(event(None))["active"] is False
    secrets.get_secret_bundle.assert_not_called()


def test_stale_keys_are_served_for_a_bounded_time_when_refresh_fails(secrets: Any) -> None:
    clock = Clock()
    failure = oci.exceptions.ServiceError(500, "InternalServerError", {}, "boom")
    secrets.get_secret_bundle.side_effect = [bundle({"keys": {"team-a": KEY_A}}), failure, failure]
    auth = vault(secrets, clock, refresh=60, stale=100)
    assert auth.decide(event(f"Bearer {KEY_A}"))["active"] is True
    clock.now += 159
    assert auth.decide(event(f"Bearer {KEY_A}"))["active"] is True
    clock.now += 2
    with pytest.raises(CannotDecide):
        auth.decide(event(f"Bearer {KEY_A}"))


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(lambda: bundle(b"{not json"), id="not-json"),
        pytest.param(lambda: bundle(b"%%%", encode=False), id="not-base64"),
        pytest.param(lambda: bundle({"team-a": KEY_A}), id="no-keys-object"),
        pytest.param(lambda: bundle({"keys": {}}), id="empty-keys"),
        pytest.param(lambda: bundle({"keys": ["sk"]}), id="keys-not-object"),
        pytest.param(lambda: bundle({"keys": {"team-a": "short"}}), id="short-key"),
        pytest.param(lambda: bundle({"keys": {"a": KEY_A, "b": KEY_A}}), id="duplicate-key"),
        pytest.param(lambda: bundle({"keys": {"team a": KEY_A}}), id="bad-name"),
        pytest.param(lambda: bundle({"keys": {"a": KEY_A}}, content_type="TEXT"), id="not-base64-type"),
    ],
)
def test_malformed_secret_cannot_decide(secrets: Any, response: Callable[[], Any]) -> None:
    secrets.get_secret_bundle.return_value = response()
    with pytest.raises(CannotDecide):
        vault(secrets, Clock()).decide(event(f"Bearer {KEY_A}"))


def test_resource_principal_client_has_no_retries_and_short_timeouts(mocker: Any) -> None:
    signer = object()
    mocker.patch.object(oci.auth.signers, "get_resource_principals_signer", return_value=signer)
    client_cls = mocker.patch.object(oci.secrets, "SecretsClient", autospec=True)
    authz.resource_principal_secrets_client()
    kwargs = client_cls.call_args.kwargs
    assert kwargs["signer"] is signer
    assert kwargs["config"] == {}
    assert isinstance(kwargs["retry_strategy"], oci.retry.NoneRetryStrategy)
    assert sum(kwargs["timeout"]) < 10  # inside the function's timeout


# --- settings ------------------------------------------------------------------------------------


def test_settings_defaults_with_function_config_keys() -> None:
    settings = AuthorizerSettings.from_env({"GATEWAY_API_KEYS": f"team-a:{KEY_A},team-b:{KEY_B}"})
    assert settings.secret_id is None
    assert dict(settings.static_keys) == {"team-a": KEY_A, "team-b": KEY_B}
    assert (settings.grant_seconds, settings.refresh_seconds, settings.stale_seconds) == (300, 60, 300)
    assert KEY_A not in repr(settings)


def test_settings_accept_a_json_key_object_and_a_vault_secret() -> None:
    assert AuthorizerSettings.from_env({"GATEWAY_API_KEYS": json.dumps({"a": KEY_A})}).static_keys == {
        "a": KEY_A
    }
    settings = AuthorizerSettings.from_env(
        {"GATEWAY_API_KEYS_SECRET_ID": SECRET_ID, "GATEWAY_AUTH_CACHE_SECONDS": "3600"}
    )
    assert (settings.secret_id, settings.grant_seconds) == (SECRET_ID, 3600)
    assert isinstance(Authorizer.from_settings(settings)._keys, VaultKeys)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "GATEWAY_API_KEYS_SECRET_ID"),
        ({"GATEWAY_API_KEYS_SECRET_ID": SECRET_ID, "GATEWAY_API_KEYS": f"a:{KEY_A}"}, "not both"),
        ({"GATEWAY_API_KEYS_SECRET_ID": "ocid1.key.oc1..x"}, "GATEWAY_API_KEYS_SECRET_ID"),
        (
            {"GATEWAY_API_KEYS": f"a:{KEY_A}", "GATEWAY_AUTH_CACHE_SECONDS": "59"},
            "GATEWAY_AUTH_CACHE_SECONDS",
        ),
        (
            {"GATEWAY_API_KEYS": f"a:{KEY_A}", "GATEWAY_AUTH_CACHE_SECONDS": "3601"},
            "GATEWAY_AUTH_CACHE_SECONDS",
        ),
        ({"GATEWAY_API_KEYS": f"a:{KEY_A}", "GATEWAY_KEYS_REFRESH_SECONDS": "0"}, "GATEWAY_KEYS_REFRESH"),
        ({"GATEWAY_API_KEYS": f"a:{KEY_A}", "GATEWAY_KEYS_STALE_SECONDS": "x"}, "GATEWAY_KEYS_STALE"),
        ({"GATEWAY_API_KEYS": "a:short"}, "at least 16"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        AuthorizerSettings.from_env(env)


@pytest.mark.parametrize("key", [KEY_A + "\n", "sk key with spaces 0000", "sk-\u00e9" * 8])
def test_keys_that_no_bearer_header_could_carry_are_rejected(key: str) -> None:
    with pytest.raises(ConfigError, match="entry #1"):
        validate_keys({"a": key}, "GATEWAY_API_KEYS")


def test_key_errors_never_quote_the_key_even_when_name_and_key_are_swapped() -> None:
    with pytest.raises(ConfigError) as info:
        validate_keys({KEY_A: "team-a"}, "GATEWAY_API_KEYS")
    assert KEY_A not in str(info.value)
    assert "entry #1" in str(info.value)


# --- respond (what the fdk handler returns) ------------------------------------------------------


def test_respond_grants_and_refuses_with_200() -> None:
    auth = static()
    status, body = respond(lambda: auth, json.dumps(event(f"Bearer {KEY_A}")).encode())
    assert (status, json.loads(body)["active"]) == (200, True)
    status, body = respond(lambda: auth, json.dumps(event("Bearer nope-nope-nope")).encode())
    assert (status, json.loads(body)["active"]) == (200, False)


@pytest.mark.parametrize("body", [b"", b"{", b'{"type": "TOKEN"}'])
def test_respond_answers_502_to_a_call_it_cannot_read(body: bytes) -> None:
    assert respond(static, body) == (502, authz.UNAVAILABLE_BODY)


def test_respond_answers_502_on_bad_configuration() -> None:
    def broken() -> Authorizer:
        raise ConfigError("no API keys: set GATEWAY_API_KEYS_SECRET_ID or GATEWAY_API_KEYS")

    assert respond(broken, json.dumps(event(f"Bearer {KEY_A}")).encode()) == (502, authz.UNAVAILABLE_BODY)


def test_unexpected_errors_become_502_without_their_text(caplog: pytest.LogCaptureFixture) -> None:
    class Exploding:
        def decide(self, event: object) -> dict[str, Any]:
            raise RuntimeError(f"internal detail {KEY_A}")

    caplog.set_level(logging.DEBUG)
    status, body = respond(lambda: Exploding(), b"{}")  # type: ignore[arg-type, return-value]
    assert (status, body) == (502, authz.UNAVAILABLE_BODY)
    assert "RuntimeError" in caplog.text
    assert KEY_A not in caplog.text


def test_keys_never_appear_in_outputs_or_logs(secrets: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outputs = []
    auth = static()
    for header in [f"Bearer {KEY_A}", f"Bearer {KEY_A}x", f"Basic {KEY_A}", f"Bearer {KEY_A} {KEY_B}"]:
        outputs.append(respond(lambda: auth, json.dumps(event(header)).encode())[1])
    clock = Clock()
    secrets.get_secret_bundle.side_effect = [
        bundle({"keys": {"a": KEY_A, "b": KEY_A}}),  # duplicate: a config error that must not quote it
        bundle(json.dumps({"keys": {"a": KEY_A}}).encode()[:-3]),  # truncated JSON
        oci.exceptions.ServiceError(404, "NotAuthorizedOrNotFound", {}, f"no secret {KEY_B}"),
    ]
    auth_v = vault(secrets, clock, refresh=1, stale=0)
    for _ in range(3):
        outputs.append(respond(lambda: auth_v, json.dumps(event(f"Bearer {KEY_A}")).encode())[1])
        clock.now += 5
    text = "\n".join(outputs) + caplog.text
    events = {getattr(record, "event", None) for record in caplog.records}
    assert {"auth_granted", "auth_refused", "keys_error", "auth_unavailable"} <= events
    for secret in (KEY_A, KEY_B, KEY_A[3:], base64.b64encode(KEY_A.encode()).decode()[:16]):
        assert secret not in text
