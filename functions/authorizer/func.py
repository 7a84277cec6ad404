"""OCI Function: the API Gateway authorizer; all logic lives in oci_genai_gateway.authorizer."""

import functools
import io
import os

from fdk import context, response

from oci_genai_gateway.adapters.fdk_clock import keep_fdk_clock
from oci_genai_gateway.authorizer import Authorizer, from_environment, respond


@functools.cache
def _authorizer() -> Authorizer:
    # Built on the container's first call (cold start) and reused; a failure is retried next call.
    return from_environment(os.environ)


def handler(ctx: context.InvokeContext, data: io.BytesIO | None = None) -> response.Response:
    """Answer one authorizer call; `respond` never raises, so no exception text reaches the gateway."""
    keep_fdk_clock()  # without it an idle fdk process spins a core (adapters/fdk_clock.py)
    status, body = respond(_authorizer, data.getvalue() if data is not None else b"")
    return response.Response(
        ctx, response_data=body, headers={"Content-Type": "application/json"}, status_code=status
    )
