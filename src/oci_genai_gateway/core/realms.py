"""Regions and realms: the endpoint template's placeholder, and the one-realm rule for GATEWAY_REGIONS.

One signer serves every region: an OCI session token (resource or instance principal) is issued by
the tenancy's identity domain, and IAM resources and policies are available in every region the
tenancy subscribes to (https://docs.oracle.com/en-us/iaas/Content/Identity/Tasks/managingregions.htm:
"When you subscribe to another region, your IAM resources are available in the new region"). Realms
(oc1 commercial, oc2 US Government, ...) are separate identity systems: a token from one is never
accepted in another, so a configuration spanning realms is refused before anything is signed.
"""

from __future__ import annotations

from collections.abc import Iterable

from oci_genai_gateway.core.errors import ConfigError

# In GATEWAY_OCI_ENDPOINT: where each region's name goes (OCI's hosts are per region).
REGION_FIELD = "{region}"


def realm_of(region: str) -> str | None:
    """The realm of a region the installed oci SDK knows (`oc1`, ...); None for one it does not."""
    from oci import regions_definitions  # deferred: the entry point's signer imports oci anyway

    realm = regions_definitions.REGION_REALMS.get(region)
    return str(realm) if realm is not None else None


def check_one_realm(regions: Iterable[str]) -> None:
    """Refuse regions of several realms, or a region whose realm cannot be told, with one clear line."""
    realms: dict[str, str] = {}
    for region in regions:
        realm = realm_of(region)
        if realm is None:
            raise ConfigError(
                f"GATEWAY_REGIONS: {region!r} is not an OCI region this gateway knows, so its realm "
                "cannot be checked (one signer serves the regions of one realm only)"
            )
        realms.setdefault(realm, region)
    if len(realms) > 1:
        named = ", ".join(f"{region} ({realm})" for realm, region in realms.items())
        raise ConfigError(
            f"GATEWAY_REGIONS spans several realms ({named}): a realm's tokens are not accepted in "
            "another, so one gateway serves regions of one realm; deploy one gateway per realm"
        )
