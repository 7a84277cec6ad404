"""Settings, built once at the entry point from the environment and passed down frozen."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from oci_genai_gateway.core.access import policy
from oci_genai_gateway.core.access.policy import KeyPolicy
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.logs import parse_log_level
from oci_genai_gateway.core.realms import REGION_FIELD, check_one_realm
from oci_genai_gateway.core.targets import Target, target_of

_REGION = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
# OCI Monitoring custom-metric namespaces; `oci_` and `oracle_` are reserved for OCI's own.
# https://docs.oracle.com/en-us/iaas/Content/Monitoring/Tasks/publishingcustommetrics.htm
_NAMESPACE = re.compile(r"^(?!oci_|oracle_)[a-z][a-z0-9_]*[a-z0-9]$")
E = TypeVar("E", bound=StrEnum)


class AuthMode(StrEnum):
    """How the gateway signs its OCI calls."""

    RESOURCE_PRINCIPAL = "resource_principal"
    INSTANCE_PRINCIPAL = "instance_principal"
    CONFIG_FILE = "config_file"


class HostedTools(StrEnum):
    """What a request's hosted tools (web search and friends, which OCI cannot run) get."""

    OMIT = "omit"  # left out, named in X-Gateway-Omitted-Tools: the model answers without them
    REFUSE = "refuse"  # a 400 naming the first


