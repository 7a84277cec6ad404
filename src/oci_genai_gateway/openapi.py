"""The OpenAPI 3.1 document of the routes the gateway serves, shipped in the package as openapi.json.

Built by tests/data/build_openapi.py (requests as core/ validates them, responses OpenAI's own
schemas); tests/unit/test_openapi_document.py keeps it equal to the routes and the build output.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from typing import Any


@functools.cache
def _text() -> str:
    return (
        importlib.resources.files(__package__ or "oci_genai_gateway")
        .joinpath("openapi.json")
        .read_text("utf-8")
    )


def document() -> dict[str, Any]:
    """A fresh copy of the document (callers may change it)."""
    doc: dict[str, Any] = json.loads(_text())
    return doc
