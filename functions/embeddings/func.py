"""OCI Function: POST /v1/embeddings through the shared core."""

from oci_genai_gateway.adapters.fn import runtime

handler = runtime.handler("/v1/embeddings", "POST")
