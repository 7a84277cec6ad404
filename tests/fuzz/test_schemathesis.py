"""Schemathesis over the published OpenAPI document against the ASGI app in process (OCI answering
every call): requests generated from the document; no 5xx, and every answer conforms to it."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from oci_genai_gateway import openapi
from oci_genai_gateway.adapters.asgi import create_app
from oci_genai_gateway.core.upstream.llm import chat_config
from tests.fuzz.harness import KEY, fuzz_gateway

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(openapi.document())
schema.app = create_app(fuzz_gateway()[0])
chat_config()  # LiteLLM's import takes seconds: not inside the first case's read timeout


@schema.parametrize()
@settings(
    max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_every_route_answers_as_its_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS, timeout=60)
