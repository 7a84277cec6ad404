"""OCI Function: POST /v1/embeddings through the shared core."""

from oci_genai_gateway.adapters.fn import function

handler = function("/v1/embeddings", "POST")
