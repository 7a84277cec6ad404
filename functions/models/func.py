"""OCI Function: GET /v1/models and GET /v1/models/{model} through the shared core."""

from oci_genai_gateway.adapters.fn import function

handler = function("/v1/models", "GET")
