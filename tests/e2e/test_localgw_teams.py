"""Keys with policy on `make run`'s stack: per-key models, usage-plan limits, budgets and metering.

The authorizer function holds policy keys; the local gateway executes the spec's usage-plan policy
(with the subscribers deploy would create) and its header transformations; the functions enforce
the model list and the budget and meter usage to the emulator's Monitoring.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from oci_genai_devstack.localgw.functions import FunctionProcess, start_function
from oci_genai_devstack.localgw.server import ThreadedServer
from oci_genai_devstack.localgw.usage_plans import UsagePlans
from tests.fixtures.gateway import KEY
from tests.fixtures.localgw import GatewayFactory, LocalGw, ManualClock
from tests.fixtures.teams import as_usage, metrics_of, seed_tokens, team
from tests.paths import FUNCTIONS_DIR

LLAMA = "meta.llama-3.3-70b-instruct"
HI = [{"role": "user", "content": "hi"}]


@dataclass
class Teams:
    """A gateway whose authorizer holds three policy keys, on a manual clock."""

    server: ThreadedServer
    clock: ManualClock
    names: dict[str, str]  # role -> team name
    keys: dict[str, str]  # role -> key

    def client(self, role: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.server.url}/v1", api_key=self.keys[role], max_retries=0)

    def get(self, role: str, path: str = "/v1/models", **headers: str) -> httpx.Response:
        headers["Authorization"] = f"Bearer {self.keys[role]}"
        return httpx.get(f"{self.server.url}{path}", headers=headers, timeout=30)


@pytest.fixture
def teams(localgw: LocalGw, extra_gateway: GatewayFactory) -> Iterator[Teams]:
    names, keys = {}, {}
    for role in ("models", "limits", "budget"):
        names[role], keys[role] = team(role)
    policies = {
        names["models"]: {"key": keys["models"], "models": ["meta.*", "fast"]},
        names["limits"]: {"key": keys["limits"], "rps": 1, "quota": {"requests": 3, "per": "minute"}},
        names["budget"]: {"key": keys["budget"], "monthly_tokens": 100},
    }
    raw = json.dumps(policies)
    authorizer: FunctionProcess = start_function(
        "authorizer", {"GATEWAY_API_KEYS": raw}, FUNCTIONS_DIR / "authorizer"
    )
    try:
        authorizer.wait_listening()
        clock = ManualClock()
        plans = UsagePlans.from_api_keys(raw, clock=clock)
        server = extra_gateway(functions={"authorizer": authorizer.target}, clock=clock, usage_plans=plans)
        yield Teams(server, clock, names, keys)
    finally:
        authorizer.stop()


def test_a_key_gets_its_models_and_openais_403_for_any_other(teams: Teams) -> None:
    with teams.client("models") as client:
        assert client.chat.completions.create(model=LLAMA, messages=HI).choices[0].message.content
        assert (
            client.chat.completions.create(model="fast", messages=HI).model == "fast"
        )  # an alias on the list
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client.chat.completions.create(model="xai.grok-4", messages=HI)
        assert refused.value.code == "model_not_allowed"
        assert refused.value.body["param"] == "model"  # type: ignore[index]
        with pytest.raises(openai.PermissionDeniedError):
            client.embeddings.create(model="cohere.embed-english-v3.0", input="x")
        listed = [m.id for m in client.models.list()]
        # The list, and the model the alias on it names.
        assert {"fast", "xai.grok-3-mini", LLAMA} <= set(listed)
        assert all(m.startswith("meta.") or m in ("fast", "xai.grok-3-mini") for m in listed)
    # The spec overwrites the headers a client sends under the same names: no key can widen its list.
    forged = httpx.post(
        f"{teams.server.url}/v1/chat/completions",
        headers={
            "Authorization": f"Bearer {teams.keys['models']}",
            "X-Gateway-Key-Models": "*",
            "X-Gateway-Key-Name": "someone-else",
        },
        json={"model": "xai.grok-4", "messages": HI},
        timeout=60,
    )
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "model_not_allowed"
    assert teams.names["models"] in forged.json()["error"]["message"]


def test_the_usage_plan_rate_and_quota_are_per_key_429s_with_retry_after(teams: Teams) -> None:
    invoked = teams.server.app.invocations
    teams.clock.now = math.floor(teams.clock.now / 60) * 60 + 10  # ten seconds into a calendar minute
    assert teams.get("limits").status_code == 200
    before = invoked["models"]
    fast = teams.get("limits")
    assert (fast.status_code, fast.json(), fast.headers["retry-after"]) == (
        429,
        {"code": 429, "message": "Too Many Requests"},
        "1",
    )
    assert invoked["models"] == before  # refused by the gateway, never forwarded
    assert teams.get("models").status_code == 200  # another key: its own plan
    teams.clock.advance(1)
    assert teams.get("limits").status_code == 200
    teams.clock.advance(1)
    assert teams.get("limits").status_code == 200  # the third of 3 per minute
    teams.clock.advance(1)
    over = teams.get("limits")
    assert over.status_code == 429
    assert over.headers["retry-after"] == "47"  # until the minute ends (quota: CALENDAR reset)
    with teams.client("limits") as client, pytest.raises(openai.RateLimitError):
        client.models.list()


def test_a_key_without_a_subscriber_is_not_forwarded(localgw: LocalGw, extra_gateway: GatewayFactory) -> None:
    # The session's authorizer knows the key, but these plans have no subscriber for it.
    server = extra_gateway(usage_plans=UsagePlans([]))
    with (
        openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0) as client,
        pytest.raises(openai.PermissionDeniedError) as refused,
    ):
        client.models.list()
    assert refused.value.body == {"code": 403, "message": "Forbidden"}  # OCI's own shape
    assert server.app.invocations["models"] == 0


def test_a_spent_monthly_budget_is_insufficient_quota(teams: Teams, localgw: LocalGw, rp_signer: Any) -> None:
    seed_tokens(localgw.emulator, rp_signer, teams.names["budget"], 150)
    with teams.client("budget") as client, pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model=LLAMA, messages=HI)
    assert refused.value.code == "insufficient_quota"
    assert refused.value.response.headers["x-should-retry"] == "false"


def test_every_call_is_metered_to_monitoring_per_key_and_model(teams: Teams, localgw: LocalGw) -> None:
    with teams.client("models") as client:
        reply = client.chat.completions.create(model=LLAMA, messages=HI)
        # Metered without include_usage: the gateway always asks OCI for the stream's usage.
        chunks = list(client.chat.completions.create(model="fast", messages=HI, stream=True))
    assert chunks
    name = teams.names["models"]
    usage = as_usage(metrics_of(localgw.emulator, name, count=8))
    assert reply.usage is not None
    assert usage[(name, LLAMA, "chat")] == {
        "requests": 1,
        "prompt_tokens": reply.usage.prompt_tokens,
        "completion_tokens": reply.usage.completion_tokens,
        "total_tokens": reply.usage.total_tokens,
    }
    streamed = usage[(name, "xai.grok-3-mini", "chat")]
    assert streamed["requests"] == 1
    assert streamed["total_tokens"] == streamed["prompt_tokens"] + streamed["completion_tokens"] > 0
