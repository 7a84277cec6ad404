"""The emulator's signature verifier against requests signed by the real oci SDK signers (no mocks)."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import importlib
import shutil
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jwt
import oci
import pytest
import requests

from oci_genai_emulator.auth import AuthError, Principal, Verifier
from oci_genai_emulator.credentials import (
    DEFAULT_COMPARTMENT,
    DEFAULT_TENANCY,
    ApiKey,
    Issuer,
    generate_api_key,
    new_rsa_key,
    rsa_jwk,
)

BASE = "http://127.0.0.1:8123"
CHAT_URL = f"{BASE}/20231130/actions/chat"
MODELS_URL = f"{BASE}/20231130/models?compartmentId={DEFAULT_COMPARTMENT}&limit=2"
BODY = b'{"compartmentId": "c", "chatRequest": {"apiFormat": "GENERIC"}}'


@dataclass(frozen=True)
class Signed:
    """What the emulator's HTTP server hands to Verifier.verify."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def sign(signer: Any, method: str, url: str = CHAT_URL, body: bytes | None = None) -> Signed:
    """Sign a prepared `requests` request the way the oci SDK clients do (`signer(request)`)."""
    headers = {"content-type": "application/json"} if body is not None else {}
    prepared = requests.Request(method, url, data=body, headers=headers).prepare()
    signer(prepared)
    lowered = {name.lower(): str(value) for name, value in prepared.headers.items()}
    raw = prepared.body if isinstance(prepared.body, bytes) else b""
    return Signed(method, prepared.path_url, lowered, raw)


def verify(verifier: Verifier, req: Signed) -> Principal:
    return verifier.verify(req.method, req.target, req.headers, req.body)


def assert_rejected(verifier: Verifier, req: Signed, reason: str) -> AuthError:
    with pytest.raises(AuthError) as info:
        verify(verifier, req)
    assert info.value.reason == reason, str(info.value)
    return info.value


def with_header(req: Signed, name: str, value: str | None) -> Signed:
    headers = {k: v for k, v in req.headers.items() if k != name}
    if value is not None:
        headers[name] = value
    return replace(req, headers=headers)


def sha256_b64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    # One issuer and one API key for the module: each RSA key costs tens of milliseconds to make.
    return Issuer.load_or_create(tmp_path_factory.mktemp("issuer") / "issuer.pem")


@pytest.fixture(scope="module")
def api_key_files(tmp_path_factory: pytest.TempPathFactory) -> ApiKey:
    return generate_api_key(tmp_path_factory.mktemp("apikey"))


@pytest.fixture
def verifier(issuer: Issuer) -> Verifier:
    return Verifier(issuer.public_key)


@pytest.fixture
def api_key(api_key_files: ApiKey, verifier: Verifier) -> ApiKey:
    verifier.register_api_key(api_key_files.key_id, api_key_files.public_pem)
    return api_key_files


@pytest.fixture
def api_signer(api_key: ApiKey) -> oci.signer.Signer:
    return oci.signer.Signer(
        api_key.tenancy, api_key.user, api_key.fingerprint, str(api_key.private_key_path)
    )


