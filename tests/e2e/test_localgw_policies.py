"""CORS and rate limiting as the spec configures them, seen over HTTP at the local gateway."""

from __future__ import annotations

import httpx
import openai
import pytest

from oci_genai_devstack.localgw.stack import render_local_spec
from tests.fixtures.gateway import ALLOWED_ORIGIN, KEY
from tests.fixtures.localgw import GatewayFactory, LocalGw, ManualClock

REFUSED_ORIGIN = "http://refused.example"
AUTH = {"Authorization": f"Bearer {KEY}"}


def preflight(url: str, origin: str, method: str = "POST") -> httpx.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,x-stainless-os",
    }
    return httpx.options(f"{url}/v1/chat/completions", headers=headers, timeout=10)


def test_preflight_from_an_allowed_origin_is_answered_by_the_policy(localgw: LocalGw) -> None:
    calls_before = localgw.gateway.authenticator.calls if localgw.gateway.authenticator else 0
    response = preflight(localgw.url, ALLOWED_ORIGIN)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-stainless-os"} <= allowed
    assert response.headers["access-control-max-age"] == "600"
    assert "Origin" in response.headers["vary"]
    # A preflight carries no credentials: it must not reach the authorizer.
    assert (localgw.gateway.authenticator.calls if localgw.gateway.authenticator else 0) == calls_before


def test_preflight_from_a_refused_origin_gets_no_cors_headers(localgw: LocalGw) -> None:
    response = preflight(localgw.url, REFUSED_ORIGIN)
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 405  # no route declares OPTIONS


def test_actual_requests_are_marked_for_allowed_origins_only(localgw: LocalGw) -> None:
    allowed = httpx.get(f"{localgw.url}/v1/models", headers={**AUTH, "Origin": ALLOWED_ORIGIN}, timeout=30)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    exposed = {h.strip().lower() for h in allowed.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "opc-request-id", "retry-after"} <= exposed
    refused = httpx.get(f"{localgw.url}/v1/models", headers={**AUTH, "Origin": REFUSED_ORIGIN}, timeout=30)
    # The server answers; it is the browser that withholds the body from a refused origin.
    assert refused.status_code == 200
    assert "access-control-allow-origin" not in refused.headers


def test_errors_are_readable_by_an_allowed_origin(localgw: LocalGw) -> None:
    response = httpx.get(f"{localgw.url}/v1/models", headers={"Origin": ALLOWED_ORIGIN}, timeout=30)
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_no_origins_configured_means_no_cors_at_all(extra_gateway: GatewayFactory) -> None:
    server = extra_gateway(render_local_spec())  # the default: CORS_ALLOWED_ORIGINS = []
    assert server.app.deployment.cors is None
    response = preflight(server.url, ALLOWED_ORIGIN)
    assert "access-control-allow-origin" not in response.headers


def test_rate_limit_answers_429_with_retry_after_then_refills(
    localgw: LocalGw, extra_gateway: GatewayFactory
) -> None:
    clock = ManualClock()  # frozen: no refill happens between the requests below
    server = extra_gateway(localgw.spec(rate_limit_rps=2), clock=clock)
    health = f"{server.url}/health/readiness"
    assert [httpx.get(health, timeout=10).status_code for _ in range(2)] == [200, 200]
    limited = httpx.get(health, timeout=10)
    assert limited.status_code == 429
    assert limited.json() == {"code": 429, "message": "Too Many Requests"}
    assert limited.headers["retry-after"] == "1"
    with (
        openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0) as client,
        pytest.raises(openai.RateLimitError),
    ):
        client.models.list()
    clock.advance(0.5)  # half a second refills one of the two tokens
    assert httpx.get(health, timeout=10).status_code == 200
    assert httpx.get(health, timeout=10).status_code == 429


def test_rate_limit_is_per_client_ip(localgw: LocalGw, extra_gateway: GatewayFactory) -> None:
    server = extra_gateway(localgw.spec(rate_limit_rps=1), clock=ManualClock())
    health = f"{server.url}/health/readiness"
    assert httpx.get(health, timeout=10).status_code == 200
    assert httpx.get(health, timeout=10).status_code == 429
    # Another loopback address is another client with its own bucket.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=10) as other:
        assert other.get(health).status_code == 200
        assert other.get(health).status_code == 429
