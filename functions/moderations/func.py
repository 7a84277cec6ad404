"""OCI Function: POST /v1/moderations (OCI's applyGuardrails) through the shared core."""

from oci_genai_gateway.adapters.fn import fdk_handler

handler = fdk_handler("/v1/moderations", "POST")