@pytest.fixture(scope="module")
def minted_rp(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Minted once (a session key each time costs ~75 ms); each test gets its own copy below.
    return issuer.mint_resource_principal(tmp_path_factory.mktemp("minted") / "rp")


@pytest.fixture
def rp_env(minted_rp: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # A copy per test, so a test that rotates the files rotates its own.
    source = Path(minted_rp["OCI_RESOURCE_PRINCIPAL_RPST"]).parent
    copy = shutil.copytree(source, tmp_path / "rp")
    env = {k: str(copy / Path(v).name) if v.startswith(str(source)) else v for k, v in minted_rp.items()}
    monkeypatch.delenv("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def rp_signer(rp_env: dict[str, str]) -> Any:
    return oci.auth.signers.get_resource_principals_signer()


@pytest.fixture(params=["api_key", "resource_principal"])
def signer(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("api_signer" if request.param == "api_key" else "rp_signer")


def make_rp_signer(issuer: Issuer, out_dir: Path, monkeypatch: pytest.MonkeyPatch, ttl: int) -> Any:
    for name, value in issuer.mint_resource_principal(out_dir, ttl_seconds=ttl).items():
        monkeypatch.setenv(name, value)
    return oci.auth.signers.get_resource_principals_signer()


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url", "body"), [("GET", MODELS_URL, None), ("POST", CHAT_URL, BODY)])
def test_sdk_signed_requests_are_accepted(
    verifier: Verifier, signer: Any, method: str, url: str, body: bytes | None
) -> None:
    principal = verify(verifier, sign(signer, method, url, body))
    assert principal.tenancy == DEFAULT_TENANCY
    if principal.kind == "api_key":
        assert principal.key_id == signer.api_key
        assert principal.compartment is None
    else:
        assert principal.kind == "resource_principal"
        assert principal.compartment == DEFAULT_COMPARTMENT


def test_get_signs_generic_headers_and_post_adds_body_headers(api_signer: Any) -> None:
    get = sign(api_signer, "GET", MODELS_URL)
    post = sign(api_signer, "POST", CHAT_URL, BODY)
    assert 'headers="date (request-target) host"' in get.headers["authorization"]
    assert (
        'headers="date (request-target) host content-length content-type x-content-sha256"'
        in post.headers["authorization"]
    )


def test_litellm_do_request_sign_path_is_accepted(
    verifier: Verifier, signer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import
    monkeypatch.setenv("LITELLM_MODE", "PRODUCTION")
    common_utils = importlib.import_module("litellm.llms.oci.common_utils")
    headers, body = common_utils.sign_with_oci_signer(
        {}, {"oci_signer": signer}, {"compartmentId": "c", "chatRequest": {}}, CHAT_URL
    )
    req = Signed("POST", "/20231130/actions/chat", {k.lower(): v for k, v in headers.items()}, body)
    assert verify(verifier, req).tenancy == DEFAULT_TENANCY


def test_instance_principal_token_is_accepted(issuer: Issuer, verifier: Verifier) -> None:
    session_key = new_rsa_key()
    token = issuer.mint_session_token(session_key.public_key(), kind="instance")
    signer = oci.auth.signers.SecurityTokenSigner(token, session_key)
    principal = verify(verifier, sign(signer, "POST", CHAT_URL, BODY))
    assert principal.kind == "instance_principal"
    assert principal.key_id.startswith("ocid1.instance.")


def test_sdk_reads_tenancy_compartment_and_region_from_minted_files(rp_signer: Any) -> None:
    assert rp_signer.tenancy_id == DEFAULT_TENANCY
    assert rp_signer.compartment_id == DEFAULT_COMPARTMENT
    assert rp_signer.region == "us-chicago-1"


def test_jwk_claim_may_be_a_json_object(tmp_path: Path) -> None:
    issuer_key, session_key = new_rsa_key(), new_rsa_key()
    now = int(time.time())
    claims = {"sub": "s", "ptype": "resource", "res_tenant": "t", "res_compartment": "c", "iat": now}
    claims |= {"exp": now + 600, "jwk": rsa_jwk(session_key.public_key())}
    token = jwt.encode(claims, issuer_key, algorithm="RS256")
    signer = oci.auth.signers.SecurityTokenSigner(token, session_key)
    principal = verify(Verifier(issuer_key.public_key()), sign(signer, "GET", MODELS_URL))
    assert principal == Principal("resource_principal", "s", "t", "c")


# --- rejected ---------------------------------------------------------------------------------


def test_tampered_body_is_rejected(verifier: Verifier, signer: Any) -> None:
    req = sign(signer, "POST", CHAT_URL, BODY)
    assert_rejected(verifier, replace(req, body=BODY.replace(b"GENERIC", b"COHERE!")), "body_digest_mismatch")


def test_body_of_other_length_is_rejected(verifier: Verifier, api_signer: Any) -> None:
    req = sign(api_signer, "POST", CHAT_URL, BODY)
    assert_rejected(verifier, replace(req, body=BODY + b" "), "content_length_mismatch")


def test_tampered_body_with_recomputed_digest_is_rejected(verifier: Verifier, api_signer: Any) -> None:
    req = sign(api_signer, "POST", CHAT_URL, BODY)
    other = BODY.replace(b"GENERIC", b"COHERE!")
    tampered = with_header(replace(req, body=other), "x-content-sha256", sha256_b64(other))
    assert_rejected(verifier, tampered, "bad_signature")


def one_second_later(date: str) -> str:
    return email.utils.formatdate(email.utils.parsedate_to_datetime(date).timestamp() + 1, usegmt=True)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("host", lambda _: "evil.example:8123"),
        ("content-type", lambda _: "text/plain"),
        ("date", one_second_later),  # still well inside the skew window
    ],
)
def test_changed_signed_header_is_rejected(
    verifier: Verifier, signer: Any, name: str, change: Callable[[str], str]
) -> None:
    req = sign(signer, "POST", CHAT_URL, BODY)
    value = change(req.headers[name])
    assert req.headers[name] != value
    assert_rejected(verifier, with_header(req, name, value), "bad_signature")


def test_changed_request_target_is_rejected(verifier: Verifier, signer: Any) -> None:
    req = sign(signer, "GET", MODELS_URL)
    assert_rejected(verifier, replace(req, target=req.target.replace("limit=2", "limit=3")), "bad_signature")
    assert_rejected(verifier, replace(req, method="DELETE"), "bad_signature")


def test_unregistered_api_key_is_rejected(verifier: Verifier, api_key: ApiKey, tmp_path: Path) -> None:
    stranger = generate_api_key(tmp_path / "stranger", user="ocid1.user.oc1..aaaaaaaastranger")
    signer = oci.signer.Signer(
        stranger.tenancy, stranger.user, stranger.fingerprint, str(stranger.private_key_path)
    )
    error = assert_rejected(verifier, sign(signer, "GET", MODELS_URL), "unknown_key")
    assert "BEGIN" not in str(error)


def test_api_key_id_signed_with_another_private_key_is_rejected(
    verifier: Verifier, api_key: ApiKey, tmp_path: Path
) -> None:
    impostor = generate_api_key(tmp_path / "impostor")
    signer = oci.signer.Signer(
        api_key.tenancy, api_key.user, api_key.fingerprint, str(impostor.private_key_path)
    )
    assert_rejected(verifier, sign(signer, "GET", MODELS_URL), "bad_signature")


def test_token_from_another_issuer_is_rejected(tmp_path: Path, rp_signer: Any) -> None:
    other = Issuer.load_or_create(tmp_path / "other-issuer.pem")
    error = assert_rejected(Verifier(other.public_key), sign(rp_signer, "GET", MODELS_URL), "invalid_token")
    assert "ey" not in str(error)  # the message never echoes the token


def test_token_signed_by_a_key_other_than_its_jwk_is_rejected(issuer: Issuer, verifier: Verifier) -> None:
    token = issuer.mint_session_token(new_rsa_key().public_key())
    signer = oci.auth.signers.SecurityTokenSigner(token, new_rsa_key())
    assert_rejected(verifier, sign(signer, "GET", MODELS_URL), "bad_signature")


def test_unsigned_token_is_rejected(verifier: Verifier) -> None:
    session_key = new_rsa_key()
    now = int(time.time())
    claims = {"sub": "s", "ptype": "resource", "res_tenant": "t", "iat": now, "exp": now + 600}
    claims["jwk"] = rsa_jwk(session_key.public_key())
    token = jwt.encode(claims, "", algorithm="none")
    signer = oci.auth.signers.SecurityTokenSigner(token, session_key)
    assert_rejected(verifier, sign(signer, "GET", MODELS_URL), "invalid_token")


def test_expired_token_is_rejected(issuer: Issuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signer = make_rp_signer(issuer, tmp_path / "rp", monkeypatch, ttl=120)
    req = sign(signer, "GET", MODELS_URL)
    # A wide skew window so that only the token's exp can be what rejects the request.
    late = Verifier(issuer.public_key, max_skew_seconds=10_000, clock=lambda: time.time() + 130)
    error = assert_rejected(late, req, "token_expired")
    assert "expired" in str(error)
    early = Verifier(issuer.public_key, max_skew_seconds=10_000, clock=lambda: time.time() + 100)
    assert verify(early, req).kind == "resource_principal"


@pytest.mark.parametrize("offset", [-400, 400])
def test_date_outside_skew_is_rejected(issuer: Issuer, signer: Any, api_key: ApiKey, offset: int) -> None:
    req = sign(signer, "GET", MODELS_URL)
    skewed = Verifier(issuer.public_key, max_skew_seconds=300, clock=lambda: time.time() + offset)
    skewed.register_api_key(api_key.key_id, api_key.public_pem)
    assert_rejected(skewed, req, "clock_skew")
    lenient = Verifier(issuer.public_key, max_skew_seconds=500, clock=lambda: time.time() + offset)
    lenient.register_api_key(api_key.key_id, api_key.public_pem)
    assert verify(lenient, req).tenancy == DEFAULT_TENANCY


def test_missing_authorization_is_rejected(verifier: Verifier, api_signer: Any) -> None:
    req = sign(api_signer, "GET", MODELS_URL)
    assert_rejected(verifier, with_header(req, "authorization", None), "missing_authorization")


@pytest.mark.parametrize("scheme", ["Bearer", "Basic", "Signatures"])
def test_other_authorization_scheme_is_rejected(verifier: Verifier, api_signer: Any, scheme: str) -> None:
    req = sign(api_signer, "GET", MODELS_URL)
    params = req.headers["authorization"].split(" ", 1)[1]
    assert_rejected(verifier, with_header(req, "authorization", f"{scheme} {params}"), "bad_authorization")


def test_malformed_signature_parameters_are_rejected(verifier: Verifier, api_signer: Any) -> None:
    req = sign(api_signer, "GET", MODELS_URL)
    auth = req.headers["authorization"]
    for bad in (auth.replace('version="1"', 'version="2"'), auth.replace("rsa-sha256", "hmac-sha256")):
        assert_rejected(verifier, with_header(req, "authorization", bad), "bad_authorization")


@pytest.mark.parametrize(
    ("method", "body", "sign_call"),
    [
        # A genuine signature over too few headers: the SDK signer re-configured to skip `host`.
        ("GET", None, lambda s: s.create_signers(s.api_key, s.private_key, ["date", "(request-target)"], [])),
        # The SDK's own opt-out for bodies: POST signed without content-length/type/x-content-sha256.
        ("POST", BODY, lambda s: None),
    ],
)
def test_signature_over_too_few_headers_is_rejected(
    verifier: Verifier,
    api_signer: Any,
    method: str,
    body: bytes | None,
    sign_call: Callable[[Any], None],
) -> None:
    sign_call(api_signer)
    signer = api_signer if method == "GET" else api_signer.without_content_headers
    assert_rejected(verifier, sign(signer, method, CHAT_URL, body), "missing_signed_header")


def test_signed_header_absent_from_request_is_rejected(verifier: Verifier, signer: Any) -> None:
    req = sign(signer, "POST", CHAT_URL, BODY)
    assert_rejected(verifier, with_header(req, "x-content-sha256", None), "missing_header")


def test_header_lookup_is_case_insensitive(verifier: Verifier, api_signer: Any) -> None:
    req = sign(api_signer, "POST", CHAT_URL, BODY)
    mixed: Mapping[str, str] = {name.title(): value for name, value in req.headers.items()}
    assert verifier.verify("post", req.target, mixed, req.body).kind == "api_key"


def test_register_api_key_rejects_a_fingerprint_of_another_key(
    verifier: Verifier, api_key: ApiKey, tmp_path: Path
) -> None:
    other = generate_api_key(tmp_path / "other")
    with pytest.raises(ValueError, match="fingerprint"):
        verifier.register_api_key(api_key.key_id, other.public_pem)


# --- rotation and files -----------------------------------------------------------------------


def test_rotation_near_expiry_is_picked_up_by_the_sdk_and_verifies(
    issuer: Issuer, verifier: Verifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ttl below the SDK's 60 s refresh margin: get_security_token() must re-read the files.
    signer = make_rp_signer(issuer, tmp_path / "rp", monkeypatch, ttl=45)
    first = sign(signer, "POST", CHAT_URL, BODY)
    issuer.mint_resource_principal(tmp_path / "rp", ttl_seconds=45)
    signer.get_security_token()
    second = sign(signer, "POST", CHAT_URL, BODY)
    assert (
        first.headers["authorization"].split("keyId=")[1]
        != second.headers["authorization"].split("keyId=")[1]
    )
    assert verify(verifier, first) == verify(verifier, second)


def test_sdk_keeps_a_fresh_token_until_forced_to_refresh(
    issuer: Issuer, verifier: Verifier, rp_env: dict[str, str], rp_signer: Any
) -> None:
    old = rp_signer.get_security_token()
    issuer.mint_resource_principal(Path(rp_env["OCI_RESOURCE_PRINCIPAL_RPST"]).parent)
    assert rp_signer.get_security_token() == old  # far from expiry: files are not re-read
    new = rp_signer.refresh_security_token()
    assert new != old
    assert new == Path(rp_env["OCI_RESOURCE_PRINCIPAL_RPST"]).read_text()
    assert f'keyId="ST${new}"' in sign(rp_signer, "GET", MODELS_URL).headers["authorization"]
    assert verify(verifier, sign(rp_signer, "GET", MODELS_URL)).kind == "resource_principal"


def test_private_files_are_owner_only(tmp_path: Path, api_key: ApiKey) -> None:
    issuer = Issuer.load_or_create(tmp_path / "issuer.pem")
    env = issuer.mint_resource_principal(tmp_path / "rp")
    issuer.mint_resource_principal(tmp_path / "rp")  # rotation keeps the mode
    paths = [
        tmp_path / "issuer.pem",
        Path(env["OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"]),
        Path(env["OCI_RESOURCE_PRINCIPAL_RPST"]),
        api_key.private_key_path,
    ]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert sorted(p.name for p in (tmp_path / "rp").iterdir()) == ["private.pem", "rpst"]  # no temp left


def test_minted_paths_are_absolute(issuer: Issuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = issuer.mint_resource_principal(Path("relative"))
    assert Path(env["OCI_RESOURCE_PRINCIPAL_RPST"]).is_absolute()
    assert Path(env["OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"]).is_absolute()
    assert "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE" not in env


def test_issuer_key_is_reused_across_loads(tmp_path: Path) -> None:
    issuer = Issuer.load_or_create(tmp_path / "issuer.pem")
    again = Issuer.load_or_create(tmp_path / "issuer.pem")
    assert again.public_key.public_numbers() == issuer.public_key.public_numbers()
