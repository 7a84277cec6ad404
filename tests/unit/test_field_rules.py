"""The field rule (docs/COMPATIBILITY.md): every field the pinned SDKs type is classified; a refused one is
a 400 naming it; one nobody classified is ignored and reported back, never refused."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from oci_genai_gateway.core.routes import IGNORED_FIELDS_HEADER
from tests.data import build_compatibility
from tests.data.field_rules import APIS, Api
from tests.fakes import ScriptedOci, embedding_answer, gateway, generic_answer, send

BODIES: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}]},
    "/v1/responses": {"model": "xai.grok-4", "input": "hi"},
    "/v1/messages": {
        "model": "xai.grok-4",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
    },
    "/v1/messages/count_tokens": {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}]},
    "/v1/embeddings": {"model": "cohere.embed-v4.0", "input": "hi"},
}
COUNTED = "/v1/messages/count_tokens"  # answered without calling OCI


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.route)
def test_every_field_the_pinned_sdk_types_is_classified(api: Api) -> None:
    unclassified = sorted(api.sdk_fields() - api.fields.known)
    assert unclassified == [], (
        f"{api.sdk} {api.sdk_version()} types fields {api.route} does not classify: add each to FIELDS "
        "(honoured, ignored or refused, with why) and run .venv/bin/python -m tests.data.build_compatibility"
    )


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.route)
def test_the_classification_check_sees_the_sdks_fields(api: Api) -> None:
    # The check above must compare against something real: the SDK names the route's core fields.
    assert {"model"} <= api.sdk_fields()
    # OpenAI's moderations take only `input` and `model`.
    assert len(api.sdk_fields()) >= (2 if api.route == "/v1/moderations" else 5)


def test_the_compatibility_page_lists_every_classification() -> None:
    page = build_compatibility.PAGE.read_text()
    assert page == build_compatibility.render(page), "run: .venv/bin/python -m tests.data.build_compatibility"
    assert build_compatibility.BEGIN in page


def _answer(route: str) -> Any:
    return embedding_answer([[0.5, 0.25]]) if route == "/v1/embeddings" else generic_answer()


@pytest.mark.parametrize("route", list(BODIES))
async def test_an_unknown_field_is_ignored_and_reported_back_by_name(
    route: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "oci_genai_gateway.core.routes")
    oci = ScriptedOci().enqueue(_answer(route))
    gw, _ = gateway(oci)
    body = {**BODIES[route], "client_extension_2027": {"anything": True}, "x" * 500: 1}
    reply = await send(gw, "POST", route, json.dumps(body).encode())
    assert reply.status == 200
    # Names a client could not have meant as anything else are reported; a 500-character one is not echoed.
    assert reply.headers[IGNORED_FIELDS_HEADER] == "client_extension_2027,..."
    # The log names them the same way: an API-style name, or "..." for anything else.
    logged = [r.fields for r in caplog.records if getattr(r, "event", "") == "fields_ignored"]  # type: ignore[attr-defined]
    assert logged == [["client_extension_2027", "..."]]
    assert "x" * 100 not in caplog.text
    if route == COUNTED:
        assert oci.sent == []
        return
    sent = json.dumps(oci.sent[0].body)
    assert "client_extension_2027" not in sent  # dropped, not passed to OCI


@pytest.mark.parametrize("route", list(BODIES))
async def test_a_known_request_reports_nothing(route: str) -> None:
    gw, _ = gateway(ScriptedOci().enqueue(_answer(route)))
    reply = await send(gw, "POST", route, json.dumps(BODIES[route]).encode())
    assert reply.status == 200
    assert IGNORED_FIELDS_HEADER not in reply.headers


@pytest.mark.parametrize(
    ("api", "name"),
    [(api, name) for api in APIS for name in sorted(api.fields.refused)],
    ids=lambda value: value.route if isinstance(value, Api) else value,
)
async def test_a_refused_field_is_a_400_naming_it_in_the_routes_dialect(api: Api, name: str) -> None:
    oci = ScriptedOci()
    gw, _ = gateway(oci)
    body = {**BODIES[api.route], name: {"type": "enabled"}}
    reply = await send(gw, "POST", api.route, json.dumps(body).encode())
    assert reply.status == 400
    assert reply.body is not None
    error = reply.body["error"]
    assert name in error["message"]
    assert api.fields.refused[name] in error["message"]
    assert oci.sent == []
