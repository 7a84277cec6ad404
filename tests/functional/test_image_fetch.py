"""Image fetching against a real HTTPS server on 127.0.0.1 (never the internet): the SSRF guard and limits.

Host names are mapped to addresses by an injected resolver, and loopback is reachable only where a test
explicitly allows 127.0.0.1, so every refusal below is the production guard's.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import logging
import socket
import ssl
import struct
import threading
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from oci_genai_gateway.core.chat.request import parse
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.images import ImageFetcher, inline_images
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.targets import Target

PARAM = "messages[0].content[1].image_url"
HOST_NAMES = ["images.test", "other.test"]


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, red) PNG file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png()


@dataclass
class Tls:
    """A test CA and a server certificate it signed for HOST_NAMES and 127.0.0.1."""

    ca_pem: bytes
    server: ssl.SSLContext

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca_pem.decode())


def make_tls(directory: Any) -> Tls:
    now = datetime.datetime.now(datetime.UTC)

    def cert(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        else:
            names: list[x509.GeneralName] = [x509.DNSName(n) for n in HOST_NAMES]
            names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
            builder = (
                builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
                )
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("test image CA", ca_key, "test image CA", ca_key, ca=True)
    leaf = cert("images.test", leaf_key, "test image CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (directory / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (directory / "leaf.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(directory / "leaf.pem", directory / "leaf.key")
    return Tls(ca.public_bytes(pem), server)


class ImageServer(ThreadingHTTPServer):
    """HTTPS on 127.0.0.1 only; records (path, Host) of every request it reads."""

    daemon_threads = True

    def __init__(self, tls: Tls) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.socket = tls.server.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.server_address[1]
        self.seen: list[tuple[str, str]] = []
        self.stop = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # refused handshakes and clients that hang up are the point of several tests


class Handler(BaseHTTPRequestHandler):
    """The routes the tests fetch (HTTP/1.0: a body without a length ends when the connection does)."""

    server: ImageServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Host", "")))
        path, _, query = self.path.partition("?")
        if path in ("/cat.png", "/labelled-jpeg"):
            kind = "image/png" if path == "/cat.png" else "image/jpeg"
            self.reply(200, {"Content-Type": kind, "Content-Length": str(len(PNG))}, PNG)
        elif path == "/page.html":
            self.reply(200, {"Content-Type": "text/html"}, b"<html>internal admin page</html>")
        elif path == "/liar.png":
            self.reply(200, {"Content-Type": "image/png"}, b"<html>internal admin page</html>")
        elif path == "/missing.png":
            self.reply(404, {"Content-Type": "text/plain"}, b"internal detail")
        elif path == "/big.png":  # no Content-Length: only counting the stream can stop it
            self.reply(200, {"Content-Type": "image/png"}, PNG + b"\x00" * 65536)
        elif path == "/big-declared.png":
            self.reply(200, {"Content-Type": "image/png", "Content-Length": str(10**9)}, PNG)
        elif path == "/redirect":
            self.reply(302, {"Location": urllib.parse.parse_qs(query)["to"][0], "Content-Length": "0"})
        elif path == "/stall":
            self.server.stop.wait(30)
        elif path == "/drip.png":  # each read is quick; only the total limit ends it
            self.reply(200, {"Content-Type": "image/png", "Content-Length": str(10**6)}, PNG)
            while not self.server.stop.wait(0.05):
                self.wfile.write(b"\x00")
                self.wfile.flush()
        else:
            self.reply(404, {})


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("image-tls"))


@pytest.fixture(scope="session")
def image_server(tls: Tls) -> Iterator[ImageServer]:
    server = ImageServer(tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(image_server: ImageServer) -> ImageServer:
    image_server.seen.clear()
    return image_server


class Dns:
    """An injected resolver: `table` answers a first lookup, `later` (when it has the name) any other."""

    def __init__(
        self, table: Mapping[str, Sequence[str]], later: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.table = table
        self.later = later or {}
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        again = host in self.lookups
        self.lookups.append(host)
        if again and host in self.later:
            return self.later[host]
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return self.table[host]


class Recording(httpcore.AsyncNetworkBackend):
    """The network under the guard: records connects, optionally lands them somewhere else."""

    def __init__(self, land_on: tuple[str, int] | None = None) -> None:
        self.land_on = land_on
        self.connects: list[tuple[str, int]] = []
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        if self.land_on is not None:
            host, port = self.land_on
        return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def only(*addresses: str) -> Any:
    """An allow-list for tests: exactly these addresses (production default: public only)."""
    allowed = {ipaddress.ip_address(a) for a in addresses}
    return lambda address: address in allowed


LOOPBACK = only("127.0.0.1")


@dataclass
class Setup:
    dns: Dns
    net: Recording = field(default_factory=Recording)


def fetcher(tls: Tls, setup: Setup, allow: Any = LOOPBACK, **limits: Any) -> ImageFetcher:
    return ImageFetcher(
        allow_address=allow, resolver=setup.dns, ssl_context=tls.client(), network_backend=setup.net, **limits
    )


async def refused(fetcher: ImageFetcher, url: str, match: str) -> InvalidRequest:
    with pytest.raises(InvalidRequest, match=match) as info:
        await fetcher.fetch(url, PARAM)
    assert info.value.status == 400
    assert info.value.param == PARAM
    assert "internal" not in info.value.message
    return info.value


async def test_an_https_image_becomes_a_data_url(
    tls: Tls, server: ImageServer, caplog: pytest.LogCaptureFixture
) -> None:
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}))
    body = {
        "model": "m",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": f"https://images.test:{server.port}/cat.png?sig=s3"},
                    },
                ],
            }
        ],
    }
    request = parse(body, Target, fetch_images=True)
    with caplog.at_level(logging.DEBUG):
        messages = await inline_images(request.messages, fetcher(tls, setup))
    encoded = base64.b64encode(PNG).decode()
    assert messages[0]["content"][1]["image_url"]["url"] == f"data:image/png;base64,{encoded}"
    # The original Host (and SNI: the certificate names images.test, not the address we connected to).
    assert server.seen == [("/cat.png?sig=s3", f"images.test:{server.port}")]
    assert setup.net.connects == [("127.0.0.1", server.port)]
    logged = " ".join(str(r.__dict__) for r in caplog.records)
    assert "images.test" in logged
    assert "sig=s3" not in logged
    assert encoded[:16] not in logged


async def test_the_bytes_decide_the_type_not_the_label(tls: Tls, server: ImageServer) -> None:
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}))
    url = await fetcher(tls, setup).fetch(f"https://images.test:{server.port}/labelled-jpeg", PARAM)
    assert url.startswith("data:image/png;base64,")


async def test_loopback_is_refused_unless_the_fetcher_allows_it(tls: Tls, server: ImageServer) -> None:
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}))
    fetch = ImageFetcher(resolver=setup.dns, ssl_context=tls.client(), network_backend=setup.net)
    error = await refused(fetch, f"https://images.test:{server.port}/cat.png", "non-public address")
    assert "127.0.0.1" not in error.message
    assert "images.test" in error.message
    assert setup.net.connects == []
    assert server.seen == []


@pytest.mark.parametrize(
    "answer",
    [
        ["10.0.0.1"],
        ["172.16.5.4"],
        ["192.168.0.1"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["127.0.0.1"],
        ["0.0.0.0"],
        ["255.255.255.255"],
        ["224.0.0.251"],
        ["192.0.2.10"],
        ["::1"],
        ["::"],
        ["fd00::1"],
        ["fe80::1"],
        ["ff02::1"],
        ["2001:db8::1"],
        ["::ffff:127.0.0.1"],
        ["::ffff:169.254.169.254"],
        ["64:ff9b::a00:1"],
        ["8.8.8.8", "10.0.0.1"],  # every address must pass, not just one
        ["2606:4700:4700::1111", "fd00::1"],
    ],
)
async def test_non_public_answers_are_refused_before_any_connection(tls: Tls, answer: list[str]) -> None:
    setup = Setup(Dns({"images.test": answer}))
    fetch = ImageFetcher(resolver=setup.dns, ssl_context=tls.client(), network_backend=setup.net)
    error = await refused(fetch, "https://images.test/cat.png", "non-public address")
    assert all(address not in error.message for address in answer)
    assert setup.net.connects == []


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data/", "https://[::1]/x.png"])
async def test_address_literals_are_checked_too(tls: Tls, url: str) -> None:
    setup = Setup(Dns({}))
    fetch = ImageFetcher(resolver=setup.dns, ssl_context=tls.client(), network_backend=setup.net)
    await refused(fetch, url, "non-public address")
    assert setup.net.connects == []
    assert setup.dns.lookups == []


async def test_unknown_hosts_are_a_400(tls: Tls) -> None:
    setup = Setup(Dns({}))
    await refused(fetcher(tls, setup), "https://nowhere.test/cat.png", "could not be resolved")


async def test_dns_rebinding_cannot_move_the_connection(tls: Tls, server: ImageServer) -> None:
    # Checked first, then a non-allowed address for every later lookup: the connection still goes to the
    # address that was checked (a name-based connect would have looked up again and failed).
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}, later={"images.test": ["127.0.0.2"]}))
    url = await fetcher(tls, setup).fetch(f"https://images.test:{server.port}/cat.png", PARAM)
    assert url.startswith("data:image/png;base64,")
    assert setup.dns.lookups == ["images.test"]
    assert setup.net.connects == [("127.0.0.1", server.port)]


async def test_every_new_connection_is_resolved_and_checked_again(tls: Tls, server: ImageServer) -> None:
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}, later={"images.test": ["127.0.0.2"]}))
    again = urllib.parse.quote(f"https://images.test:{server.port}/cat.png")
    await refused(
        fetcher(tls, setup), f"https://images.test:{server.port}/redirect?to={again}", "non-public address"
    )
    assert setup.net.connects == [("127.0.0.1", server.port)]
    assert [path for path, _ in server.seen] == [f"/redirect?to={again}"]


async def test_the_connected_peer_is_what_is_checked(tls: Tls, server: ImageServer) -> None:
    # The resolver's address passes, but the network lands the connection on 127.0.0.1, which does not.
    setup = Setup(Dns({"images.test": ["127.0.0.2"]}), Recording(land_on=("127.0.0.1", server.port)))
    url = f"https://images.test:{server.port}/cat.png"
    await refused(fetcher(tls, setup, allow=only("127.0.0.2")), url, "non-public address")
    assert setup.net.connects == [("127.0.0.2", server.port)]
    assert server.seen == []  # closed before TLS, before any byte of the request
    # The same landing with 127.0.0.1 allowed too goes through: the peer check was the only refusal.
    setup = Setup(Dns({"images.test": ["127.0.0.2"]}), Recording(land_on=("127.0.0.1", server.port)))
    assert (await fetcher(tls, setup, allow=only("127.0.0.2", "127.0.0.1")).fetch(url, PARAM)).startswith(
        "data:"
    )


async def test_redirects_are_followed_and_each_hop_is_checked(tls: Tls, server: ImageServer) -> None:
    port = server.port
    setup = Setup(
        Dns({"images.test": ["127.0.0.1"], "other.test": ["127.0.0.1"], "private.test": ["10.0.0.1"]})
    )
    fetch = fetcher(tls, setup)
    to = urllib.parse.quote(f"https://other.test:{port}/cat.png")
    assert (await fetch.fetch(f"https://images.test:{port}/redirect?to={to}", PARAM)).startswith("data:")
    assert server.seen[-1] == ("/cat.png", f"other.test:{port}")
    assert (await fetch.fetch(f"https://images.test:{port}/redirect?to=/cat.png", PARAM)).startswith("data:")
    setup.net.connects.clear()
    to = urllib.parse.quote(f"https://private.test:{port}/cat.png")
    await refused(fetch, f"https://images.test:{port}/redirect?to={to}", "non-public address")
    assert setup.net.connects == [("127.0.0.1", port)]
    to = urllib.parse.quote(f"http://images.test:{port}/cat.png")
    await refused(fetch, f"https://images.test:{port}/redirect?to={to}", "only https")
    loop = urllib.parse.quote(f"/redirect?to={urllib.parse.quote('/redirect?to=/redirect')}")
    to = urllib.parse.quote(f"/redirect?to={loop}")
    await refused(fetch, f"https://images.test:{port}/redirect?to={to}", "more than 3 redirects")


async def test_http_is_refused_without_connecting(tls: Tls, server: ImageServer) -> None:
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}))
    await refused(fetcher(tls, setup), f"http://images.test:{server.port}/cat.png", "only https")
    assert setup.net.connects == []


@pytest.mark.parametrize("path", ["/big.png", "/big-declared.png"])
async def test_images_over_the_limit_are_refused(tls: Tls, server: ImageServer, path: str) -> None:
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}))
    limited = fetcher(tls, setup, max_bytes=4096)
    await refused(limited, f"https://images.test:{server.port}{path}", "larger than 4096 bytes")


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("/page.html", "content type 'text/html' is not PNG"),
        ("/liar.png", "not a PNG, JPEG, GIF or WebP image"),
        ("/missing.png", "HTTP 404"),
    ],
)
async def test_what_is_not_an_image_is_refused(tls: Tls, server: ImageServer, path: str, match: str) -> None:
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}))
    await refused(fetcher(tls, setup), f"https://images.test:{server.port}{path}", match)


@pytest.mark.parametrize("path", ["/stall", "/drip.png"])
async def test_slow_servers_are_refused_within_the_time_limit(
    tls: Tls, server: ImageServer, path: str
) -> None:
    setup = Setup(Dns({"images.test": ["127.0.0.1"]}))
    await refused(
        fetcher(tls, setup, total_seconds=0.5), f"https://images.test:{server.port}{path}", "within 0.5 s"
    )


async def test_certificates_are_verified_by_default(tls: Tls, server: ImageServer) -> None:
    dns = Dns({"images.test": ["127.0.0.1"]})
    fetch = ImageFetcher(allow_address=LOOPBACK, resolver=dns)  # the public CAs: our test CA is not one
    await refused(fetch, f"https://images.test:{server.port}/cat.png", "TLS")


async def test_the_certificate_must_name_the_host_not_the_address(tls: Tls, server: ImageServer) -> None:
    # The certificate is valid for 127.0.0.1 but not for wrong.test: verification uses the host name.
    setup = Setup(Dns({"wrong.test": ["127.0.0.1"]}))
    await refused(fetcher(tls, setup), f"https://wrong.test:{server.port}/cat.png", "TLS")


async def test_with_the_setting_off_remote_urls_keep_the_400(server: ImageServer) -> None:
    settings = Settings.from_env(
        {
            "GATEWAY_REGION": "us-chicago-1",
            "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..aaaa",
            "GATEWAY_FETCH_IMAGE_URLS": "false",
        }
    )
    url = f"https://images.test:{server.port}/cat.png"
    body = {
        "model": "m",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "?"}, {"type": "image_url", "image_url": {"url": url}}],
            }
        ],
    }
    with pytest.raises(InvalidRequest, match="does not fetch remote URLs") as info:
        parse(body, settings.target_of, fetch_images=settings.fetch_image_urls)
    assert info.value.param == PARAM
    assert server.seen == []


async def test_the_gateway_sends_oci_the_fetched_image_as_a_data_url(tls: Tls, server: ImageServer) -> None:
    from tests.fakes import ScriptedOci, gateway, generic_answer, send

    oci = ScriptedOci().enqueue(generic_answer("a cat"))
    gw, _ = gateway(oci, images=fetcher(tls, Setup(Dns({"images.test": ["127.0.0.1"]}))))
    image = {"type": "image_url", "image_url": {"url": f"https://images.test:{server.port}/cat.png"}}
    content = [{"type": "text", "text": "what is this?"}, image]
    body = {
        "model": "meta.llama-4-maverick-17b-128e-instruct-fp8",
        "messages": [{"role": "user", "content": content}],
    }
    reply = await send(gw, "POST", "/v1/chat/completions", json.dumps(body).encode())
    assert reply.status == 200
    parts = oci.sent[0].body["chatRequest"]["messages"][0]["content"]
    urls = [p["imageUrl"]["url"] for p in parts if p["type"] == "IMAGE"]
    assert urls == [f"data:image/png;base64,{base64.b64encode(PNG).decode()}"]
