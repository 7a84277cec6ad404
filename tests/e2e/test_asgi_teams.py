"""Keys with policy on the ASGI server (the compose target): models, in-process limits, budgets, metering."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import GatewayProcess, start_gateway, stop
from tests.fixtures.teams import as_usage, metrics_of, seed_tokens, team

LLAMA = "meta.llama-3.3-70b-instruct"
HI = [{"role": "user", "content": "hi"}]
OLD_KEY = "sk-rotated-out-key-00000000"
EXPIRED_KEY = "sk-long-expired-key-0000000"


@dataclass
class Server:
    gateway: GatewayProcess
    names: dict[str, str]
    keys: dict[str, str]

    def client(self, role: str = "", key: str | None = None) -> openai.OpenAI:
        return self.gateway.client(key or self.keys[role])


@pytest.fixture(scope="module")
def server(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    names, keys = {}, {}
    for role in ("models", "rate", "quota", "budget", "meter"):
        names[role], keys[role] = team(role)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    policies = {
        names["models"]: {
            "key": keys["models"],
            "models": ["meta.*"],
            "previous": [{"key": OLD_KEY, "until": later}, {"key": EXPIRED_KEY, "until": earlier}],
        },
        names["rate"]: {"key": keys["rate"], "rps": 1},
        names["quota"]: {"key": keys["quota"], "quota": {"requests": 2, "per": "day"}},
        names["budget"]: {"key": keys["budget"], "monthly_tokens": 100},
        names["meter"]: keys["meter"],  # the old form: a key without limits
    }
    process = start_gateway(
        emulator,
        tmp_path_factory.mktemp("asgi-teams"),
        GATEWAY_API_KEYS=json.dumps(policies),
        GATEWAY_METRICS_FLUSH_SECONDS="0.2",
    )
    try:
        yield Server(process, names, keys)
    finally:
        stop(process.process)


def test_a_key_gets_its_models_and_openais_403_for_any_other(server: Server) -> None:
    with server.client("models") as client:
        assert client.chat.completions.create(model=LLAMA, messages=HI).choices
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client.chat.completions.create(model="xai.grok-4", messages=HI)
        assert refused.value.code == "model_not_allowed"
        assert all(m.id.startswith("meta.") for m in client.models.list())
    # A client's own key headers mean nothing to the server, which checks the key itself.
    forged = httpx.post(
        f"{server.gateway.base_url}/chat/completions",
        headers={"Authorization": f"Bearer {server.keys['models']}", "X-Gateway-Key-Models": "*"},
        json={"model": "xai.grok-4", "messages": HI},
        timeout=60,
    )
    assert forged.status_code == 403


def test_a_rotated_out_key_works_in_its_grace_period_only(server: Server) -> None:
    with server.client(key=OLD_KEY) as client:
        assert client.models.list().data
    with server.client(key=EXPIRED_KEY) as client, pytest.raises(openai.AuthenticationError) as refused:
        client.models.list()
    assert "grace period" in str(refused.value)
    log = server.gateway.wait_for_log(f'"key_name": "{server.names["models"]}~1"')
    assert OLD_KEY not in log


def test_rate_and_quota_are_per_key_429s_with_retry_after(server: Server) -> None:
    def status(role: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {server.keys[role]}"}
        return httpx.get(f"{server.gateway.base_url}/models", headers=headers, timeout=30)

    # One per second: of three immediate requests at least one is refused (the bucket holds one).
    rate = [status("rate") for _ in range(3)]
    limited = [r for r in rate if r.status_code == 429]
    assert limited
    assert limited[0].headers["retry-after"] == "1"
    assert limited[0].json()["error"]["code"] == "rate_limit_exceeded"
    assert [status("quota").status_code for _ in range(2)] == [200, 200]
    over = status("quota")
    assert over.status_code == 429
    assert 1 <= int(over.headers["retry-after"]) <= 86400  # until the calendar day ends (UTC)
    assert "quota of 2 requests per day" in over.json()["error"]["message"]
    with server.client("quota") as client, pytest.raises(openai.RateLimitError):
        client.models.list()


def test_a_spent_monthly_budget_is_insufficient_quota(
    server: Server, emulator: Emulator, rp_signer: Any
) -> None:
    seed_tokens(emulator, rp_signer, server.names["budget"], 150)
    with server.client("budget") as client, pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model=LLAMA, messages=HI)
    assert refused.value.code == "insufficient_quota"
    assert refused.value.response.headers["x-should-retry"] == "false"


def test_every_call_is_metered_and_logged_without_prompts(server: Server, emulator: Emulator) -> None:
    with server.client("meter") as client:
        reply = client.chat.completions.create(
            model=LLAMA, messages=[{"role": "user", "content": "a secret"}]
        )
        vectors = client.embeddings.create(model="cohere.embed-english-v3.0", input=["a", "b"])
    name = server.names["meter"]
    usage = as_usage(metrics_of(emulator, name, count=8))
    assert reply.usage is not None
    assert usage == {
        (name, LLAMA, "chat"): {
            "requests": 1,
            "prompt_tokens": reply.usage.prompt_tokens,
            "completion_tokens": reply.usage.completion_tokens,
            "total_tokens": reply.usage.total_tokens,
        },
        (name, "cohere.embed-english-v3.0", "embeddings"): {
            "requests": 1,
            "prompt_tokens": vectors.usage.prompt_tokens,
            "completion_tokens": 0,
            "total_tokens": vectors.usage.total_tokens,
        },
    }
    lines = [
        line for line in server.gateway.logs() if line.get("event") == "usage" and line["key_name"] == name
    ]
    assert lines
    assert set(lines[-1]) >= {
        "route",
        "model",
        "oci_model",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
    }
    assert "a secret" not in Path(server.gateway.log_path).read_text()
