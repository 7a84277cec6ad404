"""The keys secret: generated once, shown once, never logged; rotation by adding and removing names."""

from __future__ import annotations

import base64
import json
import logging
import re

import pytest

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.commands import report
from oci_genai_gateway.deploy.engine.resource_model import Action
from oci_genai_gateway.deploy.resources.vault import decode, encode, keys_from_env, new_key
from tests.unit.deploy.conftest import Deployer, config
from tests.unit.deploy.fake_tenancy import FakeTenancy


def current(tenancy: FakeTenancy) -> dict[str, str]:
    (secret,) = tenancy.objects("secret")
    data = json.loads(base64.b64decode(tenancy.secret_versions[secret.id][-1]))
    assert set(data) == {"keys"}
    return dict(data["keys"])


def test_key_format_and_content_encoding() -> None:
    key = new_key("genai")
    assert re.fullmatch(r"sk-genai-[A-Za-z0-9_-]{43}", key)
    assert new_key("genai") != key
    assert decode(encode({"a": key})) == {"a": key}
    assert json.loads(base64.b64decode(encode({"a": key}))) == {"keys": {"a": key}}


def test_generated_key_is_reported_once_and_never_logged_or_planned(
    deployer: Deployer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    deployer.apply(config())
    key = deployer.reporter.keys["default"]
    assert current(deployer.tenancy) == {"default": key}
    assert key not in caplog.text
    assert all(key not in line for line in deployer.reporter.lines)
    _, stack = deployer.stack(config())
    assert key not in report.format_plan(deployer.plan(config()), stack, offline=False)
    deployer.apply(config())
    assert deployer.reporter.keys == {"default": key}  # Collector fails if a key is shown twice


def test_rotation_adds_a_key_then_revokes_the_old_one(deployer: Deployer) -> None:
    deployer.apply(config())
    old = deployer.reporter.keys["default"]
    tenancy = deployer.tenancy
    both = config({"keys": {"names": ["default", "next"]}})
    plan = {c.resource.key: c for c in deployer.plan(both) if c.action is not Action.NOOP}
    assert plan["keys.secret"].fields == {"names": (["default"], ["default", "next"])}
    assert list(plan) == ["keys.secret"]
    before = len(tenancy.mutations)
    deployer.apply(both)
    # The new key's usage-plan subscriber follows the secret (known once the key is in it).
    assert tenancy.mutations[before:] == [("vaults", "update_secret"), ("subscribers", "create_subscriber")]
    new = deployer.reporter.keys["next"]
    assert current(tenancy) == {"default": old, "next": new}
    deployer.apply(config({"keys": {"names": ["next"]}}))
    assert current(tenancy) == {"next": new}
    assert len(tenancy.secret_versions[tenancy.objects("secret")[0].id]) == 3


def test_keys_from_the_environment(deployer: Deployer) -> None:
    deployer.env["MY_KEYS"] = "team-a:aaaaaaaaaaaaaaaaaaaaaa,team-b:bbbbbbbbbbbbbbbbbbbbbbbb"
    cfg = config({"keys": {"source": "env", "env_var": "MY_KEYS"}})
    deployer.apply(cfg)
    assert current(deployer.tenancy) == {"team-a": "a" * 22, "team-b": "b" * 24}
    assert deployer.reporter.keys == {}  # given keys are not echoed
    deployer.env["MY_KEYS"] = "team-a:aaaaaaaaaaaaaaaaaaaaaa"
    deployer.apply(cfg)
    assert current(deployer.tenancy) == {"team-a": "a" * 22}


@pytest.mark.parametrize(
    ("raw", "entry"),
    [
        ("team-a", "#1"),
        ("team-a:short", "#1"),
        ("ok:aaaaaaaaaaaaaaaaaaaa,bad name:bbbbbbbbbbbbbbbbbbbbbb", "#2"),
    ],
)
def test_bad_environment_keys_are_named_by_position_never_echoed(raw: str, entry: str) -> None:
    with pytest.raises(ConfigError, match=entry) as caught:
        keys_from_env(raw, "MY_KEYS")
    assert "aaaa" not in str(caught.value)
    assert "short" not in str(caught.value)


def test_env_source_needs_the_variable(deployer: Deployer) -> None:
    with pytest.raises(ConfigError, match="set GATEWAY_DEPLOY_API_KEYS"):
        deployer.stack(config({"keys": {"source": "env"}}))
