"""Waiting with the SDK's own waiter: progress, failure states, deletion, work requests."""

from __future__ import annotations

from typing import Any

import oci
import pytest

from oci_genai_gateway.deploy.engine.clients import Clients
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import Context
from oci_genai_gateway.deploy.engine.sdk_calls import wait_for_state, wait_for_work_request
from tests.unit.deploy.conftest import Collector, config
from tests.unit.deploy.fake_tenancy import service_error


@pytest.fixture
def ctx() -> Context:
    return Context(Clients(lambda *a: None, "us-chicago-1", "t"), config(), Collector(), max_wait_seconds=600)


@pytest.fixture
def sleeps(mocker: Any) -> Any:
    # The SDK waiter sleeps between polls; record instead of waiting (overrides the autouse guard).
    return mocker.patch("oci.waiter.time.sleep")


def responses(*states: str) -> Any:
    items = iter(states)

    def fetch() -> Any:
        state = next(items)
        return oci.response.Response(
            200, {}, oci.core.models.Vcn(id="v", lifecycle_state=state, display_name="x"), None
        )

    return fetch


def test_polls_until_ready(ctx: Context, mocker: Any, sleeps: Any) -> None:
    client = mocker.create_autospec(oci.core.VirtualNetworkClient, instance=True)
    live = wait_for_state(
        ctx, client, "VCN x", responses("PROVISIONING", "PROVISIONING", "AVAILABLE"), ("AVAILABLE",)
    )
    assert live.lifecycle_state == "AVAILABLE"
    assert sleeps.call_count == 2


def test_failed_state_names_the_resource(ctx: Context, mocker: Any, sleeps: Any) -> None:
    client = mocker.create_autospec(oci.functions.FunctionsManagementClient, instance=True)

    def failed() -> Any:
        data = oci.functions.models.Application(id="a", lifecycle_state="FAILED")
        return oci.response.Response(200, {}, data, None)

    with pytest.raises(
        DeployError,
        match=r"Functions application x a is FAILED: OCI gives no details\. The next apply replaces it",
    ):
        wait_for_state(ctx, client, "Functions application x", failed, ("ACTIVE",))


def test_waiting_for_deletion_accepts_not_found(ctx: Context, mocker: Any, sleeps: Any) -> None:
    client = mocker.create_autospec(oci.core.VirtualNetworkClient, instance=True)
    calls = iter([oci.response.Response(200, {}, oci.core.models.Vcn(lifecycle_state="TERMINATING"), None)])

    def fetch() -> Any:
        try:
            return next(calls)
        except StopIteration:
            raise service_error(404, "NotAuthorizedOrNotFound") from None

    assert wait_for_state(ctx, client, "VCN x", fetch, ("TERMINATED",), gone_ok=True) is None


def test_work_request_failure_is_an_error(ctx: Context, mocker: Any, sleeps: Any) -> None:
    client = mocker.create_autospec(oci.logging.LoggingManagementClient, instance=True)
    states = iter(["ACCEPTED", "IN_PROGRESS", "FAILED"])
    client.get_work_request.side_effect = lambda wr, **k: oci.response.Response(
        200, {}, oci.logging.models.WorkRequest(id=wr, status=next(states)), None
    )
    with pytest.raises(DeployError, match="work request wr-1 FAILED"):
        wait_for_work_request(ctx, client, "log group x", "wr-1")
    assert sleeps.call_count == 2
