"""API keys: one parser (bearer or x-api-key), one validator; compared in constant time, never logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from oci_genai_gateway.core.errors import ConfigError

MIN_KEY_LENGTH = 16
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# RFC 6750 section 2.1 b64token: what may follow "Bearer ".
_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")


@dataclass(frozen=True)
class Credential:
    """What an Authorization header carried: a well-formed token, or why there is none."""

    token: str | None
    problem: str | None = None  # "missing", "scheme" (not Bearer) or "malformed"


def read_bearer(header: str | None) -> Credential:
    """Parse `Authorization: Bearer <token>` the same way on every transport."""
    if not header or not header.strip():
        return Credential(None, "missing")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return Credential(None, "scheme")
    token = token.strip()
    if not _TOKEN.fullmatch(token):
        return Credential(None, "malformed")
    return Credential(token)


def read_key(authorization: str | None, api_key: str | None) -> Credential:
    """The key of a request: `Authorization: Bearer <key>`, or else `x-api-key: <key>`.

    Anthropic's API takes its key as `x-api-key` (https://docs.anthropic.com/en/api/getting-started),
    and so do its older SDKs and many clients; one key works in either header, and an Authorization
    header, when sent, is the one that counts.
    """
    credential = read_bearer(authorization)
    if credential.problem != "missing" or not api_key or not api_key.strip():
        return credential
    token = api_key.strip()
    return Credential(token) if _TOKEN.fullmatch(token) else Credential(None, "malformed")


def match_key(token: str, keys: Mapping[str, str]) -> str | None:
    """The name of the key equal to `token`, checking every key so timing reveals nothing."""
    # Hash both sides first: compare_digest is only constant-time for equal lengths.
    given = hashlib.sha256(token.encode()).digest()
    found: str | None = None
    for name, key in keys.items():
        if hmac.compare_digest(given, hashlib.sha256(key.encode()).digest()):
            found = name
    return found


def parse_api_keys(raw: str) -> dict[str, str]:
    """Parse and validate `name:key,name2:key2` or a JSON object of name -> key."""
    raw = raw.strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            raise ConfigError("GATEWAY_API_KEYS is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise ConfigError("GATEWAY_API_KEYS must map key names to keys")
        return validate_keys(parsed, "GATEWAY_API_KEYS")
    keys: dict[str, object] = {}
    for index, item in enumerate(raw.split(","), start=1):
        name, sep, key = item.strip().partition(":")
        if not sep or not name or not key:
            raise ConfigError(f"GATEWAY_API_KEYS entry #{index} is not of the form name:key")
        keys[name] = key
    return validate_keys(keys, "GATEWAY_API_KEYS")


def validate_keys(keys: Mapping[str, object], source: str) -> dict[str, str]:
    """Check names and keys; errors give the entry's position, since a swapped pair puts a key first."""
    out: dict[str, str] = {}
    for index, (name, key) in enumerate(keys.items(), start=1):
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(f"{source}: entry #{index} needs a name matching {_NAME.pattern}")
        if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH or not _TOKEN.fullmatch(key):
            raise ConfigError(
                f"{source}: entry #{index} needs a bearer-token key of at least {MIN_KEY_LENGTH} characters"
            )
        if key in out.values():
            raise ConfigError(f"{source}: entry #{index} repeats another entry's key")
        out[name] = key
    return out
