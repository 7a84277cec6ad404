"""OCI Function: POST /v1/chat/completions through the shared core."""

from oci_genai_gateway.adapters.fn import function

handler = function("/v1/chat/completions", "POST")
