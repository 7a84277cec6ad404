"""The bearer keys: a Vault secret `{"keys": {name: key or policy}}` (base64), in a given or new vault.

Deploy manages the plain `name: key` entries its config names; entries with a policy (objects, written
by `oci-genai-gateway keys`) are that command's and are kept as they are.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from oci_genai_gateway.core.access import policy as key_policy
from oci_genai_gateway.core.access.policy import KeyTable
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import Changes, Context, Resource, Spec, State
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind

# The authorizer's rules (authorizer.validated_keys): names, and keys of at least 16 token characters.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/-]{16,}=*$")


def new_key(prefix: str) -> str:
    """A fresh bearer key: `sk-<prefix>-` and 43 URL-safe characters (256 random bits)."""
    return f"sk-{prefix}-{secrets.token_urlsafe(32)}"


def encode(entries: Mapping[str, Any]) -> str:
    """The secret content the authorizer reads: base64 of `{"keys": {name: key or policy}}`."""
    return base64.b64encode(json.dumps({"keys": dict(entries)}).encode()).decode()


def decode(content: str) -> dict[str, Any]:
    """The entries (a key, or a policy object with its key) from a secret's base64 content."""
    data = json.loads(base64.b64decode(content, validate=True))
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, dict) or not all(isinstance(v, str | dict) for v in keys.values()):
        raise ValueError('not {"keys": {name: key or policy}}')
    return {str(k): v for k, v in keys.items()}


def key_of(entry: Any) -> str:
    """An entry's current key."""
    return str(entry["key"] if isinstance(entry, dict) else entry)


def keys_from_env(raw: str, variable: str) -> dict[str, str]:
    """`name:key,name2:key2` from the environment; errors give the entry number, never a key."""
    out: dict[str, str] = {}
    for index, item in enumerate(raw.split(","), start=1):
        name, sep, key = item.strip().partition(":")
        if not sep or not _NAME.match(name) or not _TOKEN.match(key):
            raise ConfigError(
                f"{variable} entry #{index} must be name:key with a key of 16+ token characters"
            )
        out[name] = key
    if not out:
        raise ConfigError(f"{variable} holds no keys")
    return out


def read_entries(ctx: Context, secret_id: str) -> dict[str, Any]:
    """The entries in the secret's current version (the deploying user reads it like the authorizer)."""
    try:
        bundle = ctx.clients.secrets.get_secret_bundle(secret_id).data
        return decode(bundle.secret_bundle_content.content)
    except ValueError as exc:
        raise DeployError(
            f"secret {secret_id}: content is not the keys JSON ({exc}); fix or delete it"
        ) from None


def read_keys(ctx: Context, secret_id: str) -> dict[str, str]:
    """Each name's current key."""
    return {name: key_of(entry) for name, entry in read_entries(ctx, secret_id).items()}


def read_table(ctx: Context, secret_id: str) -> KeyTable:
    """The keys and their policies, checked as the authorizer checks them."""
    try:
        return key_policy.parse_entries(read_entries(ctx, secret_id), f"secret {secret_id}")
    except ConfigError as exc:
        raise DeployError(f"{exc}; fix it with `oci-genai-gateway keys`") from None


