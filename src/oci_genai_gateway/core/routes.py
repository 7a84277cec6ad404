"""The route table (path -> method -> handler) and its handlers, each one API call on the services."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from oci_genai_gateway.core.access.grant import Grant
from oci_genai_gateway.core.apis import embeddings, models, moderations
from oci_genai_gateway.core.apis.messages import count
from oci_genai_gateway.core.apis.responses.render import not_stored
from oci_genai_gateway.core.apis.surfaces import SURFACES, Surface
from oci_genai_gateway.core.chat import guard, pipeline
from oci_genai_gateway.core.chat.request import OmittedTool
from oci_genai_gateway.core.errors import InvalidRequest, MethodNotAllowed, NotFound
from oci_genai_gateway.core.exchange import Reply, json_reply, stream_reply
from oci_genai_gateway.core.input.fields import MAX_REPORTED, REPORTABLE
from oci_genai_gateway.core.input.images import ImageFetcher, inline_images
from oci_genai_gateway.core.input.validate import parse_json_object
from oci_genai_gateway.core.settings import HostedTools, Settings
from oci_genai_gateway.core.sse import EventStream
from oci_genai_gateway.core.upstream.catalog import ModelCatalog
from oci_genai_gateway.core.upstream.http import OciHttp
from oci_genai_gateway.core.upstream.quirks import ModelQuirks


@dataclass(frozen=True)
class Services:
    """What the handlers use, one set per process (or function container)."""

    settings: Settings
    oci: OciHttp
    quirks: ModelQuirks  # what OCI showed of its models, for every request after
    catalog: ModelCatalog
    images: ImageFetcher  # no network until a request names a remote image


@dataclass(frozen=True)
class Call:
    """One routed request: the path's last segment (for routes that take one), the body, the grant."""

    param: str
    body: bytes
    grant: Grant


Handler = Callable[[Services, Call], Awaitable[Reply]]
log = logging.getLogger(__name__)
# Names the request's fields that no API classification knows (core/input/fields.py): ignored, not refused.
IGNORED_FIELDS_HEADER = "X-Gateway-Ignored-Fields"
# Names the hosted tools (web search and friends) the request offered and OCI cannot run: left out
# (docs/decisions/0006-codex-over-the-responses-api.md).
OMITTED_TOOLS_HEADER = "X-Gateway-Omitted-Tools"
# The OCI region that served a generation (GATEWAY_REGIONS); a stream's is fixed once it opens.
REGION_HEADER = "X-Gateway-Region"


async def generate(surface: Surface[Any], services: Services, call: Call) -> Reply:
    """Any generation API: parse, inline remote images, run the chat pipeline, render or stream."""
    body = parse_json_object(call.body)
    fetch_images = services.settings.fetch_image_urls
    request = surface.parse(body, call.grant.resolve, fetch_images=fetch_images)
    chat = surface.chat_of(request)
    if chat.omitted_tools and services.settings.hosted_tools is HostedTools.REFUSE:
        raise _refused(chat.omitted_tools[0])
    # The key's guardrails: one applyGuardrails call, before anything reaches the model.
    guarded = await guard.guard_input(chat, services.oci, call.grant, pipeline.ROUTE)
    if guarded is not chat:
        chat = guarded
        request = surface.with_chat(request, chat)
    inlined = await inline_images(chat.messages, services.images)
    if inlined is not chat.messages:
        chat = replace(chat, messages=inlined)
        request = surface.with_chat(request, chat)
    if chat.stream:
        chunks = await pipeline.stream(chat, services.oci, services.quirks, call.grant)
        reply = stream_reply(EventStream(chunks, surface.stream(request)))
        region = chunks.region
    else:
        completion, region = await pipeline.create(chat, services.oci, services.quirks, call.grant)
        if services.settings.guardrails_output:
            completion = await guard.guard_output(completion, chat, services.oci, call.grant, pipeline.ROUTE)
        reply = json_reply(surface.render(request, completion))
    reply = replace(reply, headers={**reply.headers, REGION_HEADER: region})
    reply = _reporting_unknown(reply, surface.fields.unknown(body, chat.ignored_fields))
    return _reporting_omitted(reply, chat.omitted_tools)


