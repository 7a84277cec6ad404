"""Remote image URLs in chat messages, fetched for the client and passed to OCI as data URLs."""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import urllib.parse
from typing import Any

import certifi
import httpcore
import httpx

from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.egress import (
    AddressCheck,
    GuardedBackend,
    Refused,
    Resolver,
    is_public,
    system_resolver,
)

log = logging.getLogger(__name__)

# OCI takes images as base64 data URLs only, and its Console caps an image at 5 MB
# (https://docs.oracle.com/en-us/iaas/Content/generative-ai/meta-llama-3-2-90b.htm); the data URL
# is 4/3 of that (~6.7 MB) in the request to OCI.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
TOTAL_SECONDS = 10.0  # per image, all redirects included
CONNECT_SECONDS = 5.0  # per connection attempt
MAX_REDIRECTS = 3
# Per request: bounds the memory one request makes us hold (each image is held raw, base64 and in
# the JSON to OCI; the chat function has 512 MB), and, all in flight at once, the added latency.
MAX_IMAGES = 4
CONCURRENCY = 4
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def sniff(head: bytes) -> str | None:
    """The image type the leading bytes prove (or None)."""
    # The signatures of https://mimesniff.spec.whatwg.org/#matching-an-image-type-pattern
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:14] == b"WEBPVP":
        return "image/webp"
    return None


class ImageFetcher:
    """Fetches https images from public addresses only, within size, type, time and redirect limits."""

    def __init__(
        self,
        *,
        allow_address: AddressCheck = is_public,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        max_bytes: int = MAX_IMAGE_BYTES,
        total_seconds: float = TOTAL_SECONDS,
        connect_seconds: float = CONNECT_SECONDS,
        max_redirects: int = MAX_REDIRECTS,
        max_images: int = MAX_IMAGES,
        concurrency: int = CONCURRENCY,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        # `allow_address` widens or narrows "public only" (e.g. an internal image host); tests use it
        # to reach their 127.0.0.1 servers. `network_backend` is what the guard wraps.
        self.backend = GuardedBackend(allow_address, resolver, network_backend)
        self.ssl_context = ssl_context or ssl.create_default_context(cafile=certifi.where())
        self.max_bytes = max_bytes
        self.total_seconds = total_seconds
        self.connect_seconds = connect_seconds
        self.max_redirects = max_redirects
        self.max_images = max_images
        self.concurrency = concurrency

    async def fetch(self, url: str, param: str) -> str:
        """The image at `url` as a data URL; InvalidRequest naming `param` for every failure."""
        host = "the image host"
        try:
            host = _parse(url).host or host
            async with asyncio.timeout(self.total_seconds):
                mime, body = await self._follow(url)
        except Refused as exc:
            reason = str(exc)
        except (TimeoutError, httpcore.TimeoutException):
            reason = f"no complete answer within {self.total_seconds:g} s"
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, OSError):
            reason = "the connection or TLS handshake failed"
        else:
            facts = {"image_host": host, "image_type": mime, "image_bytes": len(body)}
            log.info("image fetched", extra=facts)  # never the bytes, nor the URL's path or query
            return f"data:{mime};base64,{base64.b64encode(body).decode('ascii')}"
        log.warning("image fetch refused", extra={"image_host": host, "reason": reason})
        message = f"Invalid '{param}': could not fetch the image from {host}: {reason}."
        raise InvalidRequest(message, param=param)

    async def _follow(self, url: str) -> tuple[str, bytes]:
        # Every hop is a new request through the guard, so each address is checked again.
        async with httpcore.AsyncConnectionPool(
            ssl_context=self.ssl_context, network_backend=self.backend, http1=True, http2=False, retries=0
        ) as pool:
            for _ in range(self.max_redirects + 1):
                target = _parse(url)
                async with pool.stream(
                    "GET",
                    httpcore.URL(
                        scheme=b"https", host=target.raw_host, port=target.port, target=target.raw_path
                    ),
                    headers=[
                        (b"Host", target.netloc),
                        (b"Accept", ", ".join(sorted(IMAGE_TYPES)).encode()),
                        (b"Accept-Encoding", b"identity"),
                        (b"User-Agent", b"oci-genai-gateway (image fetch)"),
                    ],
                    extensions={"timeout": self._timeouts()},
                ) as response:
                    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
                    if response.status in _REDIRECTS and "location" in headers:
                        url = urllib.parse.urljoin(url, headers["location"])
                        continue
                    return await self._image(response, headers)
        raise Refused(f"more than {self.max_redirects} redirects")

    async def _image(self, response: httpcore.Response, headers: dict[str, str]) -> tuple[str, bytes]:
        if response.status != 200:
            raise Refused(f"the server answered HTTP {response.status}")
        declared = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if declared not in IMAGE_TYPES:
            raise Refused(f"the content type {declared[:40] or 'none'!r} is not PNG, JPEG, GIF or WebP")
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise Refused(f"the image is larger than {self.max_bytes} bytes")
        body = bytearray()
        async for chunk in response.aiter_stream():
            body += chunk
            if len(body) > self.max_bytes:
                raise Refused(f"the image is larger than {self.max_bytes} bytes")
        # Servers mislabel; the bytes decide, so a lying server cannot pass off HTML as an image.
        mime = sniff(bytes(body[:16]))
        if mime is None:
            raise Refused("the body is not a PNG, JPEG, GIF or WebP image")
        return mime, bytes(body)

    def _timeouts(self) -> dict[str, float]:
        return {
            "connect": self.connect_seconds,
            "read": self.total_seconds,
            "write": self.total_seconds,
            "pool": self.connect_seconds,
        }


