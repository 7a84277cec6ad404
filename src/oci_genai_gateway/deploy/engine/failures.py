"""DeployError, and OCI failures turned into messages that name the resource and the fix."""

from __future__ import annotations

from typing import Any

# Where OCI lists the regions (and models) of Generative AI.
GENAI_REGIONS_URL = "https://docs.oracle.com/en-us/iaas/Content/generative-ai/pretrained-models.htm"
LIMITS_URL = "https://docs.oracle.com/en-us/iaas/Content/General/Concepts/servicelimits.htm"


class DeployError(RuntimeError):
    """A step failed; the message names the resource and the fix."""


def explain(what: str, family: str, compartment_id: str, exc: Any, again: str = "apply") -> str:
    """One message for an oci ServiceError (or a connection failure) raised while doing `what`.

    `again` is the command that resumes (apply, or destroy while destroying).
    """
    status = getattr(exc, "status", None)
    code = str(getattr(exc, "code", "") or "")
    message = str(getattr(exc, "message", "") or exc)
    where = (
        "in tenancy" if family in ("dynamic-groups", "policies") else f"in compartment id {compartment_id}"
    )
    if status == 404 and code.startswith("NotAuthorized"):
        return (
            f"{what}: OCI answered {status} {code}. Either the deploying user lacks a policy such as "
            f"`allow group <your-group> to manage {family} {where}`, or an OCID in the config is wrong."
        )
    if status == 401:
        return (
            f"{what}: OCI did not accept the credentials (401 {code}); check auth in the config or re-login"
        )
    if "LimitExceeded" in code or "QuotaExceeded" in code or "limit" in message.lower():
        return (
            f"{what}: a service limit or quota is reached ({code}: {message}). Request an increase "
            f"(Console: Governance > Limits, Quotas and Usage; {LIMITS_URL}) or remove unused resources."
        )
    if status == 409:
        return (
            f"{what}: conflict ({code}: {message}); another change may be in progress, wait and {again} again"
        )
    if status == 429 or (isinstance(status, int) and status >= 500):
        return (
            f"{what}: OCI answered {status} {code} ({message}), after retries; "
            f"{again} again, it resumes where it stopped"
        )
    if status is None:
        return (
            f"{what}: {type(exc).__name__}: {message}; check the network and the region, then {again} again"
        )
    return f"{what}: OCI answered {status} {code}: {message}"


def genai_region_problem(client: Any, compartment_id: str, region: str) -> str | None:
    """None when Generative AI answers in the region; otherwise what is wrong and the fix."""
    import oci

    try:
        client.list_models(compartment_id, limit=1)
    except oci.exceptions.ServiceError as exc:
        if exc.status == 404:
            return (
                f"OCI Generative AI did not answer in {region} (404 {exc.code}): the region may not offer it "
                f"(see {GENAI_REGIONS_URL}), or the deploying user cannot read it "
                f"(`allow group <your-group> to use generative-ai-family in compartment id {compartment_id}`)"
            )
        if exc.status == 401:
            return f"OCI did not accept the credentials when listing Generative AI models (401 {exc.code})"
        return None
    except (oci.exceptions.RequestException, oci.exceptions.ConnectTimeout, OSError) as exc:
        return (
            f"OCI Generative AI is not reachable in {region} ({type(exc).__name__}): the region probably "
            f"does not offer it; pick one listed at {GENAI_REGIONS_URL}"
        )
    return None
