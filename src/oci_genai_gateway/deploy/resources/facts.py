"""Read-only look-ups the desired resources depend on (identity domain, service gateway target, image)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine.clients import Clients
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import pending
from oci_genai_gateway.deploy.engine.sdk_calls import list_all


@dataclass(frozen=True)
class Domain:
    """The identity domain that holds the dynamic group."""

    name: str
    url: str


@dataclass(frozen=True)
class Facts:
    """What the tenancy says; placeholders when offline."""

    tenancy_id: str
    domain: Domain | None = None
    services_id: str = pending("services.id")
    services_cidr: str = pending("services.cidr_block")
    availability_domain: str = pending("availability_domain")
    image_id: str = pending("ubuntu_image")
    namespace: str = pending("namespace")
    region_key: str = "xxx"


def region_key(region: str) -> str:
    """The short key of a region (us-chicago-1 -> ord), as OCIR host names use it."""
    import oci

    keys = {name: key for key, name in oci.regions.REGIONS_SHORT_NAMES.items()}
    return str(keys.get(region, region))


def find_domain(config: DeployConfig, clients: Clients) -> Domain | None:
    """The identity domain for dynamic groups, or None in a tenancy without identity domains."""
    import oci

    if config.identity.mode == "legacy":
        return None
    try:
        domains = list_all(clients.identity.list_domains, clients.tenancy_id)
    except oci.exceptions.ServiceError as exc:
        # Not "no domains": a tenancy without identity domains lists none. Guessing legacy here would
        # create the dynamic group in the wrong place.
        if exc.status == 404:
            raise DeployError(
                "listing identity domains: OCI answered 404 NotAuthorizedOrNotFound; allow the deploying "
                "user to `inspect domains in tenancy`, or set identity.mode to 'domains' or 'legacy'"
            ) from None
        raise
    active = [d for d in domains if d.lifecycle_state in (None, "ACTIVE")]
    if not active:
        if config.identity.mode == "domains":
            raise ConfigError("identity.mode = 'domains', but the tenancy lists no identity domain")
        return None
    wanted = config.identity.domain
    for domain in active:
        if domain.display_name == wanted:
            return Domain(domain.display_name, domain.url)
    names = sorted(d.display_name for d in active)
    raise ConfigError(f"identity.domain {wanted!r} is not one of the tenancy's domains {names}")


def gather(config: DeployConfig, clients: Clients) -> Facts:
    """Everything the resource specs need to know about the tenancy before any change."""
    services_id, services_cidr = pending("services.id"), pending("services.cidr_block")
    if config.target in ("serverless", "scaled") and not config.network.reuse:
        services = list_all(clients.network.list_services)
        # "All <region> Services in Oracle Services Network": Vault, OCIR, Object Storage and more.
        every = [s for s in services if str(s.cidr_block).startswith("all-")]
        if every:
            services_id, services_cidr = every[0].id, every[0].cidr_block
    ad, image = pending("availability_domain"), pending("ubuntu_image")
    if config.target in ("compose", "scaled"):
        ad = config.compose.availability_domain or _first_ad(clients)
        image = config.compose.image_id or _ubuntu_image(config, clients)
    namespace = pending("namespace")
    if config.target == "serverless" and not config.images.refs:
        namespace = str(clients.object_storage.get_namespace().data)
    return Facts(
        tenancy_id=clients.tenancy_id,
        domain=find_domain(config, clients),
        services_id=services_id,
        services_cidr=services_cidr,
        availability_domain=ad,
        image_id=image,
        namespace=namespace,
        region_key=region_key(config.region),
    )


def _first_ad(clients: Clients) -> str:
    ads = clients.identity.list_availability_domains(clients.tenancy_id).data
    return str(ads[0].name) if ads else pending("availability_domain")


def _ubuntu_image(config: DeployConfig, clients: Clients) -> str:
    images: list[Any] = list_all(
        clients.compute.list_images,
        config.compartment_id,
        operating_system="Canonical Ubuntu",
        operating_system_version="24.04",
        shape=config.compose.shape,
        sort_by="TIMECREATED",
        sort_order="DESC",
    )
    # The minimal image lacks netfilter-persistent, which cloud-init.yaml runs.
    full = [i for i in images if "Minimal" not in str(i.display_name)]
    if not full:
        return pending("ubuntu_image")
    return str(full[0].id)