def _parse(url: str) -> httpx.URL:
    """An https URL with a host and no credentials; Refused otherwise."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise Refused("the URL is not valid") from None
    if parsed.scheme != "https":
        raise Refused("only https:// image URLs are fetched")
    if not parsed.raw_host:
        raise Refused("the URL has no host")
    if parsed.userinfo:
        raise Refused("the URL must not contain credentials")
    return parsed


def _remote_url(part: Any) -> str | None:
    """The URL of an image part unless it is already a data URL."""
    if not isinstance(part, dict) or part.get("type") != "image_url":
        return None
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    return url if isinstance(url, str) and not url.startswith("data:") else None


def _with_url(part: dict[str, Any], url: str) -> dict[str, Any]:
    image = part["image_url"]
    return {**part, "image_url": {**image, "url": url} if isinstance(image, dict) else url}


async def inline_images(messages: list[dict[str, Any]], fetcher: ImageFetcher) -> list[dict[str, Any]]:
    """`messages` with every remote image URL replaced by a data URL (fetched concurrently, bounded)."""
    wanted = [
        (i, j, url)
        for i, message in enumerate(messages)
        if isinstance(message.get("content"), list)
        for j, part in enumerate(message["content"])
        if (url := _remote_url(part)) is not None
    ]
    if not wanted:
        return messages
    if len(wanted) > fetcher.max_images:
        raise InvalidRequest(
            f"Too many image URLs: at most {fetcher.max_images} per request are fetched; "
            "send the others as data URLs.",
            param="messages",
        )
    gate = asyncio.Semaphore(fetcher.concurrency)

    async def one(i: int, j: int, url: str) -> str:
        async with gate:
            return await fetcher.fetch(url, f"messages[{i}].content[{j}].image_url")

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(i, j, url)) for i, j, url in wanted]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None  # the first failure; the other fetches were cancelled
    out = list(messages)
    for i in {i for i, _, _ in wanted}:
        out[i] = {**messages[i], "content": list(messages[i]["content"])}  # the caller's lists stay as sent
    for (i, j, _), task in zip(wanted, tasks, strict=True):
        out[i]["content"][j] = _with_url(out[i]["content"][j], task.result())
    return out
