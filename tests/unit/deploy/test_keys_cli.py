"""`oci-genai-gateway keys` against the fake tenancy: Vault secret versions, subscribers, Monitoring."""

from __future__ import annotations

import base64
import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import oci
import pytest

from oci_genai_gateway.core.access.policy import client_token, parse_entries
from oci_genai_gateway.deploy.commands.keys_cli import main
from tests.unit.deploy.conftest import COMPARTMENT
from tests.unit.deploy.fake_tenancy import FakeTenancy

T0 = datetime(2026, 7, 15, 10, 0, tzinfo=UTC).timestamp()


def run(deployed: tuple[FakeTenancy, Path], *args: str, now: float = T0) -> tuple[int, str]:
    tenancy, path = deployed
    out = io.StringIO()
    code = main(
        [args[0], "-c", str(path), *args[1:]], maker=tenancy.maker, env={}, out=out, clock=lambda: now
    )
    return code, out.getvalue()


def entries(tenancy: FakeTenancy) -> dict[str, Any]:
    (secret,) = tenancy.objects("secret")
    return dict(json.loads(base64.b64decode(tenancy.secret_versions[secret.id][-1]))["keys"])


def subscribers(tenancy: FakeTenancy) -> dict[str, Any]:
    return {s.display_name: s for s in tenancy.objects("subscriber")}


def printed_key(out: str) -> str:
    return next(line.strip() for line in out.splitlines() if line.strip().startswith("sk-genai-"))


