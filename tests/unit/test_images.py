"""Remote images: the address classifier, URL/type checks and message rewriting (no network)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from typing import Any

import pytest

from oci_genai_gateway.core.chat.request import parse
from oci_genai_gateway.core.errors import ConfigError, InvalidRequest
from oci_genai_gateway.core.input.egress import is_public
from oci_genai_gateway.core.input.images import ImageFetcher, inline_images, sniff
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.targets import Target

NOT_PUBLIC = [
    "0.0.0.0",  # unspecified / "this network"
    "0.1.2.3",
    "10.0.0.1",  # RFC 1918
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "169.254.169.254",  # link-local: the cloud metadata service
    "169.254.0.1",
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "192.0.0.9",  # IETF protocol assignments
    "192.0.2.1",  # documentation
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",  # benchmarking
    "192.88.99.1",  # 6to4 relay anycast
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "::",  # unspecified
    "::1",  # loopback
    "::a00:1",  # IPv4-compatible 10.0.0.1
    "fc00::1",  # ULA
    "fd00::1",
    "fe80::1",  # link-local
    "fe80::1%eth0",
    "fec0::1",  # site-local
    "ff02::1",  # multicast
    "ff0e::1",
    "2001:db8::1",  # documentation
    "3fff::1",
    "2001::1",  # Teredo
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:808:808::1",  # 6to4, even of a public address (deprecated tunnelling)
    "100::1",  # discard-only
    "64:ff9b:1::1",  # local-use NAT64
    "5f00::1",  # SRv6
    "::ffff:127.0.0.1",  # IPv4-mapped forms judged by their IPv4
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:100.64.0.1",
    "::ffff:0.0.0.0",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.1",  # just above
    "172.32.0.1",  # just outside 172.16.0.0/12
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",  # mapped public IPv4
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"<!DOCTYPE html><html>", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_sniff_trusts_only_the_magic_bytes(head: bytes, mime: str | None) -> None:
    assert sniff(head) == mime


async def never_resolve(host: str, port: int) -> Sequence[str]:
    raise AssertionError(f"resolved {host} although the URL should have been refused first")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://images.example/cat.png", "only https"),
        ("ftp://images.example/cat.png", "only https"),
        ("file:///etc/passwd", "only https"),
        ("gopher://images.example/", "only https"),
        ("https://user:secret@images.example/cat.png", "credentials"),
        ("https:///cat.png", "not valid|no host"),
    ],
)
async def test_bad_urls_are_refused_before_any_lookup(url: str, reason: str) -> None:
    fetcher = ImageFetcher(resolver=never_resolve)
    with pytest.raises(InvalidRequest, match=reason) as info:
        await fetcher.fetch(url, "messages[0].content[1].image_url")
    assert info.value.status == 400
    assert info.value.param == "messages[0].content[1].image_url"
    assert "secret" not in info.value.message


class FakeFetcher(ImageFetcher):
    """Answers from a table and records how many fetches overlap."""

    def __init__(self, **limits: Any) -> None:
        super().__init__(resolver=never_resolve, **limits)
        self.active = self.peak = 0

    async def fetch(self, url: str, param: str) -> str:
        self.active += 1
        self.peak = max(self.peak, self.active)
        for _ in range(3):  # yield to the other fetches without waiting on a clock
            await asyncio.sleep(0)
        self.active -= 1
        if "bad" in url:
            raise InvalidRequest("refused", param=param)
        return f"data:image/png;base64,{url.rsplit('/', 1)[-1]}"


def user(*parts: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(parts)}


def image(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, **extra}}


async def test_messages_without_remote_images_are_returned_as_they_are() -> None:
    messages = [{"role": "system", "content": "be brief"}, user(image("data:image/png;base64,AAAA"))]
    assert await inline_images(messages, FakeFetcher()) is messages


async def test_remote_images_become_data_urls_and_the_input_is_not_changed() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        user({"type": "text", "text": "what?"}, image("https://a.example/QUFB", detail="low")),
        user({"type": "image_url", "image_url": "https://b.example/QkJC"}, image("data:image/gif;base64,R0")),
    ]
    out = await inline_images(messages, FakeFetcher())
    assert out[0] is messages[0]
    assert out[1]["content"][1] == image("data:image/png;base64,QUFB", detail="low")
    assert out[2]["content"][0] == {"type": "image_url", "image_url": "data:image/png;base64,QkJC"}
    assert out[2]["content"][1] == image("data:image/gif;base64,R0")
    assert messages[1]["content"][1]["image_url"]["url"] == "https://a.example/QUFB"


async def test_fetches_run_concurrently_but_bounded() -> None:
    fetcher = FakeFetcher(concurrency=2, max_images=8)
    messages = [user(*(image(f"https://a.example/{i}") for i in range(6)))]
    out = await inline_images(messages, fetcher)
    assert [p["image_url"]["url"] for p in out[0]["content"]] == [
        f"data:image/png;base64,{i}" for i in range(6)
    ]
    assert fetcher.peak == 2


async def test_one_failure_is_the_answer_and_names_its_part() -> None:
    messages = [
        user(image("https://a.example/ok")),
        user({"type": "text", "text": "x"}, image("https://bad/x")),
    ]
    with pytest.raises(InvalidRequest) as info:
        await inline_images(messages, FakeFetcher())
    assert info.value.param == "messages[1].content[1].image_url"


async def test_too_many_remote_images_is_a_400() -> None:
    messages = [user(*(image(f"https://a.example/{i}") for i in range(3)))]
    with pytest.raises(InvalidRequest, match="at most 2") as info:
        await inline_images(messages, FakeFetcher(max_images=2))
    assert info.value.param == "messages"


def body(url: str) -> dict[str, Any]:
    parts = [{"type": "text", "text": "what?"}, image(url)]
    return {"model": "m", "messages": [{"role": "user", "content": parts}]}


@pytest.mark.parametrize("url", ["https://images.example/cat.png", "HTTPS://images.example/cat.png"])
def test_validation_accepts_https_only_when_fetching_is_on(url: str) -> None:
    assert parse(body(url), Target, fetch_images=True).messages[0]["content"][1]["image_url"]["url"] == url
    with pytest.raises(InvalidRequest, match="does not fetch remote URLs") as info:
        parse(body(url), Target)
    assert info.value.param == "messages[0].content[1].image_url"


@pytest.mark.parametrize(
    "url", ["http://images.example/cat.png", "file:///etc/passwd", "ftp://x/y.png", "cat.png"]
)
def test_validation_refuses_other_schemes_even_when_fetching_is_on(url: str) -> None:
    with pytest.raises(InvalidRequest, match="https://") as info:
        parse(body(url), Target, fetch_images=True)
    assert info.value.param == "messages[0].content[1].image_url"


BASE = {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..aaaa"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, True), ("", True), ("true", True), ("FALSE", False), ("0", False), ("yes", True)],
)
def test_the_fetch_setting(raw: str | None, expected: bool) -> None:
    env = BASE if raw is None else {**BASE, "GATEWAY_FETCH_IMAGE_URLS": raw}
    assert Settings.from_env(env).fetch_image_urls is expected


def test_a_bad_fetch_setting_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="GATEWAY_FETCH_IMAGE_URLS"):
        Settings.from_env({**BASE, "GATEWAY_FETCH_IMAGE_URLS": "sometimes"})
