"""API Gateway authorizer: API keys (bearer or x-api-key) from OCI Vault (or function config).

The multi-argument authorizer contract: https://docs.oracle.com/en-us/iaas/Content/APIGateway/Tasks/apigatewayaddingauthorizerfunction.htm
"""

from __future__ import annotations

import base64
import json
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from oci_genai_gateway.core.access import policy as key_policy
from oci_genai_gateway.core.access.keys import match_key, read_key
from oci_genai_gateway.core.access.policy import KeyTable
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.settings import env_int

log = logging.getLogger(__name__)

SCOPE = ("openai",)
CHALLENGE = 'Bearer realm="oci-genai-gateway"'
# RFC 6750 3.1: an error code only when a bearer token was presented and is no good.
INVALID_TOKEN_CHALLENGE = CHALLENGE + ', error="invalid_token"'
UNAVAILABLE_BODY = '{"error":"authorizer_unavailable"}'
# API Gateway accepts an expiresAt 60 s to 1 h ahead.
MIN_GRANT_SECONDS = 60


class CannotDecide(Exception):
    """The keys cannot be read now; answered with a 5xx (the gateway says 502), never a grant."""


class SecretsReader(Protocol):
    """The one method of `oci.secrets.SecretsClient` used here."""

    def get_secret_bundle(self, secret_id: str, **kwargs: Any) -> Any: ...


class KeySource(Protocol):
    """Where the currently valid keys (name -> key, with each key's policy) come from."""

    def current(self) -> KeyTable: ...


@dataclass(frozen=True)
class AuthorizerSettings:
    """Authorizer configuration, read once at the function's cold start."""

    secret_id: str | None = None
    static_keys: KeyTable = field(default_factory=lambda: KeyTable({}, {}), repr=False)
    grant_seconds: int = 300
    refresh_seconds: int = 60
    stale_seconds: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthorizerSettings:
        """Build from GATEWAY_* variables; raise ConfigError naming the bad one (never a key)."""
        secret_id = env.get("GATEWAY_API_KEYS_SECRET_ID", "").strip() or None
        static = key_policy.parse_env(env.get("GATEWAY_API_KEYS", ""))
        if secret_id and static:
            # Two sources would let a key revoked in Vault live on in the function config.
            raise ConfigError("set GATEWAY_API_KEYS_SECRET_ID or GATEWAY_API_KEYS, not both")
        if secret_id is None and not static:
            raise ConfigError("no API keys: set GATEWAY_API_KEYS_SECRET_ID or GATEWAY_API_KEYS")
        if secret_id is not None and not secret_id.startswith("ocid1.vaultsecret."):
            raise ConfigError("GATEWAY_API_KEYS_SECRET_ID must be a secret OCID (ocid1.vaultsecret...)")
        return cls(
            secret_id=secret_id,
            static_keys=static,
            # 60 s .. 1 h is what API Gateway accepts for expiresAt; it bounds revocation delay.
            grant_seconds=env_int(env, "GATEWAY_AUTH_CACHE_SECONDS", 300, 60, 3600),
            refresh_seconds=env_int(env, "GATEWAY_KEYS_REFRESH_SECONDS", 60, 1, 3600),
            stale_seconds=env_int(env, "GATEWAY_KEYS_STALE_SECONDS", 300, 0, 3600),
        )


class StaticKeys:
    """Keys from the function configuration (small setups)."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        # Plain name -> key pairs are keys without limits.
        self._keys = keys if isinstance(keys, KeyTable) else key_policy.parse_entries(keys, "keys")

    def current(self) -> KeyTable:
        """The configured keys."""
        return self._keys


class VaultKeys:
    """Keys from a Vault secret `{"keys": {name: key or policy}}`, cached; stale kept if Vault fails."""

    def __init__(
        self,
        secret_id: str,
        client_factory: Callable[[], SecretsReader],
        *,
        refresh_seconds: float,
        stale_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret_id = secret_id
        self._client_factory = client_factory
        self._client: SecretsReader | None = None
        self._refresh = refresh_seconds
        self._stale = stale_seconds
        self._clock = clock
        self._keys: KeyTable | None = None
        self._fetched_at = 0.0

    def current(self) -> KeyTable:
        """Cached keys, re-read after refresh_seconds; raise CannotDecide when none are usable."""
        now = self._clock()
        if self._keys is not None and now < self._fetched_at + self._refresh:
            return self._keys
        try:
            keys = self._fetch()
        except CannotDecide:
            # A short Vault outage should not take the API down, but a revoked key must not
            # outlive it by more than stale_seconds.
            if self._keys is not None and now < self._fetched_at + self._refresh + self._stale:
                log.warning("serving cached API keys after a failed refresh", extra={"event": "keys_stale"})
                return self._keys
            raise
        self._keys, self._fetched_at = keys, now
        return keys

    def _fetch(self) -> KeyTable:
        if self._client is None:
            try:
                self._client = self._client_factory()
            except Exception as exc:  # signer/client construction: no secret involved, say why
                log.error(
                    "cannot build the Vault client: %s: %s",
                    type(exc).__name__,
                    exc,
                    extra={"event": "keys_error"},
                )
                raise CannotDecide("API keys unavailable") from None
        try:
            content = self._client.get_secret_bundle(self._secret_id).data.secret_bundle_content
            if getattr(content, "content_type", None) != "BASE64":
                raise ValueError("secret content is not BASE64")
            parsed = json.loads(base64.b64decode(content.content, validate=True))
        except Exception as exc:  # SDK, network, decoding: all mean "cannot read the keys"
            log.error("cannot read API keys from Vault: %s", _describe(exc), extra={"event": "keys_error"})
            raise CannotDecide("API keys unavailable") from None
        keys = parsed.get("keys") if isinstance(parsed, dict) else None
        if not isinstance(keys, dict) or not keys:
            log.error('Vault secret is not {"keys": {name: key}}', extra={"event": "keys_error"})
            raise CannotDecide("API keys unavailable")
        try:
            return key_policy.parse_entries(keys, "Vault secret")
        except ConfigError as exc:
            log.error("%s", exc, extra={"event": "keys_error"})
            raise CannotDecide("API keys unavailable") from None


def resource_principal_secrets_client() -> SecretsReader:
    """A SecretsClient signed by the function's resource principal, with short timeouts."""
    import oci  # deferred: only the function entry pays for it

    signer = oci.auth.signers.get_resource_principals_signer()
    # No SDK retries (its default backs off for minutes) and timeouts well inside the fn timeout.
    client: SecretsReader = oci.secrets.SecretsClient(
        config={}, signer=signer, retry_strategy=oci.retry.NoneRetryStrategy(), timeout=(2.0, 4.0)
    )
    return client


