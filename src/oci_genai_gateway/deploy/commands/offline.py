"""Clients for `plan --offline`: an empty tenancy that answers every read and refuses every write."""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.deploy.engine.clients import ClientMaker
from oci_genai_gateway.deploy.engine.failures import DeployError

OFFLINE_DOMAIN_URL = "https://idcs-offline.identity.oraclecloud.com"


class EmptyTenancy:
    """One SDK client of a tenancy with nothing in it (and, unless told, a Default identity domain)."""

    def __init__(self, name: str, with_domain: bool) -> None:
        self._name = name
        self._with_domain = with_domain

    def __getattr__(self, method: str) -> Any:
        import oci

        def empty(data: Any) -> Any:
            return oci.response.Response(200, {}, data, None)

        if method == "list_domains":
            domain = oci.identity.models.Domain(
                display_name="Default", url=OFFLINE_DOMAIN_URL, type="DEFAULT", lifecycle_state="ACTIVE"
            )
            return lambda *a, **k: empty([domain] if self._with_domain else [])
        if method == "list_dynamic_resource_groups":
            return lambda *a, **k: empty(oci.identity_domains.models.DynamicResourceGroups(resources=[]))
        if method == "list_models":
            return lambda *a, **k: empty(oci.generative_ai.models.ModelCollection(items=[]))
        if method.startswith("list_"):
            return lambda *a, **k: empty([])
        # Reads that would need a tenancy are answered by placeholders in the plan instead.
        if method == "get_namespace":
            return lambda *a, **k: empty("<namespace>")

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise DeployError(f"offline: {self._name}.{method} needs a tenancy (run without --offline)")

        return refuse


def offline_maker(with_domain: bool = True) -> ClientMaker:
    """A ClientMaker whose clients are EmptyTenancy stubs."""

    def make(name: str, endpoint: str | None, region: str) -> Any:
        return EmptyTenancy(name, with_domain)

    return make
