"""The kind factory: calls and models derived from the SDK's names, checked against the SDK itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import oci
import pytest

from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind


class Recorder:
    """An SDK client that records each call and answers with an empty page."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, args, kwargs))
            return oci.response.Response(200, {}, [], None)

        return call


def test_a_conventional_kind_is_named_by_its_noun() -> None:
    kind = sdk_kind("route table", "virtual-network-family", "network", "route_table", scope_field="vcn_id")
    assert kind.create_model is oci.core.models.CreateRouteTableDetails
    assert kind.update_model is oci.core.models.UpdateRouteTableDetails
    client = Recorder()
    kind.lister(client, "comp", "vcn", "genai-public-rt")
    kind.create_call(client, "vcn", "details")
    kind.get_call(client, "vcn", "rt")
    assert kind.update_call is not None
    kind.update_call(client, "vcn", "rt", "details")
    kind.delete_call(client, "vcn", "rt")
    assert client.calls == [
        (
            "list_route_tables",
            (),
            {"compartment_id": "comp", "vcn_id": "vcn", "display_name": "genai-public-rt"},
        ),
        ("create_route_table", ("details",), {}),
        ("get_route_table", ("rt",), {}),
        ("update_route_table", ("rt", "details"), {}),
        ("delete_route_table", ("rt",), {}),
    ]
    assert kind.restore_call is None
    assert not kind.scheduled_delete


def test_kinds_inside_a_parent_take_it_first() -> None:
    log = sdk_kind("log", "logging-family", "logging", "log", scope_in_path=True)
    function = sdk_kind(
        "function",
        "functions-family",
        "functions",
        "function",
        scope_field="application_id",
        listed_in_scope=True,
    )
    client = Recorder()
    log.lister(client, "comp", "group", "invoke")
    log.get_call(client, "group", "log")
    function.lister(client, "comp", "app", "chat")
    function.create_call(client, "app", "details")
    assert client.calls == [
        ("list_logs", ("group",), {"display_name": "invoke"}),
        ("get_log", ("group", "log"), {}),
        ("list_functions", ("app",), {"display_name": "chat"}),
        ("create_function", ("details",), {}),
    ]


def test_vault_objects_are_scheduled_for_deletion_and_restored() -> None:
    secret = sdk_kind(
        "secret", "secret-family", "vaults", "secret", deletion_days=1, name_field="secret_name"
    )
    client = Recorder()
    secret.lister(client, "comp", None, "genai-api-keys")
    secret.delete_call(client, "vault", "secret")
    assert secret.restore_call is not None
    secret.restore_call(client, "vault", "secret")
    (listed, scheduled, cancelled) = client.calls
    assert listed == ("list_secrets", (), {"compartment_id": "comp", "name": "genai-api-keys"})
    assert scheduled[0] == "schedule_secret_deletion"
    assert scheduled[1][0] == "secret"
    details = scheduled[1][1]
    assert isinstance(details, oci.vault.models.ScheduleSecretDeletionDetails)
    assert details.time_of_deletion - datetime.now(UTC) > timedelta(days=1)
    assert cancelled == ("cancel_secret_deletion", ("secret",), {})
    assert secret.scheduled_delete


def test_iam_kinds_are_listed_by_name() -> None:
    group = sdk_kind(
        "dynamic group",
        "dynamic-groups",
        "identity_home",
        "dynamic_group",
        name_field="name",
        in_tenancy=True,
    )
    client = Recorder()
    group.lister(client, "tenancy", None, "genai-functions")
    assert client.calls == [
        ("list_dynamic_groups", (), {"compartment_id": "tenancy", "name": "genai-functions"})
    ]


def test_a_name_the_sdk_lacks_must_be_overridden() -> None:
    with pytest.raises(AttributeError, match=r"oci\.core\.models has no CreateInstanceDetails"):
        sdk_kind("compute instance", "instance-family", "compute", "instance")
    with pytest.raises(AttributeError, match=r"ComputeClient has no delete_instance\(\)"):
        sdk_kind("compute instance", "instance-family", "compute", "instance", create_verb="launch")
    kind = sdk_kind(
        "compute instance",
        "instance-family",
        "compute",
        "instance",
        create_verb="launch",
        delete_call=lambda c, scope, i: c.terminate_instance(i),
    )
    assert kind.create_model is oci.core.models.LaunchInstanceDetails
