"""The shipped Caddyfile as the real Caddy binary parses it (`caddy adapt`): where it proxies, and TLS."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.deploy_files import COMPOSE_DIR, read_containerfile
from tests.fixtures.tools import require_tool


def caddy_adapt(env: dict[str, str]) -> dict[str, Any]:
    """The shipped Caddyfile as Caddy's own parser turns it into JSON config."""
    caddy = require_tool("caddy")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(COMPOSE_DIR / "Caddyfile"), "--adapter", "caddyfile"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def handlers(node: Any, kind: str) -> list[dict[str, Any]]:
    """Every handler of `kind` anywhere in an adapted Caddy config."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("handler") == kind:
            found.append(node)
        for value in node.values():
            found += handlers(value, kind)
    elif isinstance(node, list):
        for value in node:
            found += handlers(value, kind)
    return found


@pytest.mark.parametrize("port", [None, "9123"])
def test_caddy_parses_the_caddyfile_to_the_gateway_address(port: str | None) -> None:
    env = {"GATEWAY_SITE_ADDRESS": "gateway.example.com", **({"GATEWAY_PORT": port} if port else {})}
    config = caddy_adapt(env)
    (proxy,) = handlers(config, "reverse_proxy")
    image = read_containerfile().env
    # Unset, Caddy's default must be the port the image (and `serve`) listens on.
    assert proxy["upstreams"] == [{"dial": f"{image['GATEWAY_HOST']}:{port or image['GATEWAY_PORT']}"}]
    assert "flush_interval" not in proxy  # see the test above
    server = next(iter(config["apps"]["http"]["servers"].values()))
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"] == [{"host": ["gateway.example.com"]}]
    # No `tls internal` or other TLS automation override: production gets a public ACME certificate.
    assert "tls" not in config["apps"]