def _refused(tool: OmittedTool) -> InvalidRequest:
    return InvalidRequest(
        f"'{tool.param}' names the hosted tool '{tool.name}', which OCI Generative AI cannot run, and "
        "this gateway is set to refuse such tools (GATEWAY_HOSTED_TOOLS=refuse): send the request "
        "without it.",
        param=tool.param,
    )


def _reporting_omitted(reply: Reply, tools: tuple[OmittedTool, ...]) -> Reply:
    """Hosted tools are left out, not refused: the client hears which (by type), and the log."""
    names = list(dict.fromkeys(tool.name for tool in tools))
    if not names:
        return reply
    shown = [name for name in names if REPORTABLE.match(name)][:MAX_REPORTED]
    shown += ["..."] if len(shown) < len(names) else []
    log.info("hosted tools omitted", extra={"event": "tools_omitted", "tools": shown})
    return replace(reply, headers={**reply.headers, OMITTED_TOOLS_HEADER: ",".join(shown)})


async def _count_message_tokens(services: Services, call: Call) -> Reply:
    """Anthropic's token count, estimated without calling OCI (core/apis/messages/count.py)."""
    body = parse_json_object(call.body)
    fetch_images = services.settings.fetch_image_urls
    reply = json_reply(count.count(body, call.grant.resolve, fetch_images=fetch_images))
    return _reporting_unknown(reply, count.FIELDS.unknown(body))


async def _embeddings(services: Services, call: Call) -> Reply:
    body = parse_json_object(call.body)
    request = embeddings.parse(body, call.grant.resolve)
    answer, region = await embeddings.create(request, services.oci, call.grant)
    reply = json_reply(answer, headers={REGION_HEADER: region})
    return _reporting_unknown(reply, embeddings.FIELDS.unknown(body))


async def _moderations(services: Services, call: Call) -> Reply:
    body = parse_json_object(call.body)
    request = moderations.parse(body)
    reply = json_reply(await moderations.create(request, services.oci))
    return _reporting_unknown(reply, moderations.FIELDS.unknown(body))


def _reporting_unknown(reply: Reply, names: list[str]) -> Reply:
    """Fields this gateway does not know are ignored, not refused: the client hears which, and the log.

    Only names that read as API field names are given (core/input/fields.py:REPORTABLE); any other is
    "...", so no free text of the client's reaches a header or a log line.
    """
    if not names:
        return reply
    log.info("unknown fields ignored", extra={"event": "fields_ignored", "fields": names})
    return replace(reply, headers={**reply.headers, IGNORED_FIELDS_HEADER: ",".join(names)})


async def _list_models(services: Services, call: Call) -> Reply:
    return json_reply(await models.list_models(services.catalog, services.quirks, call.grant))


async def _get_model(services: Services, call: Call) -> Reply:
    return json_reply(await models.get_model(services.catalog, call.grant, call.param))


async def _stored_response(_services: Services, call: Call) -> Reply:
    raise not_stored(call.param)


async def _readiness(_services: Services, _call: Call) -> Reply:
    """The process is up and configured (no upstream call)."""
    return json_reply({"status": "ok"})


# Path -> method -> handler. A path ending in "/" takes one more segment, passed as the call's param.
ROUTES: Mapping[str, Mapping[str, Handler]] = {
    **{path: {"POST": functools.partial(generate, surface)} for path, surface in SURFACES.items()},
    "/v1/responses/": {"GET": _stored_response, "DELETE": _stored_response},
    "/v1/messages/count_tokens": {"POST": _count_message_tokens},
    "/v1/embeddings": {"POST": _embeddings},
    "/v1/moderations": {"POST": _moderations},
    "/v1/models": {"GET": _list_models},
    "/v1/models/": {"GET": _get_model},
    "/health/readiness": {"GET": _readiness},
    "/health/liveness": {"GET": _readiness},
}


def match(method: str, path: str) -> tuple[Handler, str]:
    """The handler for `method path` and its path parameter; NotFound or MethodNotAllowed otherwise."""
    by_method, param = ROUTES.get(path), ""
    if by_method is None:
        base, _, param = path.rpartition("/")
        by_method = ROUTES.get(base + "/") if param else None
    if by_method is None:
        raise NotFound(f"Unknown route: {path}", code="unknown_url")
    handler = by_method.get(method)
    if handler is None:
        allowed = ", ".join(by_method)
        raise MethodNotAllowed(
            f"Method {method} is not allowed on {path}; use {allowed}.", headers={"Allow": allowed}
        )
    return handler, param