@dataclass(frozen=True)
class Settings:
    """Everything the gateway is configured with; see the README table."""

    region: str
    compartment_id: str
    # Every region served, the home region (`region`) first; one region unless GATEWAY_REGIONS lists more.
    regions: tuple[str, ...] = ()
    auth: AuthMode = AuthMode.RESOURCE_PRINCIPAL
    oci_config_file: str = "~/.oci/config"
    oci_profile: str = "DEFAULT"
    inference_endpoint: str | None = None
    management_endpoint: str | None = None
    api_keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    key_policies: Mapping[str, KeyPolicy] = field(default_factory=lambda: MappingProxyType({}))
    aliases: Mapping[str, Target] = field(default_factory=lambda: MappingProxyType({}))
    models_cache_ttl: float = 300.0
    upstream_timeout: float = 120.0
    upstream_retries: int = 1
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    max_body_bytes: int = 6 * 1024 * 1024
    client_timeout: float = 10.0
    fetch_image_urls: bool = True
    metrics: bool = True
    # Functions without API Gateway usage plans: each instance counts rates and quotas itself.
    limits_in_process: bool = False
    metrics_namespace: str = "genai_gateway"
    metrics_flush_seconds: float = 5.0
    telemetry_endpoint: str | None = None
    ingestion_endpoint: str | None = None
    budget_cache_seconds: float = 60.0
    workers: int = 1
    hosted_tools: HostedTools = HostedTools.OMIT  # docs/decisions/0006-codex-over-the-responses-api.md
    guardrails_output: bool = False  # check non-streamed answers with the key's guardrails too
    otlp_endpoint: str | None = None  # OTEL_EXPORTER_OTLP_ENDPOINT: OpenTelemetry on (core/telemetry.py)
    reasoning_text: bool = True  # the models' reasoning text reaches clients (off: never shown)
    # The gateway's own waits, not read from the environment: tests pass small ones.
    usage_wait_seconds: float = 1.0  # for OCI's usage event after a stream's finish (core/chat/pipeline.py)
    retry_backoff_seconds: float = 0.25  # times the attempt number, before retrying an OCI call

    def __repr__(self) -> str:
        # Keys are secrets: show their names only.
        return (
            f"Settings(region={self.region!r}, compartment_id={self.compartment_id!r}, "
            f"auth={self.auth.value!r}, inference_endpoint={self.inference_endpoint!r}, "
            f"api_keys={sorted(self.api_keys)!r}, aliases={sorted(self.aliases)!r})"
        )

    __str__ = __repr__

    def __post_init__(self) -> None:
        if not self.regions:
            object.__setattr__(self, "regions", (self.region,))

    @property
    def multi_region(self) -> bool:
        """True when more than the home region is served."""
        return len(self.regions) > 1

    def target_of(self, model: str) -> Target:
        """Map a client-facing model name to its OCI target (aliases resolved, names pass through)."""
        return target_of(self.aliases, model)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build and validate settings; raise ConfigError naming the first bad variable."""
        auth = _enum(env, "GATEWAY_AUTH", AuthMode, AuthMode.RESOURCE_PRINCIPAL)
        listed = [r.strip() for r in env.get("GATEWAY_REGIONS", "").split(",") if r.strip()]
        region = (
            env.get("GATEWAY_REGION")
            or (listed[0] if listed else "")
            or env.get("OCI_RESOURCE_PRINCIPAL_REGION", "")
        )
        if not region:
            raise ConfigError("GATEWAY_REGION is required (e.g. us-chicago-1)")
        if not _REGION.match(region):
            raise ConfigError(f"GATEWAY_REGION {region!r} is not an OCI region name")
        regions = _regions(env.get("GATEWAY_REGIONS", ""), region)
        region = regions[0]
        compartment = env.get("GATEWAY_COMPARTMENT_ID", "")
        if not compartment.startswith("ocid1."):
            raise ConfigError("GATEWAY_COMPARTMENT_ID must be a compartment OCID (ocid1.compartment...)")
        inference = _url(env, "GATEWAY_OCI_ENDPOINT")
        if len(regions) > 1 and inference is not None and REGION_FIELD not in inference:
            raise ConfigError(
                f"GATEWAY_OCI_ENDPOINT must contain {REGION_FIELD} when GATEWAY_REGIONS lists several "
                "regions (each region has its own endpoint)"
            )
        home = None if inference is None else inference.replace(REGION_FIELD, region)
        keys = policy.parse_env(env.get("GATEWAY_API_KEYS", ""))
        namespace = env.get("GATEWAY_METRICS_NAMESPACE", "").strip() or "genai_gateway"
        if not _NAMESPACE.match(namespace):
            raise ConfigError(
                "GATEWAY_METRICS_NAMESPACE must be lower-case letters, digits and _, "
                "start with a letter and not with oci_ or oracle_"
            )
        return cls(
            region=region,
            regions=regions,
            compartment_id=compartment,
            auth=auth,
            oci_config_file=env.get("GATEWAY_OCI_CONFIG_FILE", "~/.oci/config"),
            oci_profile=env.get("GATEWAY_OCI_PROFILE", "DEFAULT"),
            inference_endpoint=inference,
            management_endpoint=_url(env, "GATEWAY_OCI_MANAGEMENT_ENDPOINT") or inference,
            api_keys=MappingProxyType(dict(keys)),
            key_policies=MappingProxyType(dict(keys.policies)),
            aliases=MappingProxyType(_aliases(env.get("GATEWAY_MODEL_ALIASES", ""))),
            models_cache_ttl=_number(env, "GATEWAY_MODELS_CACHE_TTL", 300.0, 0.0, 86400.0),
            upstream_timeout=_number(env, "GATEWAY_UPSTREAM_TIMEOUT", 120.0, 1.0, 300.0),
            upstream_retries=env_int(env, "GATEWAY_UPSTREAM_RETRIES", 1, 0, 5),
            cors_origins=tuple(
                o.strip() for o in env.get("GATEWAY_CORS_ORIGINS", "").split(",") if o.strip()
            ),
            log_level=parse_log_level(env),
            client_timeout=_number(env, "GATEWAY_CLIENT_TIMEOUT", 10.0, 0.1, 300.0),
            max_body_bytes=int(
                _number(env, "GATEWAY_MAX_BODY_BYTES", 6 * 1024 * 1024, 1024, 64 * 1024 * 1024)
            ),
            fetch_image_urls=_bool(env, "GATEWAY_FETCH_IMAGE_URLS", True),
            metrics=_bool(env, "GATEWAY_METRICS", True),
            limits_in_process=_bool(env, "GATEWAY_LIMITS_IN_PROCESS", False),
            metrics_namespace=namespace,
            metrics_flush_seconds=_number(env, "GATEWAY_METRICS_FLUSH_SECONDS", 5.0, 0.0, 60.0),
            # Locally the emulator serves Monitoring too, as it serves the model listing.
            # Usage metrics go to the home region's Monitoring, whichever region served the call.
            telemetry_endpoint=_url(env, "GATEWAY_OCI_TELEMETRY_ENDPOINT") or home,
            ingestion_endpoint=_url(env, "GATEWAY_OCI_TELEMETRY_INGESTION_ENDPOINT") or home,
            budget_cache_seconds=_number(env, "GATEWAY_BUDGET_CACHE_SECONDS", 60.0, 0.0, 3600.0),
            workers=env_int(env, "GATEWAY_WORKERS", 1, 1, 256),
            hosted_tools=_enum(env, "GATEWAY_HOSTED_TOOLS", HostedTools, HostedTools.OMIT),
            guardrails_output=_bool(env, "GATEWAY_GUARDRAILS_OUTPUT", False),
            otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None,
            reasoning_text=_bool(env, "GATEWAY_REASONING_TEXT", True),
        )


def _regions(raw: str, region: str) -> tuple[str, ...]:
    """GATEWAY_REGIONS, home first; only the home region when unset. All in one realm."""
    names = tuple(dict.fromkeys(r.strip() for r in raw.split(",") if r.strip()))
    if not names:
        return (region,)
    for name in names:
        if not _REGION.match(name):
            raise ConfigError(f"GATEWAY_REGIONS: {name!r} is not an OCI region name")
    if region != names[0]:
        raise ConfigError(
            f"GATEWAY_REGIONS lists the home region first: GATEWAY_REGION is {region!r}, the list "
            f"begins with {names[0]!r}"
        )
    if len(names) > 1:
        check_one_realm(names)
    return names


def _aliases(raw: str) -> dict[str, Target]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigError("GATEWAY_MODEL_ALIASES is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ConfigError("GATEWAY_MODEL_ALIASES must be a JSON object")
    out: dict[str, Target] = {}
    for name, value in parsed.items():
        if isinstance(value, str) and value:
            out[name] = Target(model=value)
        elif (
            isinstance(value, dict)
            and isinstance(value.get("endpoint"), str)
            and isinstance(value.get("model"), str)
        ):
            out[name] = Target(model=value["model"], endpoint_id=value["endpoint"])
        else:
            raise ConfigError(
                f"GATEWAY_MODEL_ALIASES[{name!r}] must be a model name or "
                '{"endpoint": "<endpoint OCID>", "model": "<base model name>"}'
            )
    return out


def _enum(env: Mapping[str, str], name: str, kind: type[E], default: E) -> E:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return kind(raw.strip().lower())
    except ValueError:
        raise ConfigError(f"{name} must be one of {[m.value for m in kind]}, not {raw!r}") from None


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip().rstrip("/")
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL")
    return raw


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{name} must be true or false, not {env.get(name)!r}")
    return raw in ("true", "1", "yes")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}")
    return value


def env_int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer setting in [low, high]; ConfigError naming the variable otherwise."""
    value = _number(env, name, default, low, high)
    if not float(value).is_integer():
        raise ConfigError(f"{name} must be an integer, not {env.get(name)!r}")
    return int(value)
