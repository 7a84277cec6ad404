"""A sync-LiteLLM FastAPI shim, the ~40 lines many teams put in front of LiteLLM (bench/peers.py).

Run in LiteLLM Proxy's venv (it has FastAPI): `uvicorn --app-dir bench litellm_shim:app`, with
SHIM_* variables naming the OCI API key and the endpoint. FastAPI runs the sync handler, and starlette
the sync stream iterator, on its thread pool, one blocking `litellm.completion` per request.
"""

import os
from collections.abc import Iterator
from typing import Any

import litellm
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse

litellm.drop_params = True
app = FastAPI()
_OCI = {
    "api_base": os.environ["SHIM_API_BASE"],
    "oci_region": os.environ["SHIM_REGION"],
    "oci_compartment_id": os.environ["SHIM_COMPARTMENT"],
    "oci_user": os.environ["SHIM_USER"],
    "oci_fingerprint": os.environ["SHIM_FINGERPRINT"],
    "oci_tenancy": os.environ["SHIM_TENANCY"],
    "oci_key_file": os.environ["SHIM_KEY_FILE"],
}


@app.post("/v1/chat/completions")
def chat(body: dict[str, Any]) -> Any:
    """One blocking LiteLLM call; a stream is relayed chunk by chunk as SSE."""
    model = body.pop("model")
    answer = litellm.completion(model=f"oci/{model}", **body, **_OCI)
    if not body.get("stream"):
        return JSONResponse(answer.model_dump())

    def events() -> Iterator[str]:
        for chunk in answer:
            yield f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
