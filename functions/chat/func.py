"""OCI Function: POST /v1/chat/completions through the shared core."""

from oci_genai_gateway.adapters.fn import runtime

handler = runtime.handler("/v1/chat/completions", "POST")
