"""`POST /v1/messages/count_tokens`: tokens.py's estimate of what a Messages body would show the model.

Anthropic's endpoint: https://docs.anthropic.com/en/api/messages-count-tokens (the SDK's
`MessageCountTokensParams`, plain and beta; the answer `MessageTokensCount` / `BetaMessageTokensCount`).
OCI has no counting endpoint, so nothing is sent to OCI: the body is validated and translated as
`/v1/messages` would (context edits included) and the chat request it becomes is estimated.
"""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.core.apis.messages.request import (
    SHARED_HONOURED,
    SHARED_IGNORED,
    SHARED_REFUSED,
    chat_fields,
)
from oci_genai_gateway.core.apis.messages.tokens import request_tokens
from oci_genai_gateway.core.chat import request as chat_request
from oci_genai_gateway.core.input.fields import Fields
from oci_genai_gateway.core.targets import Resolve

FIELDS = Fields(honoured=SHARED_HONOURED, ignored=SHARED_IGNORED, refused=SHARED_REFUSED)


def count(body: dict[str, Any], resolve: Resolve, *, fetch_images: bool = False) -> dict[str, Any]:
    """`{"input_tokens": N}`, and the count before the edits when `context_management` was sent."""
    FIELDS.refuse(body)
    chat, edited, _omitted = chat_fields(body)  # hosted tools are left out of the count too
    # The same checks (and key's model grant) as a generation; remote images are not fetched.
    request = chat_request.parse(chat, resolve, fetch_images=fetch_images)
    out: dict[str, Any] = {"input_tokens": request_tokens(request.messages, request.params)}
    if edited is not None:
        out["context_management"] = {"original_input_tokens": edited.original_tokens}
    return out
