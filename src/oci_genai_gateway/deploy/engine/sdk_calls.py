"""The SDK's paginator and waiters: every page of a list; wait for a lifecycle state or a work request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import Context

WORK_REQUEST_DONE = ("SUCCEEDED", "FAILED", "CANCELED")


def list_all(method: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
    """Every page of a list call (the SDK's own paginator)."""
    import oci

    return list(oci.pagination.list_call_get_all_results(method, *args, **kwargs).data)


def wait_for_state(
    ctx: Context,
    client: Any,
    what: str,
    fetch: Callable[[], Any],
    ready: tuple[str, ...],
    *,
    failed: tuple[str, ...] = ("FAILED",),
    gone_ok: bool = False,
) -> Any:
    """Poll with the SDK's waiter until the lifecycle state is ready; None if gone and gone_ok."""
    import oci

    try:
        first = fetch()
    except oci.exceptions.ServiceError as exc:
        if gone_ok and exc.status == 404:
            return None
        raise
    result = oci.wait_until(
        client,
        first,
        evaluate_response=lambda r: r.data.lifecycle_state in ready + failed,
        fetch_func=lambda response=None: fetch(),
        max_wait_seconds=ctx.max_wait_seconds,
        succeed_on_not_found=gone_ok,
    )
    if result is oci.util.WAIT_RESOURCE_NOT_FOUND:
        return None
    state = result.data.lifecycle_state
    if state in failed:
        details = getattr(result.data, "lifecycle_details", None) or "no details"
        raise DeployError(f"{what} is {state} ({details}); fix the cause and apply again")
    return result.data


def wait_for_work_request(ctx: Context, client: Any, what: str, work_request_id: str) -> None:
    """Wait on a work request (`get_work_request` of the same client) and fail unless it succeeded."""
    import oci

    result = oci.wait_until(
        client,
        client.get_work_request(work_request_id),
        evaluate_response=lambda r: r.data.status in WORK_REQUEST_DONE,
        fetch_func=lambda response=None: client.get_work_request(work_request_id),
        max_wait_seconds=ctx.max_wait_seconds,
    )
    if result.data.status != "SUCCEEDED":
        raise DeployError(
            f"{what}: work request {work_request_id} {result.data.status}; apply again to retry"
        )
