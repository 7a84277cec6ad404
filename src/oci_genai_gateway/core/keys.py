"""Bearer keys: parsed once, compared in constant time, never logged or echoed."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def match_key(token: str, keys: Mapping[str, str]) -> str | None:
    """The name of the key equal to `token`, checking every key so timing reveals nothing."""
    # Hash both sides first: compare_digest is only constant-time for equal lengths.
    given = hashlib.sha256(token.encode()).digest()
    found: str | None = None
    for name, key in keys.items():
        if hmac.compare_digest(given, hashlib.sha256(key.encode()).digest()):
            found = name
    return found
