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


def work_request_state(data: Any) -> str | None:
    """A work request's state: `status` for most services, `lifecycle_state` for the load balancer's.

    oci.load_balancer.models.WorkRequest has no `status`; its state is `lifecycle_state`
    (ACCEPTED, IN_PROGRESS, FAILED, SUCCEEDED) and its errors are carried in `error_details`.
    """
    status = getattr(data, "status", None)
    return status if status is not None else getattr(data, "lifecycle_state", None)


def wait_for_work_request(ctx: Context, client: Any, what: str, work_request_id: str) -> None:
    """Wait on a work request (`get_work_request` of `client`); unless it succeeded, fail with its errors."""
    import oci

    result = oci.wait_until(
        client,
        client.get_work_request(work_request_id),
        evaluate_response=lambda r: work_request_state(r.data) in WORK_REQUEST_DONE,
        fetch_func=lambda response=None: client.get_work_request(work_request_id),
        max_wait_seconds=ctx.max_wait_seconds,
    )
    state = work_request_state(result.data)
    if state != "SUCCEEDED":
        errors = work_request_errors(client, work_request_id, result.data)
        raise DeployError(f"{what}: work request {work_request_id} {state}: {errors}")


def work_request_errors(client: Any, work_request_id: str, work_request: Any = None) -> str:
    """OCI's messages for a failed work request (every service deploy waits on lists them).

    The load balancer's work request carries them (`error_details`, `message`); other services list
    them with `list_work_request_errors`.
    """
    import oci

    if "error_details" in getattr(work_request, "swagger_types", {}):
        details = work_request.error_details or []
        text = "; ".join(f"{getattr(e, 'error_code', '')}: {getattr(e, 'message', '')}" for e in details)
        return text or getattr(work_request, "message", None) or "OCI lists no error"
    try:
        errors = list_all(client.list_work_request_errors, work_request_id)
    except oci.exceptions.ServiceError as exc:
        return f"its errors could not be read ({exc.status} {exc.code})"
    text = "; ".join(f"{getattr(e, 'code', '')}: {getattr(e, 'message', '')}" for e in errors)
    return text or "OCI lists no error"
