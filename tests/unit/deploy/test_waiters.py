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


def _states(client: Any, model: Any, field: str, *states: str, **extra: Any) -> None:
    items = iter(states)
    client.get_work_request.side_effect = lambda wr, **k: oci.response.Response(
        200, {}, model(id=wr, **{field: next(items)}, **extra), None
    )


@pytest.mark.parametrize(
    ("client_class", "model", "field"),
    [
        # Most services' work requests report `status` ...
        (oci.logging.LoggingManagementClient, oci.logging.models.WorkRequest, "status"),
        # ... the load balancer's `lifecycle_state` (its model has no `status`).
        (oci.load_balancer.LoadBalancerClient, oci.load_balancer.models.WorkRequest, "lifecycle_state"),
    ],
)
def test_a_work_request_is_followed_by_status_or_lifecycle_state(
    ctx: Context, mocker: Any, sleeps: Any, client_class: Any, model: Any, field: str
) -> None:
    client = mocker.create_autospec(client_class, instance=True)
    _states(client, model, field, "ACCEPTED", "IN_PROGRESS", "SUCCEEDED")
    wait_for_work_request(ctx, client, "x", "wr-1")
    assert client.get_work_request.call_count == 3
    assert sleeps.call_count == 2


def test_a_failed_work_request_names_the_errors_oci_lists(ctx: Context, mocker: Any, sleeps: Any) -> None:
    client = mocker.create_autospec(oci.logging.LoggingManagementClient, instance=True)
    _states(client, oci.logging.models.WorkRequest, "status", "IN_PROGRESS", "FAILED")
    error = oci.logging.models.WorkRequestError(code="LimitExceeded", message="too many log groups")
    client.list_work_request_errors.return_value = oci.response.Response(200, {}, [error], None)
    with pytest.raises(DeployError, match="log group x: work request wr-1 FAILED: LimitExceeded: too many"):
        wait_for_work_request(ctx, client, "log group x", "wr-1")


def test_a_failed_load_balancer_work_request_names_the_errors_it_carries(
    ctx: Context, mocker: Any, sleeps: Any
) -> None:
    # LoadBalancerClient has no list_work_request_errors: the errors are in the work request itself.
    client = mocker.create_autospec(oci.load_balancer.LoadBalancerClient, instance=True)
    error = oci.load_balancer.models.WorkRequestError(error_code="BAD_INPUT", message="no such certificate")
    _states(client, oci.load_balancer.models.WorkRequest, "lifecycle_state", "FAILED", error_details=[error])
    with pytest.raises(
        DeployError, match="load balancer x: work request wr-1 FAILED: BAD_INPUT: no such cert"
    ):
        wait_for_work_request(ctx, client, "load balancer x", "wr-1")
