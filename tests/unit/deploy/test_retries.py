"""The one retry strategy: the SDK's own builder and checkers, what it retries, and how long."""

from __future__ import annotations

from typing import Any

import oci
import pytest

from oci_genai_gateway.deploy.engine.clients import Clients
from oci_genai_gateway.deploy.engine.retries import (
    BUDGET_SECONDS,
    MAX_ATTEMPTS,
    RetryingClient,
    release_strategy,
    retry_strategy,
)
from tests.unit.deploy.fake_tenancy import service_error


def checkers(strategy: Any) -> dict[str, Any]:
    return {type(c).__name__: c for c in strategy.checkers.checkers}


def test_built_by_the_sdk_builder_with_attempts_and_a_time_budget() -> None:
    strategy = retry_strategy(lambda s: None)
    assert isinstance(strategy, oci.retry.retry.ExponentialBackoffRetryStrategyBase)
    found = checkers(strategy)
    assert found["LimitBasedRetryChecker"].max_attempts == MAX_ATTEMPTS
    assert found["TotalTimeExceededRetryChecker"].time_limit_seconds == BUDGET_SECONDS
    assert found["TimeoutConnectionAndServiceErrorRetryChecker"].retry_any_5xx


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (service_error(429, "TooManyRequests"), True),
        (service_error(500, "InternalServerError"), True),
        (service_error(503, "ServiceUnavailable"), True),
        (service_error(501, "NotImplemented"), False),
        (service_error(409, "IncorrectState"), True),
        (service_error(409, "Conflict"), False),
        (service_error(400, "InvalidParameter"), False),
        (service_error(404, "NotAuthorizedOrNotFound"), False),
        (oci.exceptions.RequestException(oci._vendor.requests.exceptions.ConnectionError("DNS")), True),
    ],
)
def test_what_is_retried(error: Exception, retried: bool) -> None:
    slept: list[float] = []
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return "done"

    client = RetryingClient(type("C", (), {"get_x": staticmethod(flaky)})(), retry_strategy(slept.append))
    if retried:
        assert client.get_x() == "done"
        assert len(slept) == 1
    else:
        with pytest.raises(type(error)):
            client.get_x()
        assert slept == []


def test_the_backoff_grows_and_is_bounded() -> None:
    slept: list[float] = []

    def always() -> None:
        raise service_error(429, "TooManyRequests")

    client = RetryingClient(type("C", (), {"get_x": staticmethod(always)})(), retry_strategy(slept.append))
    with pytest.raises(oci.exceptions.ServiceError):
        client.get_x()
    assert len(slept) == MAX_ATTEMPTS - 1
    # Equal jitter on throttles: at least half of min(2**attempt, 30) seconds.
    assert all(s >= min(2**i, 30) / 2 for i, s in enumerate(slept, start=1))
    assert max(slept) <= 30


def test_subnet_deletes_wait_longer_for_vnics_on_any_409() -> None:
    found = checkers(release_strategy(lambda s: None))
    assert found["LimitBasedRetryChecker"].max_attempts > MAX_ATTEMPTS
    assert found["TimeoutConnectionAndServiceErrorRetryChecker"].should_retry(
        exception=service_error(409, "Conflict")
    )


def test_every_client_is_wrapped() -> None:
    clients = Clients(lambda name, endpoint, region: object(), "us-chicago-1", "t", lambda s: None)
    assert isinstance(clients.network, RetryingClient)
    assert isinstance(clients.get("kms_management", endpoint="https://x-management.kms"), RetryingClient)
