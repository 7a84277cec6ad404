"""Keys with policy: the JSON forms, their errors, model allow-lists, and the authorizer's context."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from oci_genai_gateway.core.access.guardrails import GUARDRAILS_HEADER, Guardrails, PiiAction
from oci_genai_gateway.core.access.keys import match_key
from oci_genai_gateway.core.access.policy import (
    BUDGET_HEADER,
    KEY_NAME_HEADER,
    MODELS_HEADER,
    REGIONS_HEADER,
    KeyPolicy,
    Quota,
    client_token,
    from_headers,
    grant_context,
    parse_entries,
    parse_env,
)
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.targets import Target

KEY_A = "sk-team-a-0123456789abcdef"
KEY_B = "sk-team-b-fedcba9876543210"
OLD_B = "sk-team-b-old-00000000000000"
BASE = {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..x"}
ALIASES = {
    "fast": "xai.grok-3-mini",
    "tuned": {"endpoint": "ocid1.generativeaiendpoint.oc1..t", "model": "b"},
}


def settings() -> Settings:
    return Settings.from_env({**BASE, "GATEWAY_MODEL_ALIASES": json.dumps(ALIASES)})


def test_the_old_forms_still_parse_to_keys_without_limits() -> None:
    for raw in (f"team-a:{KEY_A}", json.dumps({"team-a": KEY_A})):
        table = parse_env(raw)
        assert dict(table) == {"team-a": KEY_A}
        assert table.policy("team-a") == KeyPolicy(team="team-a")
    assert dict(parse_env("")) == {}


def test_a_policy_object_with_every_field_and_a_rotated_out_key() -> None:
    entry = {
        "key": KEY_B,
        "models": ["meta.*", "fast"],
        "rps": 5,
        "quota": {"requests": 1000, "per": "day"},
        "monthly_tokens": 2_000_000,
        "previous": [{"key": OLD_B, "until": "2026-12-01T00:00:00Z"}],
        "created": "2026-11-01T00:00:00Z",
    }
    table = parse_entries({"team-a": KEY_A, "team-b": entry}, "test")
    assert dict(table) == {"team-a": KEY_A, "team-b": KEY_B, "team-b~1": OLD_B}
    policy = table.policy("team-b")
    assert policy == KeyPolicy("team-b", ("meta.*", "fast"), 5, Quota(1000, "day"), 2_000_000, until=None)
    rotated = table.policy("team-b~1")
    assert (rotated.team, rotated.rps, rotated.until) == ("team-b", 5, datetime(2026, 12, 1, tzinfo=UTC))
    assert match_key(OLD_B, table) == "team-b~1"
    assert set(table.teams()) == {"team-a", "team-b"}
    assert rotated.expired(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    assert not rotated.expired(datetime(2026, 11, 30, tzinfo=UTC).timestamp())
    assert KEY_B not in repr(table)
    assert "team-b~1" in repr(table)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"key": KEY_B, "rps": 0}, "rps must be a positive integer"),
        ({"key": KEY_B, "rps": True}, "rps must be a positive integer"),
        ({"key": KEY_B, "monthly_tokens": "many"}, "monthly_tokens must be a positive integer"),
        ({"key": KEY_B, "quota": {"requests": 5, "per": "year"}}, "quota must be"),
        ({"key": KEY_B, "quota": {"requests": None, "per": "day"}}, "quota.requests"),
        ({"key": KEY_B, "models": "meta.*"}, "models must be a list"),
        ({"key": KEY_B, "models": ["a,b"]}, "no commas"),
        ({"key": KEY_B, "limits": {}}, "unknown field 'limits'"),
        ({"models": ["x"]}, "entry #2 needs a bearer-token key"),
        (
            {"key": KEY_B, "previous": [{"key": "short", "until": "2026-12-01T00:00:00Z"}]},
            "previous #1 needs",
        ),
        ({"key": KEY_B, "previous": [{"key": OLD_B, "until": "2026-12-01"}]}, "with a zone"),
        ({"key": KEY_B, "previous": [{"key": KEY_A, "until": "2026-12-01T00:00:00Z"}]}, "share a key"),
    ],
)
def test_bad_entries_are_named_by_position_and_never_quote_a_key(entry: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_entries({"team-a": KEY_A, "team-b": entry}, "GATEWAY_API_KEYS")
    for key in (KEY_A, KEY_B, OLD_B, "short"):
        assert key not in str(caught.value)


@pytest.mark.parametrize(
    ("models", "requested", "allowed"),
    [
        ((), "anything.at-all", True),
        (("meta.llama-3.3-70b-instruct",), "meta.llama-3.3-70b-instruct", True),
        (("meta.llama-3.3-70b-instruct",), "xai.grok-4", False),
        (("meta.*",), "meta.llama-4-maverick-17b-128e-instruct-fp8", True),
        (("meta.*",), "xai.grok-4", False),
        (("xai.*",), "fast", True),  # the alias resolves to an xai model
        (("fast",), "fast", True),
        (("fast",), "xai.grok-3-mini", True),  # the alias allows the model it names
        (("fast",), "xai.grok-4", False),
        (("tuned",), "tuned", True),
        (("ocid1.generativeaiendpoint.oc1..t",), "tuned", True),
        (("b",), "tuned", False),  # a dedicated endpoint is not its base model
        (("xai.grok-?",), "xai.grok-4", True),
    ],
)
def test_allow_lists_match_names_patterns_and_aliases(
    models: tuple[str, ...], requested: str, allowed: bool
) -> None:
    s = settings()
    policy = KeyPolicy("team", models)
    assert policy.allows(requested, s.target_of(requested), s.target_of) is allowed


def test_the_context_carries_every_key_as_a_string_and_the_functions_read_it_back() -> None:
    eu = ("eu-frankfurt-1", "uk-london-1")
    policy = KeyPolicy("team-b", ("meta.*", "fast"), 5, Quota(10, "minute"), 1000, regions=eu)
    context = grant_context(policy, "ocid1.vaultsecret.oc1..s")
    assert context == {
        "key_name": "team-b",
        "client_id": client_token("ocid1.vaultsecret.oc1..s", "team-b"),
        "models": "meta.*,fast",
        "regions": "eu-frankfurt-1,uk-london-1",
        "monthly_tokens": "1000",
        "rate_limit": "5",
        "quota": "10/minute",
        "guardrails": "none",
    }
    headers = {
        KEY_NAME_HEADER: "team-b",
        MODELS_HEADER: context["models"],
        REGIONS_HEADER: context["regions"],
        BUDGET_HEADER: "1000",
    }
    assert from_headers(headers) == KeyPolicy("team-b", ("meta.*", "fast"), monthly_tokens=1000, regions=eu)
    guarded = KeyPolicy("team-c", guardrails=Guardrails(0.5, PiiAction.REDACT, moderation=True))
    value = grant_context(guarded, "s")["guardrails"]
    assert value == "pi=0.5;pii=redact;mod=block"
    assert from_headers({KEY_NAME_HEADER: "team-c", GUARDRAILS_HEADER: value}) == guarded
    unlimited = grant_context(KeyPolicy("team-a"), "s")
    assert (unlimited["models"], unlimited["monthly_tokens"]) == ("*", "none")
    assert from_headers({KEY_NAME_HEADER: "team-a", MODELS_HEADER: "*", BUDGET_HEADER: "none"}) == KeyPolicy(
        "team-a"
    )
    assert from_headers({}) is None


def test_client_tokens_are_readable_stable_and_differ_between_secrets() -> None:
    token = client_token("ocid1.vaultsecret.oc1..one", "team-a")
    assert token.startswith("team-a.")
    assert len(token) == len("team-a.") + 12
    assert token == client_token("ocid1.vaultsecret.oc1..one", "team-a")
    assert token != client_token("ocid1.vaultsecret.oc1..two", "team-a")


def test_settings_take_policy_keys_and_keep_keys_out_of_repr() -> None:
    raw = json.dumps({"team-a": KEY_A, "team-b": {"key": KEY_B, "models": ["meta.*"]}})
    s = Settings.from_env({**BASE, "GATEWAY_API_KEYS": raw})
    assert dict(s.api_keys) == {"team-a": KEY_A, "team-b": KEY_B}
    assert s.key_policies["team-b"].models == ("meta.*",)
    assert KEY_B not in repr(s)
    # Settings map names to targets and never refuse one: refusing is a request's grant's job.
    assert s.target_of("xai.grok-4") == Target("xai.grok-4")


def test_make_run_names_configured_keys_and_never_shows_them() -> None:
    from oci_genai_devstack.run import key_banner

    raw = json.dumps(
        {
            "team-a": KEY_A,
            "team-b": {"key": KEY_B, "previous": [{"key": OLD_B, "until": "2030-01-01T00:00:00Z"}]},
        }
    )
    banner = key_banner({"GATEWAY_API_KEYS": raw})
    assert banner == "API keys: from GATEWAY_API_KEYS (team-a, team-b)"
