"""OCI Function: POST /v1/chat/completions, /v1/responses and /v1/messages through the shared core."""

from oci_genai_gateway.adapters.fn import fdk_handler

handler = fdk_handler("/v1/chat/completions", "POST")
