"""Bearer keys through the local gateway: the real authorizer function, its cache, rotation and failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import httpx
import openai
import pytest

from oci_genai_devstack.localgw import FunctionTarget
from oci_genai_devstack.localgw.functions import FunctionProcess, start_function
from tests.fixtures.gateway import KEY, ROTATED_KEY
from tests.fixtures.localgw import GatewayFactory, LocalGw, ManualClock
from tests.paths import FUNCTIONS_DIR

OPENAI_401 = {
    "error": {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
CHALLENGE = 'Bearer realm="oci-genai-gateway"'

AuthorizerFactory = Callable[..., FunctionProcess]


@pytest.fixture
def authorizer() -> Iterator[AuthorizerFactory]:
    """Start extra authorizer functions (own key config); each is stopped after the test."""
    started: list[FunctionProcess] = []

    def start(keys: str, cache_seconds: int = 60) -> FunctionProcess:
        env = {"GATEWAY_API_KEYS": keys, "GATEWAY_AUTH_CACHE_SECONDS": str(cache_seconds)}
        function = start_function("authorizer", env, FUNCTIONS_DIR / "authorizer")
        started.append(function)
        function.wait_listening()
        return function

    try:
        yield start
    finally:
        for function in started:
            function.stop()


def models_status(url: str, key: str | None) -> int:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{url}/v1/models", headers=headers, timeout=30).status_code


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": f"Basic {KEY}"}, {"Authorization": "Bearer sk-not-a-known-key-00000"}],
    ids=["missing", "wrong-scheme", "unknown-key"],
)
def test_refused_keys_get_openais_401_body_and_a_bearer_challenge(
    localgw: LocalGw, headers: dict[str, str]
) -> None:
    before = localgw.gateway.invocations["models"]
    response = httpx.get(f"{localgw.url}/v1/models", headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.json() == OPENAI_401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.headers["content-type"] == "application/json"
    assert localgw.gateway.invocations["models"] == before  # the function never saw it


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/assistants"), ("GET", "/v1/chat/completions"), ("DELETE", "/v1/models")],
)
def test_unrouted_paths_and_methods_authenticate_first_like_the_asgi_server(
    localgw: LocalGw, method: str, path: str
) -> None:
    # The catch-alls require the key: without one a client learns nothing about the routes.
    response = httpx.request(method, f"{localgw.url}{path}", timeout=30)
    assert (response.status_code, response.json()) == (401, OPENAI_401)
    assert response.headers["www-authenticate"] == CHALLENGE


def test_the_sdk_sees_an_authentication_error(localgw: LocalGw) -> None:
    with (
        localgw.client(key="sk-not-a-known-key-00000") as client,
        pytest.raises(openai.AuthenticationError) as err,
    ):
        client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "hi"}])
    assert err.value.status_code == 401
    assert err.value.code == "invalid_api_key"


def test_both_keys_of_a_rotation_are_valid_at_once(localgw: LocalGw) -> None:
    for key in (KEY, ROTATED_KEY):
        with localgw.client(key=key) as client:
            assert client.models.retrieve("fast").id == "fast"


def test_grants_are_cached_per_key_and_refusals_are_not(extra_gateway: GatewayFactory) -> None:
    server = extra_gateway()
    authenticator = server.app.authenticator
    assert authenticator is not None
    for _ in range(3):
        assert models_status(server.url, KEY) == 200
    assert authenticator.calls == 1
    assert models_status(server.url, ROTATED_KEY) == 200
    assert authenticator.calls == 2
    for _ in range(2):
        assert models_status(server.url, "sk-not-a-known-key-00000") == 401
    assert authenticator.calls == 4
    # No Authorization header: the argument is missing, so OCI does not call the authorizer at all.
    assert models_status(server.url, None) == 401
    assert authenticator.calls == 4


def test_a_removed_key_works_until_its_grant_expires_then_is_refused(
    extra_gateway: GatewayFactory, authorizer: AuthorizerFactory
) -> None:
    clock = ManualClock()
    before_grant = time.time()
    old = authorizer(f"primary:{KEY},rotated:{ROTATED_KEY}", cache_seconds=60)
    server = extra_gateway(functions={"authorizer": old.target}, clock=clock)
    assert models_status(server.url, KEY) == 200
    assert models_status(server.url, ROTATED_KEY) == 200

    # Rotate: the authorizer is redeployed with the primary key removed from its configuration.
    new = authorizer(f"rotated:{ROTATED_KEY}", cache_seconds=60)
    server.app.bind("authorizer", new.target)
    old.stop()
    clock.now = before_grant + 58  # expiresAt is at least grant time + 60 s, truncated to seconds
    assert models_status(server.url, KEY) == 200, "the grant is cached until its expiresAt"
    assert models_status(server.url, "sk-never-seen-key-0000000") == 401

    clock.now = time.time() + 61  # past every expiresAt the old authorizer could have given
    assert models_status(server.url, KEY) == 401
    assert models_status(server.url, ROTATED_KEY) == 200


@pytest.mark.parametrize("broken", ["unreachable", "misconfigured"])
def test_an_authorizer_that_cannot_decide_is_a_502_never_a_pass(
    extra_gateway: GatewayFactory, authorizer: AuthorizerFactory, tmp_path: object, broken: str
) -> None:
    if broken == "unreachable":
        target = FunctionTarget(f"{tmp_path}/no-authorizer.sock")
    else:
        # Keys shorter than 16 characters: the authorizer refuses to start deciding and answers 502.
        target = authorizer("primary:short").target
    server = extra_gateway(functions={"authorizer": target})
    response = httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    assert (response.status_code, response.json()) == (502, {"code": 502, "message": "Bad Gateway"})
    assert server.app.invocations["models"] == 0


def test_keys_stay_out_of_the_gateway_log(localgw: LocalGw, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="oci_genai_devstack.localgw"):
        models_status(localgw.url, KEY)
        models_status(localgw.url, "sk-wrong-key-for-log-test-0")
    assert "localgw_request" in {getattr(r, "event", None) for r in caplog.records}
    assert KEY not in caplog.text
    assert "sk-wrong-key-for-log-test-0" not in caplog.text
