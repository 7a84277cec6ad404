"""The SDK's paginator and waiters: every page of a list; wait for a lifecycle state or a work request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import Context

WORK_REQUEST_DONE = ("SUCCEEDED", "FAILED", "CANCELED")


def list_all(method: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
    """Every page of a list call, following opc-next-page.

    Not the SDK's paginator: it wraps each page in its own default retry strategy (real sleeps, 8
    attempts) around ours, which would multiply the attempts; the clients already retry (retries.py).
    """
    items: list[Any] = []
    while True:
        response = method(*args, **kwargs)
        data = response.data
        items.extend(data if isinstance(data, list) else (getattr(data, "items", None) or []))
        next_page = getattr(response, "next_page", None)
        if not isinstance(next_page, str) or not next_page:
            return items
        kwargs["page"] = next_page


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
        details = getattr(result.data, "lifecycle_details", None) or "OCI gives no details"
        ocid = getattr(result.data, "id", None) or "(no OCID)"
        raise DeployError(
            f"{what} {ocid} is {state}: {details}. The next apply replaces it "
            "(it is tagged as this deployment's)"
        )
    return result.data


def wait_for_work_request(ctx: Context, client: Any, what: str, work_request_id: str) -> None:
    """Wait on a work request (`get_work_request` of `client`); unless it succeeded, fail with its errors."""
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
            f"{what}: work request {work_request_id} {result.data.status}: "
            f"{work_request_errors(client, work_request_id)}"
        )


def work_request_errors(client: Any, work_request_id: str) -> str:
    """OCI's messages for a failed work request (every service deploy waits on lists them)."""
    import oci

    try:
        errors = list_all(client.list_work_request_errors, work_request_id)
    except oci.exceptions.ServiceError as exc:
        return f"its errors could not be read ({exc.status} {exc.code})"
    text = "; ".join(f"{getattr(e, 'code', '')}: {getattr(e, 'message', '')}" for e in errors)
    return text or "OCI lists no error"
