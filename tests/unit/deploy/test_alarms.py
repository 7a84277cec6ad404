"""`oci-genai-gateway deploy alarms` against the fake tenancy: one alarm per key budget threshold."""

from __future__ import annotations

import io
import json
from pathlib import Path

from oci_genai_gateway.deploy.commands.cli import main
from oci_genai_gateway.deploy.commands.keys_cli import main as keys_main
from tests.unit.deploy.conftest import COMPARTMENT
from tests.unit.deploy.fake_tenancy import FakeTenancy

TOPIC = "ocid1.onstopic.oc1..budget"


def run(tenancy: FakeTenancy, path: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["alarms", "-c", str(path), *args], maker=tenancy.maker, env={}, out=out)
    return code, out.getvalue()


def keys(tenancy: FakeTenancy, path: Path, *args: str) -> None:
    assert (
        keys_main([args[0], "-c", str(path), *args[1:]], maker=tenancy.maker, env={}, out=io.StringIO()) == 0
    )


def test_an_alarm_per_budgeted_key_and_threshold_then_reconciled(deployed: tuple[FakeTenancy, Path]) -> None:
    tenancy, path = deployed
    keys(tenancy, path, "create", "team-a", "--monthly-tokens", "3000000")
    keys(tenancy, path, "create", "team-free")  # no budget: no alarm
    code, out = run(tenancy, path, "--topic", TOPIC)
    assert code == 0, out
    alarms = {a.display_name: a for a in tenancy.objects("alarm")}
    assert sorted(alarms) == ["genai-budget-team-a-100pct", "genai-budget-team-a-80pct"]
    warning = alarms["genai-budget-team-a-80pct"]
    # 80 % of a day's share (1/30) of 3,000,000 tokens.
    assert warning.query == 'total_tokens[1d]{key = "team-a"}.sum() > 80000'
    assert (warning.namespace, warning.metric_compartment_id) == ("genai_gateway_genai", COMPARTMENT)
    assert (warning.severity, warning.destinations) == ("WARNING", [TOPIC])
    assert alarms["genai-budget-team-a-100pct"].severity == "CRITICAL"
    assert warning.freeform_tags == {"oci-genai-gateway": "genai"}
    # Again: nothing to do.
    before = len(tenancy.mutations)
    assert run(tenancy, path, "--topic", TOPIC)[0] == 0
    assert tenancy.mutations[before:] == []
    # Fewer thresholds: the other alarm goes.
    code, out = run(tenancy, path, "--topic", TOPIC, "--at", "100")
    assert "deleted alarm genai-budget-team-a-80pct" in out
    assert [a.display_name for a in tenancy.objects("alarm")] == ["genai-budget-team-a-100pct"]


def test_bad_thresholds_are_refused_before_any_change(deployed: tuple[FakeTenancy, Path]) -> None:
    tenancy, path = deployed
    before = len(tenancy.mutations)
    for bad in ("eighty", "0", ""):
        assert run(tenancy, path, "--topic", TOPIC, "--at", bad)[0] == 1
    assert tenancy.mutations[before:] == []
    assert json.dumps([a.display_name for a in tenancy.objects("alarm")]) == "[]"
