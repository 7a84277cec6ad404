"""Checks against the oci SDK itself: a call's keyword arguments, and a model's serialization round trip."""

from __future__ import annotations

import functools
import inspect
import json
import re
import sys
from typing import Any

import oci


class _NeverSigns(oci.auth.signers.SecurityTokenSigner):  # type: ignore[misc]
    # BaseClient wants a signer; this one is never used, the client only (de)serializes.
    def __init__(self) -> None:
        pass


@functools.cache
def expected_kwargs(cls: type, method: str) -> frozenset[str]:
    """The keyword arguments the real SDK method accepts (it raises on any other at run time)."""
    source = inspect.getsource(getattr(cls, method))
    found = re.search(r"expected_kwargs = \[(.*?)\]", source, re.S)
    assert found, f"{cls.__name__}.{method} has no expected_kwargs"
    return frozenset(re.findall(r'"(\w+)"', found.group(1)))


@functools.cache
def declared_params(cls: type, method: str) -> dict[str, str]:
    """`:param <type> <name>:` from the SDK method's docstring, for model-typed parameters."""
    doc = getattr(cls, method).__doc__ or ""
    return {name: kind for kind, name in re.findall(r":param (oci\.[\w.]+) (\w+):", doc)}


def _models_module(model: Any) -> Any:
    return sys.modules[type(model).__module__.rsplit(".", 1)[0]]


def _client_for(module: Any) -> Any:
    mapping = next(value for key, value in vars(module).items() if key.endswith("_type_mapping"))
    return oci.base_client.BaseClient(
        "check", {}, _NeverSigns(), mapping, service_endpoint="https://x.invalid"
    )


def serialize(model: Any) -> Any:
    """A model as the JSON data the SDK would send."""
    return _client_for(_models_module(model)).sanitize_for_serialization(model)


def assert_roundtrip(model: Any, declared: str | None = None) -> None:
    """A real SDK model that serializes, deserializes (as its declared type) and re-serializes equal."""
    assert hasattr(model, "swagger_types"), f"not an SDK model: {model!r}"
    if declared is not None:
        module_name, _, class_name = declared.rpartition(".")
        declared_cls = getattr(sys.modules[module_name], class_name)
        assert isinstance(model, declared_cls), f"{type(model).__name__} is not a {class_name}"
    client = _client_for(_models_module(model))
    data = client.sanitize_for_serialization(model)
    type_name = declared.rpartition(".")[2] if declared else type(model).__name__
    back = client.deserialize_response_data(json.dumps(data).encode(), type_name)
    assert client.sanitize_for_serialization(back) == data, f"{type_name} does not round-trip"
    _assert_required(model, type_name)


def _assert_required(node: Any, path: str) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _assert_required(item, f"{path}[{index}]")
        return
    if isinstance(node, dict):
        for key, item in node.items():
            _assert_required(item, f"{path}.{key}")
        return
    if not hasattr(node, "swagger_types"):
        return
    cls = type(node)
    for attr in node.swagger_types:
        value = getattr(node, attr)
        doc = getattr(cls, attr).__doc__ or ""
        assert not (value is None and "**[Required]**" in doc), f"{path}.{attr} is required by {cls.__name__}"
        _assert_required(value, f"{path}.{attr}")


def check_call(cls: type, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Keyword arguments the SDK accepts, and every model argument a real, round-tripping model."""
    unknown = set(kwargs) - expected_kwargs(cls, method)
    sig = inspect.signature(getattr(cls, method))
    positional = [p for p in sig.parameters if p not in ("self", "kwargs")]
    unknown -= set(positional)
    assert not unknown, f"{cls.__name__}.{method} got unknown kwargs {sorted(unknown)}"
    declared = declared_params(cls, method)
    bound = dict(zip(positional, args, strict=False)) | {k: v for k, v in kwargs.items() if k in positional}
    bound |= {k: v for k, v in kwargs.items() if k in declared}
    for name, value in bound.items():
        if name in declared and value is not None:
            assert_roundtrip(value, declared[name])
