"""Verify OCI HTTP request signatures (draft-cavage, as the OCI SDK signs them)."""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

# What oci.signer.Signer and SecurityTokenSigner sign: GET/HEAD/DELETE sign the generic set,
# POST/PUT/PATCH (with enforce_content_headers=True, which LiteLLM always passes) add the body set.
GENERIC_HEADERS: Final = frozenset({"(request-target)", "host"})
DATE_HEADERS: Final = ("x-date", "date")  # OCI accepts either; x-date wins when both are signed
BODY_HEADERS: Final = frozenset({"content-length", "content-type", "x-content-sha256"})
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
TOKEN_PREFIX: Final = "ST$"  # noqa: S105 - a keyId prefix, not a secret

_PARAM_RE: Final = re.compile(r'\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')
_PTYPES: Final[dict[str, Literal["resource_principal", "instance_principal"]]] = {
    "resource": "resource_principal",
    "instance": "instance_principal",
}


class AuthError(Exception):
    """A request failed authentication; str(e) is safe to log and to return to the caller."""

    def __init__(self, message: str, *, reason: str = "not_authenticated") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    """Who signed a request."""

    kind: Literal["api_key", "resource_principal", "instance_principal"]
    key_id: str
    tenancy: str
    compartment: str | None


@dataclass(frozen=True)
class _SignatureParams:
    key_id: str
    headers: tuple[str, ...]
    signature: bytes


