"""Model discovery: selection rules and the TTL cache with one in-flight refresh and stale fallback."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from oci_genai_gateway.core.errors import ModelNotFound, UpstreamError
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.upstream.catalog import ModelCatalog, select
from tests.fakes import (
    BASE_ENV,
    Json,
    ScriptedOci,
    gateway,
    model_summary,
    models_page,
    oci_error,
    send,
)
from tests.openapi import validate

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
PAST = NOW - dt.timedelta(days=30)
FUTURE = NOW + dt.timedelta(days=300)


def summary(name: str, **fields: Any) -> dict[str, Any]:
    return model_summary(name, created=PAST, **fields)


def test_selection_rules() -> None:
    entries = select(
        [
            summary("meta.a"),
            model_summary("meta.a", created=NOW),  # a newer version of the same name
            summary("cohere.embed", capabilities=["TEXT_EMBEDDINGS"]),
            summary("meta.retired", retired=PAST),
            summary("meta.retiring", retired=FUTURE),
            summary("ft-custom", type="CUSTOM"),
            summary("meta.deleting", lifecycleState="DELETING"),
            summary("cohere.rerank", capabilities=["TEXT_RERANK"]),
            {"displayName": "unreadable", "lifecycleState": "ACTIVE", "capabilities": ["CHAT"]},
        ],
        NOW,
    )
    assert [(e.id, e.owned_by) for e in entries] == [
        ("cohere.embed", "cohere"),
        ("meta.a", "meta"),
        ("meta.retiring", "meta"),
        ("unreadable", "oci"),  # no vendor, no time: still listed, created 0
    ]
    assert entries[1].created == int(NOW.timestamp())


class ScriptedFetch:
    """A fake OCI listing: returns or raises what the test enqueued, one item per call."""

    def __init__(self) -> None:
        self.queue: list[Any] = []
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    def enqueue(self, *items: Any) -> None:
        self.queue.extend(items)

    async def __call__(self) -> list[dict[str, Any]]:
        self.calls += 1
        await self.gate.wait()
        item = self.queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return list(item)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(ttl: float = 60) -> tuple[ModelCatalog, ScriptedFetch, Clock]:
    settings = Settings.from_env(
        {
            "GATEWAY_REGION": "us-chicago-1",
            "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..c",
            "GATEWAY_MODELS_CACHE_TTL": str(ttl),
            "GATEWAY_MODEL_ALIASES": '{"fast": "meta.a"}',
        }
    )
    fetch, clock = ScriptedFetch(), Clock()
    return ModelCatalog(settings, fetch, clock), fetch, clock


async def test_cached_within_ttl_refreshed_after() -> None:
    catalog, fetch, clock = make()
    fetch.enqueue([summary("meta.a")], [summary("meta.a"), summary("meta.b")])
    assert [e.id for e in await catalog.entries()] == ["meta.a", "fast"]
    clock.now += 59
    await catalog.entries()
    assert fetch.calls == 1
    clock.now += 1
    assert [e.id for e in await catalog.entries()] == ["meta.a", "meta.b", "fast"]
    assert fetch.calls == 2


async def test_concurrent_requests_share_one_refresh() -> None:
    catalog, fetch, _ = make()
    fetch.enqueue([summary("meta.a")])
    fetch.gate.clear()
    waiting = [asyncio.create_task(catalog.entries()) for _ in range(10)]
    await asyncio.sleep(0)
    fetch.gate.set()
    results = await asyncio.gather(*waiting)
    assert fetch.calls == 1
    assert all([e.id for e in r] == ["meta.a", "fast"] for r in results)


async def test_failure_serves_the_last_good_list_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    catalog, fetch, clock = make()
    fetch.enqueue([summary("meta.a")], RuntimeError("OCI down"))
    await catalog.entries()
    clock.now += 61
    assert [e.id for e in await catalog.entries()] == ["meta.a", "fast"]
    assert "serving the last good list" in caplog.text


async def test_failure_without_any_list_is_a_502_not_a_500() -> None:
    catalog, fetch, _ = make()
    fetch.enqueue(RuntimeError("OCI down"))
    with pytest.raises(UpstreamError):
        await catalog.entries()


async def test_get_by_id_and_alias() -> None:
    catalog, fetch, _ = make()
    fetch.enqueue([summary("meta.a")])
    assert (await catalog.get("fast")).owned_by == "meta"
    with pytest.raises(ModelNotFound):
        await catalog.get("meta.zzz")


# --- ListModels through the gateway, over the scripted OCI -------------------------------------


async def test_the_listing_follows_ocis_page_tokens_with_signed_gets() -> None:
    oci = ScriptedOci().enqueue(
        models_page(model_summary("meta.a"), next_page="page-2"), models_page(model_summary("xai.b"))
    )
    gw, signer = gateway(oci)
    reply = await send(gw, "GET", "/v1/models")
    assert reply.status == 200
    assert reply.body is not None
    validate(reply.body, "ListModelsResponse")
    assert [m["id"] for m in reply.body["data"]] == ["meta.a", "xai.b"]
    first, second = (urlsplit(sent.url) for sent in oci.sent)
    assert first.netloc == "generativeai.us-chicago-1.oci.oraclecloud.com"  # the management endpoint
    assert first.path == second.path == "/20231130/models"
    assert parse_qs(first.query) == {
        "compartmentId": [BASE_ENV["GATEWAY_COMPARTMENT_ID"]],
        "lifecycleState": ["ACTIVE"],
    }
    assert parse_qs(second.query)["page"] == ["page-2"]
    assert [sent.method for sent in oci.sent] == ["GET", "GET"]
    # A GET signs date, (request-target) and host, as the oci SDK signs its own ListModels.
    assert all('headers="date (request-target) host"' in sent.headers["authorization"] for sent in oci.sent)
    assert signer.signed == 2


async def test_a_401_on_the_listing_refreshes_the_token_once_and_lists() -> None:
    oci = ScriptedOci().enqueue(
        oci_error(401, "token expired", "NotAuthenticated"), models_page(model_summary("meta.a"))
    )
    gw, signer = gateway(oci)
    reply = await send(gw, "GET", "/v1/models/meta.a")
    assert (reply.status, signer.refreshed) == (200, 1)


async def test_a_listing_that_fails_with_no_list_to_serve_is_a_502(caplog: pytest.LogCaptureFixture) -> None:
    oci = ScriptedOci().enqueue(oci_error(500, "internal"), Json({"items": "not a list"}))
    gw, _ = gateway(oci)
    reply = await send(gw, "GET", "/v1/models")
    assert reply.status == 502
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert "no list to serve" in caplog.text
