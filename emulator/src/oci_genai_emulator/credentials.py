"""Mint emulator credentials: an issuer key, principal session tokens, resource-principal files, API keys."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from .auth import api_key_fingerprint
from .constants import (
    DEFAULT_COMPARTMENT,
    DEFAULT_FUNCTION,
    DEFAULT_INSTANCE,
    DEFAULT_REGION,
    DEFAULT_TENANCY,
    DEFAULT_USER,
)

ISSUER: Final = "oci-genai-emulator"
RPST_FILE: Final = "rpst"
PRIVATE_PEM_FILE: Final = "private.pem"


@dataclass(frozen=True)
class ApiKey:
    """An API signing key as a user would upload it: ids, private key file, public PEM."""

    tenancy: str
    user: str
    fingerprint: str
    private_key_path: Path
    public_pem: str

    @property
    def key_id(self) -> str:
        """The keyId an API-key signer sends: tenancy/user/fingerprint."""
        return f"{self.tenancy}/{self.user}/{self.fingerprint}"


class Issuer:
    """The emulator's identity service: signs session tokens that the Verifier trusts."""

    def __init__(self, private_key: RSAPrivateKey, *, clock: Callable[[], float] = time.time) -> None:
        self._private_key = private_key
        self._clock = clock
        self._kid = api_key_fingerprint(private_key.public_key())

    @classmethod
    def load_or_create(cls, path: Path) -> Issuer:
        """Load the issuer key from a PEM file, creating it (mode 0600) if it does not exist."""
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _publish_once(path, _private_pem(new_rsa_key()))
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return cls(key)

    @property
    def public_key(self) -> RSAPublicKey:
        """The key the Verifier checks session tokens against."""
        return self._private_key.public_key()

    def mint_session_token(
        self,
        session_public_key: RSAPublicKey,
        *,
        kind: Literal["resource", "instance"] = "resource",
        tenancy: str = DEFAULT_TENANCY,
        compartment: str = DEFAULT_COMPARTMENT,
        subject: str | None = None,
        ttl_seconds: int = 3600,
    ) -> str:
        """A signed RS256 JWT binding `session_public_key` to a resource or instance principal."""
        now = int(self._clock())
        subject = subject or (DEFAULT_FUNCTION if kind == "resource" else DEFAULT_INSTANCE)
        claims = {
            "iss": ISSUER,
            "aud": "oci",
            "sub": subject,
            "jti": uuid.uuid4().hex,
            "ptype": kind,
            "ttype": "res" if kind == "resource" else "x509",
            "res_type": "fnfunc" if kind == "resource" else "instance",
            "res_id": subject,
            # The oci SDK reads res_tenant/res_compartment into signer.tenancy_id/compartment_id.
            "res_tenant": tenancy,
            "res_compartment": compartment,
            "tenant": tenancy,
            "iat": now,
            "exp": now + ttl_seconds,
            # A JSON string, as real OCI tokens carry it; the Verifier also accepts an object.
            "jwk": json.dumps(rsa_jwk(session_public_key, kid=uuid.uuid4().hex), separators=(",", ":")),
        }
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self._kid})

    def mint_resource_principal(
        self,
        out_dir: Path,
        *,
        region: str = DEFAULT_REGION,
        tenancy: str = DEFAULT_TENANCY,
        compartment: str = DEFAULT_COMPARTMENT,
        ttl_seconds: int = 3600,
    ) -> dict[str, str]:
        """Write a fresh session key and RPST into `out_dir`; return the env of a v2.2 resource principal.

        Calling it again on the same directory rotates both files in place.
        """
        out_dir = Path(out_dir).resolve()  # the SDK treats only absolute values as file paths
        out_dir.mkdir(parents=True, exist_ok=True)
        session_key = new_rsa_key()
        token = self.mint_session_token(
            session_key.public_key(), tenancy=tenancy, compartment=compartment, ttl_seconds=ttl_seconds
        )
        pem_path, rpst_path = out_dir / PRIVATE_PEM_FILE, out_dir / RPST_FILE
        write_private_file(pem_path, _private_pem(session_key))
        write_private_file(rpst_path, token.encode())
        # No passphrase variable: the SDK opens a passphrase *file* with mode "b" and crashes.
        return {
            "OCI_RESOURCE_PRINCIPAL_VERSION": "2.2",
            "OCI_RESOURCE_PRINCIPAL_RPST": str(rpst_path),
            "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM": str(pem_path),
            "OCI_RESOURCE_PRINCIPAL_REGION": region,
        }


def generate_api_key(
    out_dir: Path, *, tenancy: str = DEFAULT_TENANCY, user: str = DEFAULT_USER, name: str = "api_key"
) -> ApiKey:
    """Create an API signing key pair: `<name>.pem` (0600) and `<name>_public.pem` in `out_dir`."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    key = new_rsa_key()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path = out_dir / f"{name}.pem"
    write_private_file(private_path, _private_pem(key))
    _write_atomic(out_dir / f"{name}_public.pem", public_pem, 0o644)
    fingerprint = api_key_fingerprint(key.public_key())
    return ApiKey(tenancy, user, fingerprint, private_path, public_pem.decode())


def new_rsa_key() -> RSAPrivateKey:
    """A 2048-bit RSA key, the size OCI signers use."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_jwk(public_key: RSAPublicKey, *, kid: str | None = None) -> dict[str, str]:
    """The RSA public JWK (n, e base64url) of `public_key`."""
    numbers = public_key.public_numbers()
    jwk = {
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "n": _b64url_int(numbers.n),
        "e": _b64url_int(numbers.e),
    }
    if kid:
        jwk["kid"] = kid
    return jwk


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`, readable by the owner only."""
    _write_atomic(path, data, 0o600)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    # Temp file in the same directory + os.replace: a concurrent reader sees the old or the new
    # file, never half of one; mkstemp creates it 0600 so the key is never briefly world-readable.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _publish_once(path: Path, data: bytes) -> None:
    # Two processes may create the issuer at once; os.link fails if the name exists, so the first
    # complete file wins and everyone then loads the same key.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def _private_pem(key: RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _b64url_int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