def test_create_stores_the_policy_subscribes_the_key_and_prints_it_once(
    deployed: tuple[FakeTenancy, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenancy, _ = deployed
    code, out = run(
        deployed,
        "create",
        "team-a",
        "--models",
        "meta.*,fast",
        "--rps",
        "5",
        "--quota",
        "1000/day",
        "--monthly-tokens",
        "2000000",
    )
    assert code == 0
    key = printed_key(out)
    assert entries(tenancy)["team-a"] == {
        "key": key,
        "models": ["meta.*", "fast"],
        "rps": 5,
        "quota": {"requests": 1000, "per": "day"},
        "monthly_tokens": 2000000,
        "created": "2026-07-15T10:00:00+00:00",
    }
    assert isinstance(entries(tenancy)["default"], str)  # deploy's own key is untouched
    parse_entries(entries(tenancy), "secret")  # what the authorizer reads is valid
    (secret,) = tenancy.objects("secret")
    sub = subscribers(tenancy)["genai-key-team-a"]
    assert [(c.name, c.token) for c in sub.clients] == [("team-a", client_token(secret.id, "team-a"))]
    (plan,) = [p for p in tenancy.objects("usage_plan") if p.id == sub.usage_plans[0]]
    assert plan.display_name == "genai-plan-r5-q1000-day"
    # The subscriber exists before the key does: the key is never granted without one.
    order = [m for m in tenancy.mutations if m[1] in ("create_subscriber", "update_secret")]
    assert order[-2:] == [("subscribers", "create_subscriber"), ("vaults", "update_secret")]
    assert key not in caplog.text
    code, listed = run(deployed, "list")
    assert code == 0
    assert "team-a" in listed
    assert "models meta.*,fast; 5 req/s; 1000 req/day; 2000000 tokens/month" in listed
    assert key not in listed
    assert run(deployed, "create", "team-a")[0] == 1  # exists


def test_rotate_keeps_the_old_key_for_the_grace_period_then_drops_it(
    deployed: tuple[FakeTenancy, Path],
) -> None:
    tenancy, _ = deployed
    old = printed_key(run(deployed, "create", "team-a", "--rps", "5")[1])
    before = len(tenancy.mutations)
    code, out = run(deployed, "rotate", "team-a", "--grace", "2h")
    assert code == 0
    new = printed_key(out)
    assert "The old key works until 2026-07-15T12:00:00+00:00" in out
    entry = entries(tenancy)["team-a"]
    assert (entry["key"], entry["previous"]) == (new, [{"key": old, "until": "2026-07-15T12:00:00+00:00"}])
    assert tenancy.mutations[before:] == [("vaults", "update_secret")]  # same team, same subscriber
    # Any later write after the grace period drops the old key.
    run(deployed, "create", "team-b", now=T0 + 3 * 3600)
    assert "previous" not in entries(tenancy)["team-a"]


def test_revoke_removes_the_key_then_its_subscriber(deployed: tuple[FakeTenancy, Path]) -> None:
    tenancy, _ = deployed
    run(deployed, "create", "team-a", "--quota", "10/minute")
    before = len(tenancy.mutations)
    code, out = run(deployed, "revoke", "team-a")
    assert code == 0
    assert "about six minutes" in out
    assert "team-a" not in entries(tenancy)
    assert tenancy.mutations[before:] == [
        ("vaults", "update_secret"),
        ("subscribers", "delete_subscriber"),
        ("usage_plans", "delete_usage_plan"),
    ]
    assert run(deployed, "revoke", "default")[0] == 1  # the last key stays


@pytest.mark.parametrize(
    "args",
    [
        ["create", "x", "--quota", "10/year"],
        ["create", "bad name"],
        ["rotate", "nobody"],
        ["usage", "--days", "91"],
    ],
)
def test_bad_requests_change_nothing(deployed: tuple[FakeTenancy, Path], args: list[str]) -> None:
    tenancy, _ = deployed
    before = len(tenancy.mutations)
    assert run(deployed, *args)[0] == 1
    assert tenancy.mutations[before:] == []


def test_usage_sums_monitoring_per_key_and_model(deployed: tuple[FakeTenancy, Path]) -> None:
    tenancy, _ = deployed
    mm = oci.monitoring.models

    def series(key: str, model: str, *values: float) -> Any:
        points = [
            mm.AggregatedDatapoint(timestamp=datetime(2026, 7, d + 1, tzinfo=UTC), value=v)
            for d, v in enumerate(values)
        ]
        return mm.MetricData(
            namespace="genai_gateway_genai",
            compartment_id=COMPARTMENT,
            name="x",
            dimensions={"key": key, "model": model, "route": "chat"},
            aggregated_datapoints=points,
        )

    tenancy.metric_series = {
        "requests": [series("team-a", "xai.grok-4", 3, 4), series("team-b", "meta.llama", 1)],
        "prompt_tokens": [series("team-a", "xai.grok-4", 30, 40), series("team-b", "meta.llama", 5)],
        "completion_tokens": [series("team-a", "xai.grok-4", 10, 10), series("team-b", "meta.llama", 2)],
        "total_tokens": [series("team-a", "xai.grok-4", 40, 50), series("team-b", "meta.llama", 7)],
    }
    code, out = run(deployed, "usage")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Usage from 2026-07-01 to 2026-07-15 10:00 UTC, namespace genai_gateway_genai:"
    assert lines[2].split() == ["team-a", "xai.grok-4", "7", "70", "20", "90"]
    assert lines[3].split() == ["team-b", "meta.llama", "1", "5", "2", "7"]
    calls = [c for c in tenancy.calls if c.method == "summarize_metrics_data"]
    assert [c.args[1].query for c in calls] == [
        f"{m}[1d].sum()" for m in ("requests", "prompt_tokens", "completion_tokens", "total_tokens")
    ]
    details = calls[0].args[1]
    assert (details.namespace, details.resolution, details.start_time) == (
        "genai_gateway_genai",
        "1d",
        datetime(2026, 7, 1, tzinfo=UTC),
    )
    run(deployed, "usage", "--key", "team-a", "--month", "2026-06")
    last = [c for c in tenancy.calls if c.method == "summarize_metrics_data"][-1].args[1]
    assert last.query == 'total_tokens[1d]{key = "team-a"}.sum()'
    assert (last.start_time, last.end_time) == (
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2026, 7, 1, tzinfo=UTC),
    )


def test_usage_charts_tokens_and_requests_per_key_and_day(
    deployed: tuple[FakeTenancy, Path], tmp_path: Path
) -> None:
    tenancy, _ = deployed
    mm = oci.monitoring.models

    def series(key: str, *values: float) -> Any:
        points = [
            mm.AggregatedDatapoint(timestamp=datetime(2026, 7, d + 1, tzinfo=UTC), value=v)
            for d, v in enumerate(values)
        ]
        return mm.MetricData(
            dimensions={"key": key, "model": "m", "route": "chat"}, aggregated_datapoints=points
        )

    tenancy.metric_series = {
        "requests": [series("team-a", 3, 4), series("team-<b>", 1)],
        "prompt_tokens": [],
        "completion_tokens": [],
        "total_tokens": [series("team-a", 400, 800), series("team-<b>", 200)],
    }
    page = tmp_path / "usage.html"
    code, out = run(deployed, "usage", "--html", str(page))
    assert code == 0
    bars = [line.split() for line in out.splitlines() if line.startswith("  07-")]
    # Scaled to the busiest day: 800 tokens is the full 40 characters.
    assert bars == [
        ["07-01", "#" * 10, "200", "tok", "1", "req"],  # team-<b> sorts first
        ["07-01", "#" * 20, "400", "tok", "3", "req"],
        ["07-02", "#" * 40, "800", "tok", "4", "req"],
    ]
    text = page.read_text()
    assert text.startswith("<!doctype html>")
    assert "<script" not in text
    assert "http" not in text
    assert text.count("<svg") == 2  # tokens and requests
    assert "team-&lt;b&gt; 2026-07-01: 200" in text
    assert "team-<b>" not in text
    assert "team-a 2026-07-02: 800" in text


def test_the_package_command_line_runs_keys(capsys: pytest.CaptureFixture[str]) -> None:
    from oci_genai_gateway import __main__ as package_main

    with pytest.raises(SystemExit) as done:
        package_main.main(["keys", "--help"])
    assert done.value.code == 0
    assert "create" in capsys.readouterr().out


def test_create_with_regions_stores_the_keys_data_residency(deployed: tuple[FakeTenancy, Path]) -> None:
    tenancy, _ = deployed
    code, _out = run(deployed, "create", "eu-team", "--regions", "eu-frankfurt-1,uk-london-1")
    assert code == 0
    assert entries(tenancy)["eu-team"]["regions"] == ["eu-frankfurt-1", "uk-london-1"]
    policies = parse_entries(entries(tenancy), "secret").policies
    assert policies["eu-team"].regions == ("eu-frankfurt-1", "uk-london-1")
    code, listed = run(deployed, "list")
    assert "regions eu-frankfurt-1,uk-london-1" in listed
