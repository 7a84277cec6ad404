"""Failure messages name the resource and the fix; the Generative AI region check; the SDK checks."""

from __future__ import annotations

from typing import Any

import oci
import pytest

from oci_genai_gateway.deploy.engine.failures import explain, genai_region_problem
from tests.unit.deploy.fake_tenancy import service_error
from tests.unit.deploy.sdk_checks import assert_roundtrip, check_call

C = "ocid1.compartment.oc1..c"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            service_error(404, "NotAuthorizedOrNotFound"),
            "`allow group <your-group> to manage functions-family in compartment id",
        ),
        (service_error(400, "LimitExceeded", "functions limit"), "service limit or quota"),
        (service_error(400, "QuotaExceeded"), "Governance > Limits"),
        (service_error(401, "NotAuthenticated"), "did not accept the credentials"),
        (service_error(409, "Conflict"), "wait and apply again"),
        (service_error(503, "ServiceUnavailable"), "apply again, it resumes"),
        (oci.exceptions.RequestException("connection reset"), "check the network and the region"),
    ],
)
def test_explain(exc: Exception, expected: str) -> None:
    message = explain("creating function 'chat'", "functions-family", C, exc)
    assert message.startswith("creating function 'chat': ")
    assert expected in message


def test_iam_objects_need_tenancy_level_permission() -> None:
    message = explain("creating policy 'p'", "policies", C, service_error(404, "NotAuthorizedOrNotFound"))
    assert "manage policies in tenancy" in message


def test_region_without_generative_ai(mocker: Any) -> None:
    client = mocker.create_autospec(oci.generative_ai.GenerativeAiClient, instance=True)
    client.list_models.return_value = oci.response.Response(
        200, {}, oci.generative_ai.models.ModelCollection(items=[]), None
    )
    assert genai_region_problem(client, C, "us-chicago-1") is None
    client.list_models.side_effect = oci.exceptions.RequestException("Name or service not known")
    assert "not reachable in xx-nowhere-1" in (genai_region_problem(client, C, "xx-nowhere-1") or "")
    client.list_models.side_effect = service_error(404, "NotAuthorizedOrNotFound")
    problem = genai_region_problem(client, C, "sa-nowhere-1") or ""
    assert "may not offer it" in problem
    assert "use generative-ai-family" in problem


def test_the_sdk_checks_catch_what_they_should() -> None:
    with pytest.raises(AssertionError, match="unknown kwargs"):
        check_call(oci.core.VirtualNetworkClient, "list_vcns", ("c",), {"displayname": "x"})
    with pytest.raises(AssertionError, match="not an SDK model"):
        check_call(oci.core.VirtualNetworkClient, "create_vcn", ({"cidrBlock": "10.0.0.0/16"},), {})
    with pytest.raises(AssertionError, match="is not a CreateVcnDetails"):
        check_call(oci.core.VirtualNetworkClient, "create_vcn", (oci.core.models.UpdateVcnDetails(),), {})
    with pytest.raises(AssertionError, match="compartment_id is required"):
        assert_roundtrip(oci.core.models.CreateVcnDetails(cidr_blocks=["10.0.0.0/16"]))
    with pytest.raises(TypeError, match="cidr_blocks"):  # the SDK's own serializer refuses a wrong type
        assert_roundtrip(oci.core.models.CreateVcnDetails(compartment_id="c", cidr_blocks="10.0.0.0/16"))