class SecretKind(SdkKind):
    """The keys secret. Its `names` (or given `keys`) are compared with the current version's names."""

    def _content(self, ctx: Context, spec: Spec, current: Mapping[str, Any]) -> Any:
        import oci

        managed: dict[str, Any] = {}
        if spec.get("keys") is not None:
            for name, key in spec["keys"].items():
                # A key given again keeps the policy the keys command gave it.
                managed[name] = current[name] if name in current and key_of(current[name]) == key else key
        else:
            for name in spec["names"]:
                managed[name] = current.get(name) or new_key(ctx.config.prefix)
                if name not in current:
                    ctx.reporter.secret(name, managed[name])  # shown once, never logged
        kept = {n: e for n, e in current.items() if isinstance(e, dict) and n not in managed}
        return oci.vault.models.Base64SecretContentDetails(
            content_type="BASE64", content=encode({**kept, **managed}), stage="CURRENT"
        )

    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """Generate (or take) the keys and store them as the first version."""
        fields = {k: v for k, v in spec.items() if k not in ("names", "keys")}
        fields["secret_content"] = self._content(ctx, spec, {})
        return super().create(ctx, res, scope, fields, tags)

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """A new secret version: kept keys stay, new names get new keys, removed names are dropped."""
        fields = {k: v for k, v in changed.items() if k not in ("names", "keys")}
        if "names" in changed or "keys" in changed:
            current = read_entries(ctx, self.ocid(live))
            fields["secret_content"] = self._content(ctx, changed, current)
        return super().update(ctx, res, scope, live, fields, tags)

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """Key names (never keys) that would be added or removed, plus ordinary fields."""
        out = super().diff(ctx, res, live, {k: v for k, v in spec.items() if k not in ("names", "keys")})
        current = read_entries(ctx, self.ocid(live))
        plain = {n: e for n, e in current.items() if isinstance(e, str)}  # deploy's own entries
        wanted = dict(spec["keys"]) if spec.get("keys") is not None else dict.fromkeys(spec["names"])
        shown = sorted(set(plain) | (set(current) & set(wanted)))
        if spec.get("keys") is not None:
            given = {n: key_of(current[n]) for n in wanted if n in current}
            if given != wanted or set(plain) - set(wanted):
                out["keys"] = (shown, f"{sorted(wanted)} from the environment")
        elif set(wanted) - set(current) or set(plain) - set(wanted):
            out["names"] = (shown, sorted(wanted))
        return out


# Vault objects are scheduled for deletion (days ahead) and can be restored until then; OCI lists
# vaults and keys without a name filter.
def _vault_kind() -> SdkKind:
    return sdk_kind(
        "vault",
        "vaults",
        "kms_vault",
        "vault",
        by_name=False,
        deletion_days=7,
        ready=("ACTIVE",),
        immutable=frozenset({"vault_type"}),
    )


def _key_kind() -> SdkKind:
    # KmsManagementClient lives at the vault's management endpoint: the scope.
    return sdk_kind(
        "master encryption key",
        "keys",
        "kms_management",
        "key",
        by_name=False,
        deletion_days=7,
        endpoint_from_scope=True,
        ready=("ENABLED",),
        immutable=frozenset({"key_shape", "protection_mode"}),
    )


def _secret_kind() -> SdkKind:
    return sdk_kind(
        "secret",
        "secret-family",
        "vaults",
        "secret",
        cls=SecretKind,
        deletion_days=1,
        name_field="secret_name",
        scope_field="vault_id",
        ready=("ACTIVE",),
        immutable=frozenset({"key_id"}),
    )


def resources(config: DeployConfig, env: Mapping[str, str]) -> tuple[list[Resource], dict[str, str]]:
    """The vault and key (unless given) and the secret; and the OCIDs of the given ones."""
    import oci

    p = config.prefix
    keys_cfg = config.keys
    given: dict[str, str] = {}
    out: list[Resource] = []
    if keys_cfg.vault_id is not None and keys_cfg.key_id is not None:
        given = {"keys.vault": keys_cfg.vault_id, "keys.key": keys_cfg.key_id}
    else:
        shape = oci.key_management.models.KeyShape(algorithm="AES", length=32)
        out.append(Resource("keys.vault", _vault_kind(), f"{p}-vault", lambda s: {"vault_type": "DEFAULT"}))
        out.append(
            Resource(
                "keys.key",
                _key_kind(),
                f"{p}-keys-key",
                # Software protection: free, and enough for a secret of bearer keys.
                lambda s: {"key_shape": shape, "protection_mode": "SOFTWARE"},
                depends_on=("keys.vault",),
                scope=lambda s: s.attr("keys.vault", "management_endpoint"),
            )
        )
    chosen: Mapping[str, str] | None = None
    if keys_cfg.source == "env":
        raw = env.get(keys_cfg.env_var, "")
        if not raw:
            raise ConfigError(f"keys.source = 'env': set {keys_cfg.env_var} to name:key[,name2:key2]")
        chosen = keys_from_env(raw, keys_cfg.env_var)

    def spec(s: State) -> Spec:
        return {
            "key_id": s.ocid("keys.key"),
            "description": f"oci-genai-gateway {p}: bearer keys for the authorizer",
            "names": list(keys_cfg.names),
            "keys": chosen,
        }

    secret = Resource(
        "keys.secret",
        _secret_kind(),
        f"{p}-api-keys",
        spec,
        depends_on=tuple(r.key for r in out),
        scope=lambda s: s.ocid("keys.vault"),
        show=("names",),
    )
    return [*out, secret], given
