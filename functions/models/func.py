"""OCI Function: GET /v1/models and GET /v1/models/{model} through the shared core."""

from oci_genai_gateway.adapters.fn import fdk_handler

handler = fdk_handler("/v1/models", "GET")
