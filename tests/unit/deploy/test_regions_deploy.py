"""deploy with `deployment.regions`: parsed and checked, handed to both targets, and shown by `plan`."""

from __future__ import annotations

from typing import Any

import oci
import pytest

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.commands import regions_plan
from oci_genai_gateway.deploy.config.loader import parse
from oci_genai_gateway.deploy.engine.clients import Clients
from oci_genai_gateway.deploy.resources.compose_vm import gateway_env
from oci_genai_gateway.deploy.resources.functions import app_config
from tests.unit.deploy.conftest import BASE, merge

HOME, EU = "us-chicago-1", "eu-frankfurt-1"
C = "ocid1.compartment.oc1..aaaaaaaaexample"


def with_regions(regions: list[str]) -> dict[str, Any]:
    return merge(BASE, {"deployment": {"region": HOME, "regions": regions}})


def test_regions_reach_both_targets_and_one_region_changes_nothing() -> None:
    cfg = parse(with_regions([HOME, EU]))
    assert cfg.regions == (HOME, EU)
    assert app_config(cfg)["GATEWAY_REGIONS"] == f"{HOME},{EU}"
    assert f"GATEWAY_REGIONS={HOME},{EU}" in gateway_env(cfg)
    single = parse(with_regions([HOME]))
    assert single.regions == ()
    assert "GATEWAY_REGIONS" not in app_config(single)


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        ([EU, HOME], "begin with deployment.region"),
        ([HOME, "us-langley-1"], "realms"),
        ([HOME, "Frankfurt"], "list of OCI region names"),
    ],
)
def test_bad_regions_are_refused_naming_the_key(regions: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        parse(with_regions(regions))
    assert "deployment.regions" in str(refused.value)


def test_plan_lists_what_each_region_serves_and_offline_says_it_cannot(mocker: Any) -> None:
    def model(name: str, capability: str) -> Any:
        return oci.generative_ai.models.ModelSummary(
            display_name=name, capabilities=[capability], type="BASE"
        )

    catalogues = {
        HOME: [model("xai.grok-4", "CHAT"), model("cohere.embed-v4.0", "TEXT_EMBEDDINGS")],
        EU: [model("meta.llama-3.3-70b-instruct", "CHAT"), model("cohere.command", "TEXT_GENERATION")],
    }

    def make(name: str, endpoint: str | None, region: str) -> Any:
        client = mocker.create_autospec(oci.generative_ai.GenerativeAiClient, instance=True)
        if region == "ap-nowhere-1":
            client.list_models.side_effect = oci.exceptions.ServiceError(
                404, "NotAuthorizedOrNotFound", {}, "no"
            )
        else:
            items = catalogues[region]
            client.list_models.return_value = oci.response.Response(
                200, {}, oci.generative_ai.models.ModelCollection(items=items), None
            )
        return client

    text = regions_plan.describe(Clients(make, HOME, "t"), C, [HOME, EU, "ap-nowhere-1"], offline=False)
    assert f"{HOME} (2): cohere.embed-v4.0, xai.grok-4" in text
    assert f"{EU} (1): meta.llama-3.3-70b-instruct" in text
    assert "ap-nowhere-1: cannot be listed (ServiceError 404)" in text
    offline = regions_plan.describe(Clients(make, HOME, "t"), C, [HOME, EU], offline=True)
    assert "cannot be listed without credentials" in offline
