"""`deploy status`: call the live gateway end to end and say what is wrong (health, models, one chat)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

PROMPT = "Reply with the single word: ok"


@dataclass(frozen=True)
class Check:
    """One end-to-end check and, when it failed, the likely cause and fix."""

    name: str
    ok: bool
    detail: str


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('code') or error.get('type')}: {error.get('message')}"
    return str(body)[:200]


# What to do when API Gateway's usage-plan policy refuses calls (DEPLOY.md, "Usage plans").
USAGE_PLAN_FIX = (
    "set [api_gateway] usage_plans = false in the config and apply: keys are then checked by the "
    "authorizer only, and each function enforces the keys' rates and quotas"
)


def _from_api_gateway(response: httpx.Response) -> bool:
    """True for API Gateway's own refusals (`{"code": 401, "message": ...}`), not the gateway's envelope."""
    try:
        body = response.json()
    except ValueError:
        return True
    return not (isinstance(body, dict) and isinstance(body.get("error"), dict))


def usage_plan_refusal(response: httpx.Response, usage_plans: bool, key_from_secret: bool) -> str | None:
    """Why a keyed call was refused by the usage plan (not the key, not a function); None otherwise."""
    if not usage_plans or response.status_code not in (401, 403, 429):
        return None
    if not _from_api_gateway(response):
        return None  # the functions answered: the key got through API Gateway
    if response.status_code == 429:
        return "API Gateway's usage plan throttled the key (its rate or quota): wait, or raise its limits"
    who = "a key from the keys secret" if key_from_secret else "the key"
    return (
        f"API Gateway refused {who} before any function ran: the key is not an entitled usage-plan "
        f"subscriber. Run `oci-genai-gateway deploy apply` (it re-creates the subscribers); if every call "
        f"is still refused, OCI does not honour the plan: {USAGE_PLAN_FIX}"
    )


def _hint(status: int, target: str, logs: str) -> str:
    """What a status code from the gateway usually means here."""
    if status == 401:
        return (
            "the key was refused: it is not in the keys secret, or the authorizer cannot read the secret "
            "(policy statement `read secret-bundles` for the dynamic group)"
        )
    if status == 502:
        where = f"the invoke log {logs}" if target == "serverless" else "`sudo podman logs` on the VM"
        return (
            f"a function or OCI call failed; read {where}. Usual cause: a dynamic group lacks a "
            "Generative AI grant (`use generative-ai-chat`, ...) or `read secret-bundles`, or a new "
            "policy has not applied yet (minutes)"
        )
    if status == 500:
        return "a setting is missing or wrong (the message names it); fix it in the config and apply"
    if status == 404:
        return "not found: the model is not offered in this region, or the route is missing (apply again)"
    if status == 429:
        return "rate limited (api_gateway.rate_limit_rps, or OCI throttling); try again later"
    if status == 504:
        return "OCI did not answer in time; try again"
    return "unexpected; see the logs"


def run(
    base_url: str,
    api_key: str | None,
    *,
    target: str = "serverless",
    logs: str = "",
    model: str | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
    usage_plans: bool = False,
    key_from_secret: bool = False,
) -> list[Check]:
    """Health, auth, the model list and one chat call; stops after the first failure that blocks the rest."""
    root = base_url.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    checks: list[Check] = []
    with httpx.Client(base_url=root, transport=transport, timeout=timeout) as client:
        try:
            health = client.get("/health/readiness")
        except httpx.HTTPError as exc:
            fix = (
                "the API gateway is not ACTIVE yet, or its NSG lacks 443"
                if target == "serverless"
                else "the DNS record is missing or not yet visible, the VM is still booting, "
                "or its NSG lacks 443"
            )
            return [Check("health", False, f"cannot reach {root} ({type(exc).__name__}): {fix}")]
        ok = health.status_code == 200
        detail = f"GET /health/readiness -> {health.status_code}"
        if usage_plans and health.status_code in (401, 403) and _from_api_gateway(health):
            detail += (
                ": every call is refused by the usage plan, even this anonymous route (API Gateway "
                f"applies the usage-plan policy to every route); {USAGE_PLAN_FIX}"
            )
            return [Check("usage-plan", False, detail)]
        checks.append(Check("health", ok, detail))
        if not ok:
            return checks
        anonymous = client.get("/v1/models")
        ok = anonymous.status_code == 401
        detail = f"GET /v1/models without a key -> {anonymous.status_code}"
        checks.append(
            Check("auth", ok, detail if ok else f"{detail}: the API must refuse calls without a key")
        )
        if api_key is None:
            checks.append(
                Check("models", False, "no API key: pass --api-key (or let status read the secret)")
            )
            return checks
        headers = {"Authorization": f"Bearer {api_key}"}
        models = client.get("/v1/models", headers=headers)
        if models.status_code != 200:
            refused = usage_plan_refusal(models, usage_plans, key_from_secret)
            if refused is not None:
                checks.append(
                    Check("usage-plan", False, f"GET /v1/models -> {models.status_code}: {refused}")
                )
                return checks
            why = f"{_error(models)}; {_hint(models.status_code, target, logs)}"
            checks.append(Check("models", False, f"GET /v1/models -> {models.status_code}: {why}"))
            return checks
        ids = [m.get("id") for m in models.json().get("data", []) if isinstance(m, dict)]
        checks.append(Check("models", bool(ids), f"GET /v1/models -> {len(ids)} models"))
        chosen = model or next((i for i in ids if isinstance(i, str) and "embed" not in i), None)
        if chosen is None:
            checks.append(
                Check("chat", False, "no chat model listed: is Generative AI offered in this region?")
            )
            return checks
        body: dict[str, Any] = {
            "model": chosen,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": 16,
        }
        chat = client.post("/v1/chat/completions", json=body, headers=headers)
        if chat.status_code != 200:
            why = f"{_error(chat)}; {_hint(chat.status_code, target, logs)}"
            checks.append(
                Check("chat", False, f"POST /v1/chat/completions ({chosen}) -> {chat.status_code}: {why}")
            )
            return checks
        choices = chat.json().get("choices") or []
        checks.append(Check("chat", bool(choices), f"POST /v1/chat/completions ({chosen}) -> 200"))
    return checks
