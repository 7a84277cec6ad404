"""The README's "Coding agents" settings are the ones tests/e2e/test_coding_agents.py runs the agents with."""

from __future__ import annotations

import json
import re
import tomllib

from tests.fixtures.agents import (
    CLAUDE_CODE_VERSION,
    CODEX_VERSION,
    CONTEXT_WINDOWS,
    OPENCODE_VERSION,
    claude_code_env,
    codex_config,
    opencode_config,
    opencode_env,
)
from tests.paths import AGENTS_DIR, REPO

GATEWAY = "https://gateway.example.com"  # the README's placeholders
KEY = "sk-your-gateway-key"
MODEL = "meta.llama-3.3-70b-instruct"
_README = (REPO / "README.md").read_text()
SECTION = _README[_README.index("## Coding agents") :].split("\n## ", 1)[0]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", SECTION, re.S)


def test_claude_code_settings() -> None:
    [shell] = blocks("sh")
    exported = dict(re.findall(r"^export (\w+)=(\S+)", shell, re.M))
    assert exported == claude_code_env(GATEWAY, KEY, MODEL)
    assert f"claude --model {MODEL}" in shell


def test_codex_settings() -> None:
    [config] = blocks("toml")
    assert tomllib.loads(config) == tomllib.loads(codex_config(f"{GATEWAY}/v1", MODEL))
    assert "export OCI_GATEWAY_KEY=" in SECTION  # the variable env_key names


def test_opencode_settings() -> None:
    [config] = blocks("json")
    assert json.loads(config) == opencode_config(f"{GATEWAY}/v1", [MODEL])
    # The variables that keep OpenCode from reaching beyond the gateway (the config file is the README's).
    offline = set(opencode_env(REPO / "opencode.json")) - {"OPENCODE_CONFIG"}
    assert offline
    for name in offline:
        assert f"{name}=1" in SECTION


def test_the_context_windows_and_the_pins() -> None:
    table = {
        model: int(tokens) for model, tokens in re.findall(r"^\| `([\w.-]+)` \| (\d+) \|$", SECTION, re.M)
    }
    assert table == CONTEXT_WINDOWS
    pinned = json.loads((AGENTS_DIR / "package.json").read_text())
    versions = {**pinned["dependencies"], **pinned["optionalDependencies"]}
    assert versions["@anthropic-ai/claude-code"] == CLAUDE_CODE_VERSION
    assert versions["@openai/codex"] == CODEX_VERSION
    assert versions["opencode-linux-x64"] == versions["@opencode-ai/plugin"] == OPENCODE_VERSION
    for pin in (
        f"Claude Code {CLAUDE_CODE_VERSION}",
        f"Codex CLI {CODEX_VERSION}",
        f"OpenCode {OPENCODE_VERSION}",
    ):
        assert pin in SECTION