class Verifier:
    """Check the Authorization signature of OCI requests against API keys and issued session tokens."""

    def __init__(
        self,
        issuer_public_key: RSAPublicKey,
        *,
        max_skew_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer_key = issuer_public_key
        self._max_skew = max_skew_seconds
        self._clock = clock
        self._api_keys: dict[str, RSAPublicKey] = {}

    def register_api_key(self, key_id: str, public_key_pem: str | bytes) -> None:
        """Accept requests signed with keyId `tenancy/user/fingerprint` by this public key."""
        if key_id.count("/") != 2 or not all(key_id.split("/")):
            raise ValueError("API key id must be 'tenancy/user/fingerprint'")
        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        key = serialization.load_pem_public_key(pem)
        if not isinstance(key, RSAPublicKey):
            raise ValueError("API keys must be RSA public keys")
        # OCI computes the fingerprint from the uploaded key; a mismatch is a configuration mistake.
        if key_id.split("/")[2] != api_key_fingerprint(key):
            raise ValueError("fingerprint in key id does not match the public key")
        self._api_keys[key_id] = key

    def verify(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Principal:
        """Return the principal that signed this request, or raise AuthError."""
        method = method.upper()
        lowered = {name.lower(): value for name, value in headers.items()}
        params = _parse_authorization(lowered.get("authorization"))
        _check_signed_set(method, params.headers)
        principal, key = self._resolve_key(params.key_id)
        signing_string = _signing_string(method, target, params.headers, lowered)
        try:
            key.verify(params.signature, signing_string, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise AuthError("request signature does not verify", reason="bad_signature") from None
        self._check_date(params.headers, lowered)
        if method in BODY_METHODS:
            _check_body(lowered, body)
        return principal

    def _resolve_key(self, key_id: str) -> tuple[Principal, RSAPublicKey]:
        if key_id.startswith(TOKEN_PREFIX):
            return self._resolve_token(key_id[len(TOKEN_PREFIX) :])
        if key_id.count("/") == 2:
            key = self._api_keys.get(key_id)
            if key is None:
                raise AuthError(f"unknown API key {key_id!r}", reason="unknown_key")
            tenancy = key_id.split("/", 1)[0]
            return Principal("api_key", key_id, tenancy, None), key
        raise AuthError("keyId is neither an API key id nor a session token", reason="unknown_key")

    def _resolve_token(self, token: str) -> tuple[Principal, RSAPublicKey]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._issuer_key,
                algorithms=["RS256"],
                # Time claims are checked below against the injectable clock, not PyJWT's.
                options={
                    "require": ["exp", "sub", "jwk", "ptype"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                },
            )
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"session token rejected: {exc}", reason="invalid_token") from None
        exp = claims["exp"]
        if not isinstance(exp, int | float):
            raise AuthError("session token exp is not a number", reason="invalid_token")
        if self._clock() >= exp:
            raise AuthError("session token has expired", reason="token_expired")
        kind = _PTYPES.get(str(claims["ptype"]))
        tenancy = claims.get("res_tenant") or claims.get("tenant")
        compartment = claims.get("res_compartment")
        if kind is None or not isinstance(tenancy, str) or not isinstance(compartment, str | None):
            raise AuthError("session token lacks principal claims", reason="invalid_token")
        return Principal(kind, str(claims["sub"]), tenancy, compartment), _jwk_to_key(claims["jwk"])

    def _check_date(self, signed: tuple[str, ...], headers: Mapping[str, str]) -> None:
        name = next(h for h in DATE_HEADERS if h in signed)
        try:
            sent = email.utils.parsedate_to_datetime(headers[name]).timestamp()
        except (TypeError, ValueError):
            raise AuthError(f"unparseable {name} header", reason="bad_date") from None
        if abs(self._clock() - sent) > self._max_skew:
            raise AuthError(
                f"{name} header is more than {self._max_skew} s from the server clock", reason="clock_skew"
            )


def api_key_fingerprint(public_key: RSAPublicKey) -> str:
    """OCI's key fingerprint: MD5 of the DER SubjectPublicKeyInfo, as colon-separated hex."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.md5(der, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _parse_authorization(value: str | None) -> _SignatureParams:
    if not value:
        raise AuthError("missing Authorization header", reason="missing_authorization")
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "signature":
        raise AuthError("Authorization scheme must be 'Signature'", reason="bad_authorization")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _PARAM_RE.match(rest, pos)
        if match is None or match.group(1) in params:
            raise AuthError("malformed Signature parameters", reason="bad_authorization")
        params[match.group(1)] = match.group(2)
        pos = match.end()
    missing = {"keyId", "algorithm", "headers", "signature"} - params.keys()
    if missing:
        raise AuthError(f"Signature lacks {', '.join(sorted(missing))}", reason="bad_authorization")
    if params.get("version", "1") != "1" or params["algorithm"].lower() != "rsa-sha256":
        raise AuthError("only version 1 rsa-sha256 signatures are supported", reason="bad_authorization")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except binascii.Error:
        raise AuthError("signature is not base64", reason="bad_authorization") from None
    names = tuple(params["headers"].lower().split())
    return _SignatureParams(params["keyId"], names, signature)


def _check_signed_set(method: str, signed: tuple[str, ...]) -> None:
    required = GENERIC_HEADERS | BODY_HEADERS if method in BODY_METHODS else GENERIC_HEADERS
    missing = sorted(required - set(signed))
    if not any(h in signed for h in DATE_HEADERS):
        missing.insert(0, "date")
    if missing:
        raise AuthError(f"signature must cover headers: {' '.join(missing)}", reason="missing_signed_header")


def _signing_string(method: str, target: str, signed: tuple[str, ...], headers: Mapping[str, str]) -> bytes:
    lines = []
    for name in signed:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise AuthError(f"signed header {name!r} is missing from the request", reason="missing_header")
    return "\n".join(lines).encode()


def _check_body(headers: Mapping[str, str], body: bytes) -> None:
    if headers["content-length"].strip() != str(len(body)):
        raise AuthError("content-length does not match the body", reason="content_length_mismatch")
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if headers["x-content-sha256"].strip() != digest:
        raise AuthError("x-content-sha256 does not match the body", reason="body_digest_mismatch")


def _jwk_to_key(jwk: object) -> RSAPublicKey:
    try:
        fields = json.loads(jwk) if isinstance(jwk, str) else jwk
        if not isinstance(fields, dict) or fields.get("kty") != "RSA":
            raise ValueError("not an RSA JWK")
        n, e = (int.from_bytes(_b64url(fields[k]), "big") for k in ("n", "e"))
        return RSAPublicNumbers(e, n).public_key()
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise AuthError("session token carries no usable jwk", reason="invalid_token") from None


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
