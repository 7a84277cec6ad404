"""status: end-to-end checks against a stand-in gateway (httpx.MockTransport), and what they say."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from oci_genai_gateway.deploy.commands.status import run

KEY = "sk-genai-good-key-0000000000"
Handler = Callable[[httpx.Request], httpx.Response]


def gateway(
    *, chat_status: int = 200, models_status: int = 200, anonymous: int = 401, chat_body: object = None
) -> Handler:
    """A gateway that behaves like the deployed one, with one thing broken on demand."""
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        authed = request.headers.get("Authorization") == f"Bearer {KEY}"
        if request.url.path == "/health/readiness":
            return httpx.Response(200, json={"status": "ok"})
        if not authed and request.url.path.startswith("/v1/"):
            return httpx.Response(
                anonymous,
                json={"error": {"code": "invalid_api_key", "message": "Incorrect API key provided."}},
            )
        if request.url.path == "/v1/models":
            if models_status != 200:
                return httpx.Response(
                    models_status, json={"error": {"code": "upstream_error", "message": "OCI said no"}}
                )
            return httpx.Response(
                200, json={"object": "list", "data": [{"id": "cohere.embed-v4.0"}, {"id": "xai.grok-4"}]}
            )
        if request.url.path == "/v1/chat/completions":
            body = json.loads(request.content)
            assert body["model"] == "xai.grok-4"
            assert body["max_tokens"] == 16
            if chat_status != 200:
                return httpx.Response(chat_status, json=chat_body or {"error": {"code": "x", "message": "y"}})
            return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]})
        return httpx.Response(404)

    handle.seen = seen  # type: ignore[attr-defined]
    return handle


def test_a_healthy_gateway_passes_every_check() -> None:
    handler = gateway()
    checks = run("https://gw.example.com/v1", KEY, transport=httpx.MockTransport(handler))
    assert [(c.name, c.ok) for c in checks] == [
        ("health", True),
        ("auth", True),
        ("models", True),
        ("chat", True),
    ]
    assert handler.seen == [  # type: ignore[attr-defined]
        "GET /health/readiness",
        "GET /v1/models",
        "GET /v1/models",
        "POST /v1/chat/completions",
    ]


def test_unreachable_gateway_names_the_likely_causes() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    (check,) = run("https://gw.example.com", KEY, target="compose", transport=httpx.MockTransport(refuse))
    assert not check.ok
    assert "DNS record" in check.detail
    assert "443" in check.detail


def test_open_api_without_a_key_is_a_failure() -> None:
    checks = run("https://gw.example.com", KEY, transport=httpx.MockTransport(gateway(anonymous=200)))
    assert ("auth", False) in [(c.name, c.ok) for c in checks]
    assert "must refuse" in next(c.detail for c in checks if c.name == "auth")


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "read secret-bundles"),
        (502, "invoke log genai-functions-invoke"),
        (500, "names it"),
        (429, "rate"),
    ],
)
def test_a_refused_model_list_says_why(status: int, hint: str) -> None:
    handler = gateway(models_status=status)
    checks = run(
        "https://gw.example.com", KEY, logs="genai-functions-invoke", transport=httpx.MockTransport(handler)
    )
    last = checks[-1]
    assert (last.name, last.ok) == ("models", False)
    assert hint in last.detail
    assert "OCI said no" in last.detail


def test_a_failing_chat_call_is_reported_with_the_error() -> None:
    body = {"error": {"code": "model_not_found", "message": "The model xai.grok-4 does not exist"}}
    checks = run(
        "https://gw.example.com", KEY, transport=httpx.MockTransport(gateway(chat_status=404, chat_body=body))
    )
    assert (checks[-1].name, checks[-1].ok) == ("chat", False)
    assert "model_not_found" in checks[-1].detail
    assert "not offered in this region" in checks[-1].detail


def test_without_a_key_only_the_public_checks_run() -> None:
    checks = run("https://gw.example.com", None, transport=httpx.MockTransport(gateway()))
    assert [(c.name, c.ok) for c in checks] == [("health", True), ("auth", True), ("models", False)]


def refusing(status: int, *, health_too: bool = False) -> Handler:
    """API Gateway's usage-plan policy refusing calls with its own body (not the gateway's envelope)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health/readiness" and not health_too:
            return httpx.Response(200, json={"status": "ok"})
        if request.url.path == "/v1/models" and "Authorization" not in request.headers:
            return httpx.Response(401, json={"error": {"code": "invalid_api_key", "message": "no key"}})
        return httpx.Response(status, json={"code": status, "message": "Unauthorized"})

    return handle


def test_a_key_refused_by_the_usage_plan_is_told_apart_and_the_fix_named() -> None:
    checks = run(
        "https://gw.example.com/v1",
        KEY,
        transport=httpx.MockTransport(refusing(401)),
        usage_plans=True,
        key_from_secret=True,
    )
    assert [c.name for c in checks] == ["health", "auth", "usage-plan"]
    assert "not an entitled usage-plan subscriber" in checks[-1].detail
    assert "usage_plans = false" in checks[-1].detail


def test_every_call_refused_even_health_says_the_usage_plan_guards_every_route() -> None:
    checks = run(
        "https://gw.example.com/v1",
        KEY,
        transport=httpx.MockTransport(refusing(403, health_too=True)),
        usage_plans=True,
    )
    assert [c.name for c in checks] == ["usage-plan"]
    assert "every call is refused by the usage plan" in checks[0].detail


def test_a_refusal_by_the_functions_is_not_blamed_on_the_usage_plan() -> None:
    checks = run(
        "https://gw.example.com/v1",
        KEY,
        transport=httpx.MockTransport(gateway(models_status=401)),
        usage_plans=True,
    )
    assert checks[-1].name == "models"
    assert "usage" not in checks[-1].detail


def test_without_usage_plans_a_refusal_is_a_key_problem() -> None:
    checks = run("https://gw.example.com/v1", KEY, transport=httpx.MockTransport(refusing(401)))
    assert checks[-1].name == "models"
