"""sdk_kind: the one factory of SdkKinds, their calls and models derived from the SDK's naming conventions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, Unpack

from oci_genai_gateway.deploy.engine.clients import CLIENT_CLASSES
from oci_genai_gateway.deploy.engine.retries import takes_retry_token
from oci_genai_gateway.deploy.engine.sdk_calls import list_all
from oci_genai_gateway.deploy.engine.sdk_kind import Lister, SdkKind


class KindOverrides(TypedDict, total=False):
    """SdkKind fields sdk_kind passes on as given: the calls, only where the SDK departs from its naming."""

    lister: Lister
    create_model: Any
    create_call: Callable[[Any, str | None, Any], Any]
    get_call: Callable[[Any, str | None, str], Any]
    update_model: Any | None
    update_call: Callable[[Any, str | None, str, Any], Any] | None
    delete_call: Callable[[Any, str | None, str], Any]
    restore_call: Callable[[Any, str | None, str], Any] | None
    name_field: str
    scope_field: str
    in_tenancy: bool
    ready: tuple[str, ...]
    deleted: tuple[str, ...]
    deleting: tuple[str, ...]
    failed: tuple[str, ...]
    work_requests: bool
    work_request_client: str
    releases_vnics: bool
    create_retry_token: bool
    immutable: frozenset[str]
    replaceable: bool
    endpoint_from_scope: bool


def sdk_kind(
    label: str,
    family: str,
    client: str,
    noun: str,
    *,
    cls: type[SdkKind] = SdkKind,
    by_name: bool = True,
    listed_in_scope: bool = False,
    scope_in_path: bool = False,
    create_verb: str = "create",
    deletion_days: int | None = None,
    **overrides: Unpack[KindOverrides],
) -> SdkKind:
    """A kind whose calls follow the SDK's names for `noun`; each derived name is checked against the SDK.

    list_<noun>s(compartment_id=..., <scope_field>=scope, display_name|name=name), <create_verb>_<noun>
    with <CreateVerb><Noun>Details, get_<noun>, update_<noun> with Update<Noun>Details, delete_<noun>.
    by_name=False: the list call has no name filter (the kind compares names itself).
    listed_in_scope: listed by the parent instead (list_functions(application_id)).
    scope_in_path: every call takes the parent first, the list call too (logs in their log group).
    deletion_days: a Vault object; schedule_<noun>_deletion that many days ahead, cancel_<noun>_deletion.
    """
    sdk, models = _sdk(client)
    model = "".join(part.title() for part in noun.split("_"))
    in_scope = listed_in_scope or scope_in_path
    name_field = overrides.get("name_field", "display_name")
    # OCI filters lists by display_name, or by `name` for kinds named otherwise (IAM, secrets).
    name_filter = ("display_name" if name_field == "display_name" else "name") if by_name else None
    scope_filter = None if in_scope else overrides.get("scope_field")
    # Each made only unless overridden: a departing kind's conventional name need not exist in the SDK.
    derived: dict[str, Callable[[], Any]] = {
        "lister": lambda: _lister(_method(sdk, f"list_{_plural(noun)}"), in_scope, scope_filter, name_filter),
        "create_model": lambda: _model(models, f"{create_verb.title()}{model}Details"),
        "create_call": lambda: _call(_method(sdk, f"{create_verb}_{noun}"), scope_in_path),
        "get_call": lambda: _call(_method(sdk, f"get_{noun}"), scope_in_path),
        "update_model": lambda: _model(models, f"Update{model}Details"),
        "update_call": lambda: _call(_method(sdk, f"update_{noun}"), scope_in_path),
    }
    if deletion_days is None:
        derived["delete_call"] = lambda: _call(_method(sdk, f"delete_{noun}"), scope_in_path)
    else:
        derived["delete_call"] = lambda: _schedule_deletion(
            _method(sdk, f"schedule_{noun}_deletion"),
            _model(models, f"Schedule{model}DeletionDetails"),
            deletion_days,
        )
        derived["restore_call"] = lambda: _call(_method(sdk, f"cancel_{noun}_deletion"), False)
    fields = {name: make() for name, make in derived.items() if name not in overrides}
    if "create_call" not in overrides and "create_retry_token" not in overrides:
        fields["create_retry_token"] = takes_retry_token(sdk, f"{create_verb}_{noun}")
    return cls(
        label=label,
        family=family,
        client=client,
        scheduled_delete=deletion_days is not None,
        **fields,
        **overrides,
    )


def _sdk(client: str) -> tuple[type, Any]:
    """The SDK client class and models module behind a client name (identity_home: an IdentityClient)."""
    import oci

    module, name = CLIENT_CLASSES["identity" if client == "identity_home" else client].split(".")
    package = getattr(oci, module)
    return getattr(package, name), package.models


def _plural(noun: str) -> str:
    return f"{noun[:-1]}ies" if noun.endswith("y") and noun[-2] not in "aeiou" else f"{noun}s"


def _method(sdk: type, name: str) -> str:
    if not callable(getattr(sdk, name, None)):
        raise AttributeError(f"{sdk.__name__} has no {name}(): give the call to sdk_kind as an override")
    return name


def _model(models: Any, name: str) -> Any:
    if not hasattr(models, name):
        raise AttributeError(f"{models.__name__} has no {name}: give the model to sdk_kind as an override")
    return getattr(models, name)


def _lister(method: str, in_scope: bool, scope_filter: str | None, name_filter: str | None) -> Lister:
    def lister(client: Any, compartment: str, scope: str | None, name: str) -> list[Any]:
        filters: dict[str, Any] = {}
        if scope_filter is not None:
            filters[scope_filter] = scope
        if name_filter is not None:
            filters[name_filter] = name
        if in_scope:
            return list_all(getattr(client, method), scope, **filters)
        # By keyword: some list calls (list_network_security_groups) take no positional argument.
        return list_all(getattr(client, method), compartment_id=compartment, **filters)

    return lister


def _call(method: str, scope_in_path: bool) -> Callable[..., Any]:
    def call(client: Any, scope: str | None, *args: Any) -> Any:
        return getattr(client, method)(*((scope,) if scope_in_path else ()), *args)

    return call


def _schedule_deletion(method: str, details: Any, days: int) -> Callable[..., Any]:
    def call(client: Any, scope: str | None, ocid: str) -> Any:
        return getattr(client, method)(ocid, details(time_of_deletion=_later(days)))

    return call


def _later(days: int) -> datetime:
    # OCI wants the deletion time inside a window of whole days from now; an hour of slack keeps it there.
    return datetime.now(UTC) + timedelta(days=days, hours=1)
