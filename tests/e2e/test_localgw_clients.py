"""Clients outside Python through the local gateway: a real headless Chromium and the OpenAI Node SDK."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.gateway import KEY
from tests.fixtures.localgw import Browsers, LocalGw
from tests.fixtures.node import Node
from tests.fixtures.tools import require_tool

LLAMA = "meta.llama-3.3-70b-instruct"
EMBED = "cohere.embed-english-light-v3.0"

pytestmark = pytest.mark.slow


def page_url(origin: str, localgw: LocalGw) -> str:
    query = urllib.parse.urlencode({"gateway": localgw.url, "key": KEY, "model": LLAMA})
    return f"{origin}/cors.html?{query}"


def by_name(calls: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {call["name"]: call for call in calls}


def test_cors_in_a_real_browser(
    localgw: LocalGw, browser_origins: Browsers, node: Node, tmp_path: Path
) -> None:
    chromium = require_tool("chromium")
    allowed = page_url(browser_origins.allowed.origin, localgw)
    refused = page_url(browser_origins.refused.origin, localgw)
    models_before = localgw.gateway.invocations["models"]
    results = node.run("cors_browser.mjs", chromium, str(tmp_path / "profile"), allowed, refused)

    ok = by_name(results[allowed]["calls"])
    assert (ok["models"]["ok"], ok["models"]["status"]) == (True, 200), ok["models"]
    assert '"object":"list"' in ok["models"]["body"]
    # Opc-Request-Id is readable from script only because the policy exposes it.
    assert ok["models"]["requestId"], "exposed header not readable"
    assert (ok["chat"]["ok"], ok["chat"]["status"]) == (True, 200), ok["chat"]
    assert LLAMA in ok["chat"]["body"]
    # A wrong key still yields a readable 401 (CORS headers on errors), not an opaque network error.
    assert (ok["wrong-key"]["ok"], ok["wrong-key"]["status"]) == (True, 401), ok["wrong-key"]
    assert "invalid_api_key" in ok["wrong-key"]["body"]

    blocked = by_name(results[refused]["calls"])
    for name in ("models", "chat", "wrong-key"):
        assert blocked[name]["ok"] is False, blocked[name]
        assert "Failed to fetch" in blocked[name]["error"]
    assert any("CORS" in line for line in results[refused]["console"]), results[refused]["console"]
    # The browser stopped at the failed preflight: the refused page's calls never reached a function.
    assert localgw.gateway.invocations["models"] == models_before + 1


def test_the_openai_node_sdk(localgw: LocalGw, node: Node) -> None:
    env = {
        **os.environ,
        "OPENAI_BASE_URL": f"{localgw.url}/v1",
        "OPENAI_API_KEY": KEY,
        "CHAT_MODEL": LLAMA,
        "EMBEDDING_MODEL": EMBED,
    }
    result = node.run("openai_client.mjs", env=env)
    assert result["chat"]["model"] == LLAMA
    assert LLAMA in result["chat"]["content"]
    assert result["chat"]["finish"] == "stop"
    assert result["stream"]["chunks"] > 1
    assert LLAMA in result["stream"]["content"]
    assert result["stream"]["finish"] == "stop"
    assert result["embeddings"] == {"count": 2, "dimensions": [384, 384], "model": EMBED}
    assert result["refused"]["status"] == 401
    assert result["refused"]["code"] == "invalid_api_key"
