"""The published OpenAPI document (src/oci_genai_gateway/openapi.json): valid OpenAPI 3.1, the routes
the gateway serves, up to date with its builder, shipped in the wheel."""

from __future__ import annotations

import copy
import tomllib

import jsonschema_rs
import pytest
import schemathesis

from oci_genai_gateway import openapi
from oci_genai_gateway.core.routes import ROUTES
from tests.data import build_openapi
from tests.paths import REPO

# A route ending in "/" takes one more segment: its name in the document.
PARAMS = {"/v1/models/": "{model}", "/v1/responses/": "{response_id}"}


def test_the_shipped_document_is_what_the_builder_makes() -> None:
    shipped = (REPO / "src" / "oci_genai_gateway" / "openapi.json").read_text(encoding="utf-8")
    assert shipped == build_openapi.render(), "run: .venv/bin/python -m tests.data.build_openapi"


def test_it_is_valid_openapi_3_1() -> None:
    doc = openapi.document()
    assert doc["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(doc).validate()
    broken = copy.deepcopy(doc)
    broken["paths"]["/v1/models"]["get"]["responses"] = []
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(broken).validate()


def test_it_lists_every_route_and_method_the_gateway_serves() -> None:
    served = {
        (path + PARAMS[path] if path.endswith("/") else path, method.lower())
        for path, methods in ROUTES.items()
        for method in methods
    }
    documented = {(path, method) for path, item in openapi.document()["paths"].items() for method in item}
    assert documented == served


def test_health_routes_need_no_key_and_the_others_a_bearer_key() -> None:
    doc = openapi.document()
    assert doc["security"] == [{"bearer": []}]
    for path, item in doc["paths"].items():
        for operation in item.values():
            assert (operation.get("security") == []) == path.startswith("/health/")


def test_it_is_package_data() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "openapi.json" in pyproject["tool"]["setuptools"]["package-data"]["oci_genai_gateway"]
