"""An in-memory tenancy behind autospec'd oci clients: list, get, create, update and delete agree.

Every call is checked against the real SDK method (known keyword arguments; every model argument a real
model that round-trips through the SDK's serializer) and recorded in order. Deleting a parent that still
has children fails like OCI does (409), so a wrong destroy order fails the tests.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import oci
from oci.response import Response

from oci_genai_gateway.deploy.engine.clients import CLIENT_CLASSES
from oci_genai_gateway.deploy.engine.retries import MAX_ATTEMPTS
from tests.unit.deploy.sdk_checks import check_call

m_core, m_fn, m_gw, m_log = oci.core.models, oci.functions.models, oci.apigateway.models, oci.logging.models
TENANCY = "ocid1.tenancy.oc1..tenancy"
HOME = "us-ashburn-1"
PAGE = 1  # one item per page, so that every list call must follow pagination
# Autospec of a large SDK client takes a while; each test re-arms a cached one (reset, new side effects).
_AUTOSPECS: dict[str, Any] = {}


def sdk_class(name: str) -> type:
    """The SDK class behind a deploy client name."""
    module, cls = CLIENT_CLASSES[name].split(".")
    return getattr(getattr(oci, module), cls)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Type:
    """One resource collection: which client, its live model, its calls."""

    client: str
    live: type
    noun: str
    plural: str
    ready: str
    name_field: str = "display_name"
    parent: str | None = None  # attribute naming the parent (for 409 on parent deletion)
    create: str | None = None
    delete: str | None = None
    work_requests: bool = False
    scheduled: bool = False
    # API Gateway answers with the object and a work request; Logging with the work request only.
    data_with_work_request: bool = False


TYPES = {
    "vcn": Type("network", m_core.Vcn, "vcn", "vcns", "AVAILABLE"),
    "igw": Type(
        "network",
        m_core.InternetGateway,
        "internet_gateway",
        "internet_gateways",
        "AVAILABLE",
        parent="vcn_id",
    ),
    "nat": Type("network", m_core.NatGateway, "nat_gateway", "nat_gateways", "AVAILABLE", parent="vcn_id"),
    "sgw": Type(
        "network", m_core.ServiceGateway, "service_gateway", "service_gateways", "AVAILABLE", parent="vcn_id"
    ),
    "rt": Type("network", m_core.RouteTable, "route_table", "route_tables", "AVAILABLE", parent="vcn_id"),
    "sl": Type(
        "network", m_core.SecurityList, "security_list", "security_lists", "AVAILABLE", parent="vcn_id"
    ),
    "subnet": Type("network", m_core.Subnet, "subnet", "subnets", "AVAILABLE", parent="vcn_id"),
    "nsg": Type(
        "network",
        m_core.NetworkSecurityGroup,
        "network_security_group",
        "network_security_groups",
        "AVAILABLE",
        parent="vcn_id",
    ),
    "ip": Type("network", m_core.PublicIp, "public_ip", "public_ips", "ASSIGNED"),
    "instance": Type(
        "compute",
        m_core.Instance,
        "instance",
        "instances",
        "RUNNING",
        create="launch_instance",
        delete="terminate_instance",
    ),
    "dg": Type(
        "identity", oci.identity.models.DynamicGroup, "dynamic_group", "dynamic_groups", "ACTIVE", "name"
    ),
    "policy": Type("identity", oci.identity.models.Policy, "policy", "policies", "ACTIVE", "name"),
    "vault": Type("kms_vault", oci.key_management.models.Vault, "vault", "vaults", "ACTIVE", scheduled=True),
    "key": Type("kms_management", oci.key_management.models.Key, "key", "keys", "ENABLED", scheduled=True),
    "secret": Type(
        "vaults", oci.vault.models.Secret, "secret", "secrets", "ACTIVE", "secret_name", scheduled=True
    ),
    "repo": Type(
        "artifacts",
        oci.artifacts.models.ContainerRepository,
        "container_repository",
        "container_repositories",
        "AVAILABLE",
    ),
    "image": Type(
        "artifacts",
        oci.artifacts.models.ContainerImageSummary,
        "container_image",
        "container_images",
        "AVAILABLE",
    ),
    "app": Type("functions", m_fn.Application, "application", "applications", "ACTIVE", parent="subnet_ids"),
    "fn": Type("functions", m_fn.Function, "function", "functions", "ACTIVE", parent="application_id"),
    "gateway": Type(
        "gateway",
        m_gw.Gateway,
        "gateway",
        "gateways",
        "ACTIVE",
        parent="subnet_id",
        work_requests=True,
        data_with_work_request=True,
    ),
    "deployment": Type(
        "deployment",
        m_gw.Deployment,
        "deployment",
        "deployments",
        "ACTIVE",
        parent="gateway_id",
        work_requests=True,
        data_with_work_request=True,
    ),
    "usage_plan": Type("usage_plans", m_gw.UsagePlan, "usage_plan", "usage_plans", "ACTIVE"),
    # A plan that still has subscribers cannot be deleted (409), like a VCN that still has subnets.
    "subscriber": Type(
        "subscribers", m_gw.Subscriber, "subscriber", "subscribers", "ACTIVE", parent="usage_plans"
    ),
    "log_group": Type("logging", m_log.LogGroup, "log_group", "log_groups", "ACTIVE", work_requests=True),
    "alarm": Type("monitoring", oci.monitoring.models.Alarm, "alarm", "alarms", "ACTIVE"),
    "log": Type("logging", m_log.Log, "log", "logs", "ACTIVE", parent="log_group_id", work_requests=True),
}
# Which attribute a list filter compares.
_FILTERS = {
    "compartment_id",
    "vcn_id",
    "display_name",
    "application_id",
    "log_group_id",
    "gateway_id",
    "vault_id",
    "lifetime",
    "repository_name",
    "version",
    "instance_id",
    "vnic_id",
    "name",
}
_MUTATING = (
    "create_",
    "update_",
    "delete_",
    "launch_",
    "terminate_",
    "schedule_",
    "cancel_",
    "add_",
    "remove_",
    "put_",
)


class Crash(BaseException):
    """The deploying process dies (not an Exception: nothing in deploy may catch it)."""


def service_error(status: int, code: str, message: str = "failed") -> oci.exceptions.ServiceError:
    """What the SDK raises for an error response."""
    return oci.exceptions.ServiceError(status, code, {}, message)


@dataclass
class Call:
    """One recorded SDK call."""

    client: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class FakeTenancy:
    """Autospec'd SDK clients over one in-memory store; `maker` is a deploy ClientMaker."""

    def __init__(
        self, mocker: Any, *, domains: bool = True, compartment: str = "ocid1.compartment.oc1..comp"
    ) -> None:
        self.compartment = compartment
        self.domains = domains
        self.store: dict[str, dict[str, Any]] = {t: {} for t in TYPES}
        self.store |= {"rule": {}, "drg": {}, "vnic": {}, "private_ip": {}}
        self.secret_versions: dict[str, list[str]] = {}
        # Monitoring's answers to SummarizeMetricsData, by metric name (oci.monitoring.models.MetricData).
        self.metric_series: dict[str, list[Any]] = {}
        self.instance_refs: dict[str, list[str]] = {}
        self.calls: list[Call] = []
        self.made: list[tuple[str, str | None, str]] = []
        self.failures: dict[str, list[Exception]] = {}
        # Raised after the call took effect (the response was lost): the retry must not repeat it.
        self.failures_after: dict[str, list[Exception]] = {}
        # Faults in the resources' own lifecycle, by collection: how many reads a new object stays
        # CREATING, and which end FAILED (with OCI's message in lifecycle_details).
        self.creating_reads: dict[str, int] = {}
        self.end_failed: dict[str, str] = {}
        self.failed_work_requests: dict[str, str] = {}
        self._busy: dict[str, int] = {}
        self._retry_tokens: dict[str, Response] = {}
        self._work_requests: dict[str, str] = {}
        # The process dies right after this many changes took effect (crash tests).
        self.crash_after: int | None = None
        self._ids = itertools.count(1)
        self._mocker = mocker
        self.clients: dict[str, Any] = {}

    # --- wiring -----------------------------------------------------------------------------------

    def client(self, name: str) -> Any:
        """The autospec'd client `name`, made on first use (autospec of a large client is slow)."""
        if name not in self.clients:
            cls = sdk_class(name)
            if name not in _AUTOSPECS:
                _AUTOSPECS[name] = self._mocker.create_autospec(cls, instance=True)
            mock = _AUTOSPECS[name]
            mock.reset_mock()
            for method, _ in inspect.getmembers(cls, inspect.isfunction):
                if not method.startswith("_"):
                    getattr(mock, method).side_effect = self._wrap(name, cls, method)
            self.clients[name] = mock
        return self.clients[name]

    def maker(self, name: str, endpoint: str | None, region: str) -> Any:
        """The deploy ClientMaker: one mock per client name, whatever the endpoint or region."""
        self.made.append((name, endpoint, region))
        return self.client(name)

    def fail_next(self, method: str, exc: Exception) -> None:
        """Make the next call of `method` raise `exc` (before it changes anything)."""
        self.failures.setdefault(method, []).append(exc)

    def fail_persistently(self, method: str, exc: Exception) -> None:
        """Make `method` fail more often than the retry strategy tries (its next MAX_ATTEMPTS calls)."""
        for _ in range(MAX_ATTEMPTS):
            self.fail_next(method, exc)

    def fail_after(self, method: str, exc: Exception) -> None:
        """Make the next call of `method` take effect, then raise `exc` (a lost response)."""
        self.failures_after.setdefault(method, []).append(exc)

    def _wrap(self, client: str, cls: type, method: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            check_call(cls, method, args, kwargs)
            self.calls.append(Call(client, method, args, kwargs))
            if self.failures.get(method):
                raise self.failures[method].pop(0)
            token = kwargs.get("opc_retry_token")
            if token is not None and token in self._retry_tokens:
                return copy.deepcopy(self._retry_tokens[token])  # OCI: same token, same answer
            handler = getattr(self, f"_h_{method}", None) or self._generic(method)
            kwargs = {k: v for k, v in kwargs.items() if k != "opc_retry_token"}
            response = handler(*args, **kwargs)
            if token is not None:
                self._retry_tokens[token] = copy.deepcopy(response)
            if self.failures_after.get(method):
                raise self.failures_after[method].pop(0)
            crash = self.crash_after is not None and len(self.mutations) >= self.crash_after
            if crash and method.startswith(_MUTATING):
                self.crash_after = None
                raise Crash(f"crashed after {method}")
            return response

        return call

    @property
    def mutations(self) -> list[tuple[str, str]]:
        """(client, method) of every call that changes something, in order."""
        return [(c.client, c.method) for c in self.calls if c.method.startswith(_MUTATING)]

    def mutation_calls(self, method: str) -> list[Call]:
        """The recorded calls of one mutating method."""
        return [c for c in self.calls if c.method == method]

    def new_id(self, noun: str) -> str:
        """A fresh OCID-looking id."""
        return f"ocid1.{noun.replace('_', '')}.oc1..{next(self._ids)}"

    def add(self, kind: str, obj: Any) -> Any:
        """Put an object straight into the store (pre-existing resources in a test)."""
        if getattr(obj, "id", None) is None:
            obj.id = self.new_id(TYPES[kind].noun if kind in TYPES else kind)
        self.store[kind][obj.id] = obj
        return obj

    def objects(self, kind: str) -> list[Any]:
        """Live objects of a collection."""
        return list(self.store[kind].values())

    # --- generic collection behaviour -------------------------------------------------------------

    def _generic(self, method: str) -> Callable[..., Any]:
        for kind, t in TYPES.items():
            if method in (t.create or f"create_{t.noun}",):
                return lambda *a, **k: self._create(kind, a, k)
            if method == f"get_{t.noun}":
                return lambda *a, **k: self._get(kind, a[-1])
            if method == f"update_{t.noun}":
                return lambda *a, **k: self._update(kind, a[-2], a[-1])
            if method == (t.delete or f"delete_{t.noun}"):
                return lambda *a, **k: self._delete(kind, a[-1])
            if method == f"schedule_{t.noun}_deletion":
                return lambda *a, **k: self._schedule(kind, a[0])
            if method == f"cancel_{t.noun}_deletion":
                return lambda *a, **k: self._cancel(kind, a[0])
            if method == f"list_{t.plural}":
                return lambda *a, **k: self._list(kind, method, a, k)
        raise AssertionError(f"deploy called {method}, which the fake tenancy does not expect")

    def _response(self, data: Any, work_request: bool = False, kind: str = "") -> Response:
        headers = {}
        if work_request:
            headers["opc-work-request-id"] = f"wr-{next(self._ids)}"
            self._work_requests[headers["opc-work-request-id"]] = kind
        return Response(200, headers, copy.deepcopy(data), None)

    def _answer(self, kind: str, obj: Any) -> Response:
        t = TYPES[kind]
        data = obj if (not t.work_requests or t.data_with_work_request) else None
        return self._response(data, t.work_requests, kind)

    def _list(self, kind: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Response:
        cls = sdk_class(TYPES[kind].client)
        params = [
            p for p in inspect.signature(getattr(cls, method)).parameters if p not in ("self", "kwargs")
        ]
        filters = dict(zip(params, args, strict=False)) | kwargs
        items = [o for o in self.store[kind].values() if self._matches(kind, o, filters)]
        return self._page(items, kwargs.get("page"))

    def _page(self, items: list[Any], page: str | None) -> Response:
        start = int(page or 0)
        headers = {"opc-next-page": str(start + PAGE)} if start + PAGE < len(items) else {}
        return Response(200, headers, copy.deepcopy(items[start : start + PAGE]), None)

    def _matches(self, kind: str, obj: Any, filters: dict[str, Any]) -> bool:
        for key, value in filters.items():
            if key not in _FILTERS or value is None:
                continue
            if key == "compartment_id" and filters.get("compartment_id_in_subtree"):
                continue  # the whole tenancy (one level of compartments in this fake)
            attr = TYPES[kind].name_field if key == "name" and kind in TYPES else key
            if getattr(obj, attr, value) != value:
                return False
        return True

    def _create(self, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Response:
        t = TYPES[kind]
        details = args[-1]
        obj = t.live()
        for attr in details.swagger_types:
            value = getattr(details, attr)
            if value is not None and attr in obj.swagger_types:
                setattr(obj, attr, copy.deepcopy(value))
        obj.id = self.new_id(t.noun)
        obj.lifecycle_state = t.ready
        if kind == "log":
            obj.log_group_id = args[0]
        getattr(self, f"_after_create_{kind}", lambda o, d: None)(obj, details)
        self.store[kind][obj.id] = obj
        self._start(kind, obj)
        return self._answer(kind, obj)

    def _start(self, kind: str, obj: Any) -> None:
        """A new (or changed) object is CREATING for a while, and may end FAILED."""
        reads = self.creating_reads.get(kind, 0)
        if reads:
            self._busy[obj.id] = reads
            obj.lifecycle_state = "CREATING"
        elif kind in self.end_failed:
            self._fail(kind, obj)

    def _fail(self, kind: str, obj: Any) -> None:
        obj.lifecycle_state = "FAILED"
        message = self.end_failed[kind]
        if "lifecycle_details" in obj.swagger_types:
            obj.lifecycle_details = message
        if not TYPES[kind].work_requests or TYPES[kind].data_with_work_request:
            del self.end_failed[kind]  # otherwise the work request reports it (and forgets it)

    def _get(self, kind: str, ocid: str) -> Response:
        if ocid not in self.store[kind]:
            raise service_error(404, "NotAuthorizedOrNotFound")
        obj = self.store[kind][ocid]
        if self._busy.get(ocid):
            self._busy[ocid] -= 1
            if not self._busy[ocid]:
                del self._busy[ocid]
                obj.lifecycle_state = TYPES[kind].ready
                if kind in self.end_failed:
                    self._fail(kind, obj)
        return self._response(obj)

    def _update(self, kind: str, ocid: str, details: Any) -> Response:
        obj = self.store[kind][ocid]
        for attr in details.swagger_types:
            value = getattr(details, attr)
            if value is not None and attr in obj.swagger_types:
                setattr(obj, attr, copy.deepcopy(value))
        getattr(self, f"_after_update_{kind}", lambda o, d: None)(obj, details)
        return self._answer(kind, obj)

    def _delete(self, kind: str, ocid: str) -> Response:
        if ocid not in self.store[kind]:
            raise service_error(404, "NotAuthorizedOrNotFound")
        for child_kind, t in TYPES.items():
            for child in self.store[child_kind].values():
                parent = getattr(child, t.parent, None) if t.parent else None
                if (
                    parent == ocid or (isinstance(parent, list) and ocid in parent)
                ) and child.lifecycle_state != "TERMINATED":
                    raise service_error(409, "Conflict", f"{ocid} still has a {child_kind} {child.id}")
        for subnet in self.store["subnet"].values():
            if ocid == subnet.route_table_id or ocid in (subnet.security_list_ids or []):
                raise service_error(409, "Conflict", f"{ocid} is used by subnet {subnet.id}")
        for instance in self.store["instance"].values():
            if instance.lifecycle_state != "TERMINATED" and ocid in self.instance_refs.get(instance.id, []):
                raise service_error(409, "Conflict", f"{ocid} is used by instance {instance.id}")
        if kind == "instance":
            self.store[kind][ocid].lifecycle_state = "TERMINATED"
        else:
            del self.store[kind][ocid]
        return self._response(None, TYPES[kind].work_requests, kind)

    def _schedule(self, kind: str, ocid: str) -> Response:
        self.store[kind][ocid].lifecycle_state = "PENDING_DELETION"
        return self._response(self.store[kind][ocid])

    def _cancel(self, kind: str, ocid: str) -> Response:
        self.store[kind][ocid].lifecycle_state = TYPES[kind].ready
        return self._response(None)

    # --- per-type details -------------------------------------------------------------------------

    def _after_create_vault(self, obj: Any, details: Any) -> None:
        obj.management_endpoint = f"https://{obj.id[-4:]}-management.kms.example.oraclecloud.com"

    def _after_create_fn(self, obj: Any, details: Any) -> None:
        source = details.source_details
        obj.source_details = m_fn.ContainerImageFunctionSourceDetails(
            image=source.image, image_digest=source.image_digest
        )
        obj.compartment_id = self.store["app"][details.application_id].compartment_id

    def _after_update_fn(self, obj: Any, details: Any) -> None:
        if details.source_details is not None:
            source = details.source_details
            obj.source_details = m_fn.ContainerImageFunctionSourceDetails(
                image=source.image, image_digest=source.image_digest
            )

    def _after_create_gateway(self, obj: Any, details: Any) -> None:
        obj.hostname = f"gw{obj.id[-3:]}.apigateway.us-chicago-1.oci.customer-oci.com"

    def _after_create_deployment(self, obj: Any, details: Any) -> None:
        obj.endpoint = f"https://{self.store['gateway'][details.gateway_id].hostname}{details.path_prefix}"

    def _after_create_secret(self, obj: Any, details: Any) -> None:
        self.secret_versions[obj.id] = [details.secret_content.content]
        obj.current_version_number = 1

    def _after_update_secret(self, obj: Any, details: Any) -> None:
        if details.secret_content is not None:
            self.secret_versions[obj.id].append(details.secret_content.content)
            obj.current_version_number = len(self.secret_versions[obj.id])

    def _after_create_dg(self, obj: Any, details: Any) -> None:
        obj.compartment_id = TENANCY

    def _after_create_ip(self, obj: Any, details: Any) -> None:
        obj.ip_address = "203.0.113.10"
        obj.lifecycle_state = "ASSIGNED" if details.private_ip_id else "AVAILABLE"

    def _after_create_instance(self, obj: Any, details: Any) -> None:
        obj.image_id = details.source_details.image_id
        obj.shape_config = m_core.InstanceShapeConfig(
            ocpus=details.shape_config.ocpus, memory_in_gbs=details.shape_config.memory_in_gbs
        )
        vnic = details.create_vnic_details
        obj.metadata = dict(details.metadata)
        self.instance_refs[obj.id] = [vnic.subnet_id, *(vnic.nsg_ids or [])]
        vnic_id = self.new_id("vnic")
        attachment = m_core.VnicAttachment(
            id=self.new_id("vnicattachment"),
            instance_id=obj.id,
            vnic_id=vnic_id,
            lifecycle_state="ATTACHED",
            compartment_id=obj.compartment_id,
        )
        self.store["vnic"][attachment.id] = attachment
        ip = m_core.PrivateIp(id=self.new_id("privateip"), vnic_id=vnic_id, is_primary=True)
        self.store["private_ip"][ip.id] = ip

    # --- calls with their own shape -----------------------------------------------------------------

    def _h_list_services(self, **kwargs: Any) -> Response:
        return self._page(
            [
                m_core.Service(
                    id="ocid1.service.oc1..all",
                    cidr_block="all-ord-services-in-oracle-services-network",
                    name="All ORD Services",
                )
            ],
            kwargs.get("page"),
        )

    def _h_list_domains(self, compartment_id: str, **kwargs: Any) -> Response:
        domain = oci.identity.models.Domain(
            id="ocid1.domain.oc1..default",
            display_name="Default",
            url="https://idcs-default.identity.oraclecloud.com",
            type="DEFAULT",
            lifecycle_state="ACTIVE",
        )
        return self._page([domain] if self.domains else [], kwargs.get("page"))

    def _h_list_region_subscriptions(self, tenancy_id: str, **kwargs: Any) -> Response:
        home = oci.identity.models.RegionSubscription(region_name=HOME, is_home_region=True, region_key="IAD")
        other = oci.identity.models.RegionSubscription(region_name="us-chicago-1", is_home_region=False)
        return self._response([other, home])

    def _h_list_availability_domains(self, compartment_id: str, **kwargs: Any) -> Response:
        return self._response([oci.identity.models.AvailabilityDomain(name="Uocm:US-CHICAGO-1-AD-1")])

    def _h_list_images(self, compartment_id: str, **kwargs: Any) -> Response:
        images = [
            m_core.Image(
                id="ocid1.image.oc1..minimal", display_name="Canonical-Ubuntu-24.04-Minimal-2026.01"
            ),
            m_core.Image(id="ocid1.image.oc1..ubuntu", display_name="Canonical-Ubuntu-24.04-2026.01"),
        ]
        return self._page(images, kwargs.get("page"))

    def _h_get_namespace(self, **kwargs: Any) -> Response:
        return self._response("tenancyns")

    def _h_list_models(self, compartment_id: str, **kwargs: Any) -> Response:
        return self._response(oci.generative_ai.models.ModelCollection(items=[]))

    def _h_get_work_request(self, work_request_id: str, **kwargs: Any) -> Response:
        kind = self._work_requests.get(work_request_id, "")
        status = "FAILED" if work_request_id in self.failed_work_requests else "SUCCEEDED"
        if kind in self.end_failed and not TYPES[kind].data_with_work_request:
            self.failed_work_requests[work_request_id] = self.end_failed.pop(kind)
            status = "FAILED"
        return self._response(m_log.WorkRequest(id=work_request_id, status=status))

    def _h_list_work_request_errors(self, work_request_id: str, **kwargs: Any) -> Response:
        message = self.failed_work_requests.get(work_request_id)
        errors = [m_gw.WorkRequestError(code="InternalError", message=message)] if message else []
        return self._response(m_gw.WorkRequestErrorCollection(items=errors))

    def _h_get_secret_bundle(self, secret_id: str, **kwargs: Any) -> Response:
        content = oci.secrets.models.Base64SecretBundleContentDetails(
            content_type="BASE64", content=self.secret_versions[secret_id][-1]
        )
        return self._response(
            oci.secrets.models.SecretBundle(secret_id=secret_id, secret_bundle_content=content)
        )

    def _h_summarize_metrics_data(self, compartment_id: str, details: Any, **kwargs: Any) -> Response:
        name = details.query.split("[", 1)[0]
        return self._response(list(self.metric_series.get(name, [])))

    def _h_list_network_security_group_security_rules(
        self, network_security_group_id: str, **kwargs: Any
    ) -> Response:
        rules = [r for r in self.store["rule"].values() if r._nsg == network_security_group_id]
        return self._page(rules, kwargs.get("page"))

    def _h_add_network_security_group_security_rules(
        self, nsg_id: str, details: Any, **kwargs: Any
    ) -> Response:
        for rule in details.security_rules:
            live = m_core.SecurityRule(
                **{a: getattr(rule, a) for a in rule.swagger_types}, id=self.new_id("rule")
            )
            live._nsg = nsg_id
            self.store["rule"][live.id] = live
        return self._response(None)

    def _h_remove_network_security_group_security_rules(
        self, nsg_id: str, details: Any, **kwargs: Any
    ) -> Response:
        for rule_id in details.security_rule_ids:
            del self.store["rule"][rule_id]
        return self._response(None)

    def _h_list_vnic_attachments(self, compartment_id: str, **kwargs: Any) -> Response:
        items = [a for a in self.store["vnic"].values() if a.instance_id == kwargs.get("instance_id")]
        return self._page(items, kwargs.get("page"))

    def _h_list_private_ips(self, **kwargs: Any) -> Response:
        items = [i for i in self.store["private_ip"].values() if i.vnic_id == kwargs.get("vnic_id")]
        return self._page(items, kwargs.get("page"))

    def _h_list_dynamic_resource_groups(self, **kwargs: Any) -> Response:
        name = kwargs["filter"].split('"')[1]
        found = [g for g in self.store["drg"].values() if g.display_name == name]
        return self._response(oci.identity_domains.models.DynamicResourceGroups(resources=found))

    def _h_create_dynamic_resource_group(self, **kwargs: Any) -> Response:
        group = copy.deepcopy(kwargs["dynamic_resource_group"])
        group.id = f"drg-{next(self._ids)}"
        group.ocid = self.new_id("dynamicgroup")
        self.store["drg"][group.id] = group
        return self._response(group)

    def _h_put_dynamic_resource_group(self, group_id: str, **kwargs: Any) -> Response:
        group = copy.deepcopy(kwargs["dynamic_resource_group"])
        group.id, group.ocid = group_id, self.store["drg"][group_id].ocid
        self.store["drg"][group_id] = group
        return self._response(group)

    def _h_delete_dynamic_resource_group(self, group_id: str, **kwargs: Any) -> Response:
        del self.store["drg"][group_id]
        return self._response(None)

    def _h_delete_container_image(self, image_id: str, **kwargs: Any) -> Response:
        del self.store["image"][image_id]
        return self._response(None)


class FakeBuilder:
    """A container tool that 'pushes' by adding the image to the fake tenancy's OCIR."""

    def __init__(self, tenancy: FakeTenancy, tool: str | None = "docker") -> None:
        self.tenancy = tenancy
        self._tool = tool
        self.steps: list[Any] = []

    def tool(self) -> str | None:
        """The pretend tool."""
        return self._tool

    def run(self, step: Any) -> None:
        """Record and publish."""
        self.steps.append(step)
        repo_path, version = step.ref.rsplit(":", 1)
        repository = repo_path.split("/", 2)[2]
        image = oci.artifacts.models.ContainerImageSummary(
            digest="sha256:" + hashlib.sha256(f"{step.ref}#{len(self.steps)}".encode()).hexdigest(),
            display_name=f"{repository}:{version}",
            repository_name=repository,
            version=version,
            compartment_id=self.tenancy.compartment,
            lifecycle_state="AVAILABLE",
        )
        self.tenancy.add("image", image)