class Authorizer:
    """Decide one multi-argument authorizer call: a grant, a refusal, or CannotDecide."""

    def __init__(
        self,
        keys: KeySource,
        *,
        grant_seconds: int,
        clock: Callable[[], float] = time.time,
        token_scope: str = "static",  # noqa: S107 - a scope name, not a secret
    ) -> None:
        self._keys = keys
        self._grant = grant_seconds
        self._clock = clock
        # Usage-plan client tokens derive from it (core/access/policy.py:client_token): the secret's OCID.
        self._token_scope = token_scope

    @classmethod
    def from_settings(
        cls,
        settings: AuthorizerSettings,
        *,
        secrets_client_factory: Callable[[], SecretsReader] = resource_principal_secrets_client,
        clock: Callable[[], float] = time.time,
    ) -> Authorizer:
        """Wire the key source the settings name."""
        source: KeySource
        if settings.secret_id is not None:
            source = VaultKeys(
                settings.secret_id,
                secrets_client_factory,
                refresh_seconds=settings.refresh_seconds,
                stale_seconds=settings.stale_seconds,
                clock=clock,
            )
        else:
            source = StaticKeys(settings.static_keys)
        scope = settings.secret_id or "static"
        return cls(source, grant_seconds=settings.grant_seconds, clock=clock, token_scope=scope)

    def decide(self, event: object) -> dict[str, Any]:
        """The response to `{"type": "USER_DEFINED", "data": {"authorization": ..., "x-api-key": ...}}`."""
        if not isinstance(event, dict) or event.get("type") != "USER_DEFINED":
            # The deployment is wired wrong (e.g. single-argument mode): refuse to guess.
            raise CannotDecide("not a multi-argument authorizer call")
        data = event.get("data")
        data = data if isinstance(data, dict) else {}
        header, api_key = data.get("authorization"), data.get("x-api-key")
        credential = read_key(
            header if isinstance(header, str) else None, api_key if isinstance(api_key, str) else None
        )
        if credential.token is None:
            malformed = credential.problem == "malformed"
            return _deny(credential.problem or "missing", INVALID_TOKEN_CHALLENGE if malformed else CHALLENGE)
        keys = self._keys.current()
        name = match_key(credential.token, keys)
        if name is None:
            return _deny("unknown_key", INVALID_TOKEN_CHALLENGE)
        policy, now = keys.policy(name), self._clock()
        if policy.expired(now):
            return _deny("rotated_key_expired", INVALID_TOKEN_CHALLENGE)
        # A rotated-out key's grant must not outlive its grace period.
        until = min(now + self._grant, policy.until.timestamp()) if policy.until else now + self._grant
        expires = datetime.fromtimestamp(max(until, now + MIN_GRANT_SECONDS), tz=UTC)
        log.info("granted", extra={"event": "auth_granted", "key_name": name})
        return {
            "active": True,
            "principal": policy.team,
            "scope": list(SCOPE),
            "expiresAt": expires.isoformat(timespec="seconds"),
            # The key's name and limits: the spec passes some to the functions as headers.
            "context": key_policy.grant_context(policy, self._token_scope),
        }


def respond(authorizer: Callable[[], Authorizer], body: bytes) -> tuple[int, str]:
    """HTTP status and JSON body for one call; nothing raises, so no exception text can leak."""
    try:
        decider = authorizer()  # first, so the entry's logging is in place for what follows
        try:
            event = json.loads(body)
        except ValueError:
            raise CannotDecide("the call body is not JSON") from None
        decision = decider.decide(event)
    except (CannotDecide, ConfigError) as exc:
        log.error("cannot decide: %s", exc, extra={"event": "auth_unavailable"})
        return 502, UNAVAILABLE_BODY
    except Exception as exc:
        # Type and frames only: an exception's text could quote the request.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error("authorizer failed: %s\n%s", type(exc).__name__, frames, extra={"event": "auth_error"})
        return 502, UNAVAILABLE_BODY
    return 200, json.dumps(decision)


def from_environment(env: Mapping[str, str]) -> Authorizer:
    """The function entry's one-time setup: JSON logs, settings, key source."""
    from oci_genai_gateway.core.logs import configure_logging, parse_log_level

    configure_logging(parse_log_level(env))
    return Authorizer.from_settings(AuthorizerSettings.from_env(env))


def _deny(reason: str, challenge: str) -> dict[str, Any]:
    log.info("refused", extra={"event": "auth_refused", "reason": reason})
    return {"active": False, "wwwAuthenticate": challenge}


def _describe(exc: Exception) -> str:
    # oci ServiceError carries status/code; other messages may quote secret content, so skip them.
    status, code = getattr(exc, "status", None), getattr(exc, "code", None)
    if status is not None or code is not None:
        return f"{type(exc).__name__} status={status} code={code}"
    return type(exc).__name__
