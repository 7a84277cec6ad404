"""OCI request signers: one factory for every auth mode, and a wrapper that keeps tokens fresh."""

from __future__ import annotations

import logging
import os
import pathlib
import threading
from typing import Any, Protocol

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.settings import AuthMode, Settings

log = logging.getLogger(__name__)


class Signer(Protocol):
    """What LiteLLM (`do_request_sign`) and the oci SDK clients (`__call__`) need of a signer."""

    def do_request_sign(self, request: Any, *, enforce_content_headers: bool = True) -> Any: ...

    def __call__(self, request: Any, enforce_content_headers: bool = True) -> Any: ...


class RefreshingSigner:
    """Refresh session tokens before signing, and on demand after an OCI 401.

    LiteLLM calls `do_request_sign` directly (litellm/llms/oci/common_utils.py) and never refreshes
    a resource- or instance-principal token; the SDK's signers refresh only through
    `get_security_token()` (resource principal re-reads its token files near expiry) or their
    `__call__` (instance principal).
    """

    def __init__(self, inner: Any, sdk_config: dict[str, Any] | None = None) -> None:
        self._inner = inner
        # The config an oci SDK client needs beside this signer: an API-key signer is validated
        # against its profile (user, fingerprint, key_file, tenancy); session signers need none.
        self.sdk_config: dict[str, Any] = dict(sdk_config or {})
        self._lock = threading.Lock()
        self.refreshes = 0

    @property
    def inner(self) -> Any:
        """The wrapped oci SDK signer (for SDK clients that introspect it)."""
        return self._inner

    def __getattr__(self, name: str) -> Any:
        # Let SDK clients read region, tenancy_id and friends from the real signer.
        return getattr(self._inner, name)

    def ensure_fresh(self) -> None:
        """Re-read a resource-principal token that is near expiry (no-op for other signers)."""
        getter = getattr(self._inner, "get_security_token", None)
        if callable(getter):
            getter()

    def do_request_sign(self, request: Any, *, enforce_content_headers: bool = True) -> Any:
        """Sign `request` in place with a token that is valid now."""
        self.ensure_fresh()
        # Through __call__: the instance-principal signer refreshes only there.
        return self._inner(request, enforce_content_headers=enforce_content_headers)

    def __call__(self, request: Any, enforce_content_headers: bool = True) -> Any:
        return self.do_request_sign(request, enforce_content_headers=enforce_content_headers)

    def force_refresh(self) -> None:
        """Drop the cached token (after OCI answered 401) so the next signature uses a new one."""
        refresh = getattr(self._inner, "refresh_security_token", None)
        if not callable(refresh):
            return
        with self._lock:
            refresh()
            self.refreshes += 1
        log.info("oci session token refreshed", extra={"event": "signer_refresh"})


def build_signer(settings: Settings) -> RefreshingSigner:
    """Build the signer for `settings.auth`; raises ConfigError with one clear line."""
    import oci  # deferred: only entry points pay for it

    config: dict[str, Any] = {}
    try:
        if settings.auth is AuthMode.RESOURCE_PRINCIPAL:
            inner: Any = oci.auth.signers.get_resource_principals_signer()
        elif settings.auth is AuthMode.INSTANCE_PRINCIPAL:
            inner = oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
        else:
            inner, config = _config_file_signer(settings)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"cannot build the {settings.auth.value} signer: {type(exc).__name__}: {exc}"
        ) from exc
    return RefreshingSigner(inner, {**config, "region": settings.region})


def _config_file_signer(settings: Settings) -> tuple[Any, dict[str, Any]]:
    """API key or session token from an OCI CLI config profile (local use against a real tenancy)."""
    import oci

    config: dict[str, Any] = oci.config.from_file(
        os.path.expanduser(settings.oci_config_file), settings.oci_profile
    )
    token_file = config.get("security_token_file")
    if token_file:
        token = pathlib.Path(os.path.expanduser(token_file)).read_text().strip()
        key = oci.signer.load_private_key_from_file(config["key_file"], config.get("pass_phrase"))
        return oci.auth.signers.SecurityTokenSigner(token, key), config
    return oci.signer.Signer.from_config(config), config
