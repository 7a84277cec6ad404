"""Strict request validation with the OCI SDK's own model classes."""

# The SDK's deserializer is lenient (it drops unknown keys), so this walks each class's
# `swagger_types`/`attribute_map` itself: unknown fields, wrong JSON types, missing required fields
# (the SDK marks them "**[Required]**" in the property docstring), unknown polymorphic discriminators
# (`get_subtype`) and bad enum values (the request models' setters raise ValueError) all become
# OCI's 400 InvalidParameter.

from __future__ import annotations

import json
from functools import cache
from types import ModuleType
from typing import Any

from oci.generative_ai_inference import models as inference_models

from .errors import OciError, invalid

_UNKNOWN_ENUM = "UNKNOWN_ENUM_VALUE"
_SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
}


def parse_json(raw: bytes) -> Any:
    """Decode a JSON request body or raise OCI's 400 for a malformed one."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OciError(400, "CannotParseRequest", f"The request body is not valid JSON: {exc}") from exc


def validate(data: Any, type_name: str, module: ModuleType = inference_models) -> Any:
    """Deserialize `data` into the SDK model `type_name`, strictly; returns the SDK object."""
    return _build(data, type_name, module, "")


def _label(path: str) -> str:
    return path or "the request body"


def _build(value: Any, swagger_type: str, module: ModuleType, path: str) -> Any:
    if swagger_type.startswith("list["):
        if not isinstance(value, list):
            raise invalid(f"{_label(path)} must be an array")
        inner = swagger_type[5:-1]
        return [_build(item, inner, module, f"{path}[{i}]") for i, item in enumerate(value)]
    if swagger_type.startswith("dict("):
        if not isinstance(value, dict):
            raise invalid(f"{_label(path)} must be an object")
        inner = swagger_type[5:-1].split(",", 1)[1].strip()
        return {k: _build(v, inner, module, f"{path}.{k}") for k, v in value.items()}
    if swagger_type == "object":
        return value
    if swagger_type in _SCALARS:
        return _scalar(value, swagger_type, path)
    return _build_model(value, swagger_type, module, path)


def _scalar(value: Any, swagger_type: str, path: str) -> Any:
    # bool is an int subclass in Python but not a JSON number.
    if isinstance(value, bool) and swagger_type != "bool":
        raise invalid(f"{_label(path)} must be of type {swagger_type}, not a boolean")
    if not isinstance(value, _SCALARS[swagger_type]):
        raise invalid(f"{_label(path)} must be of type {swagger_type}")
    return value


def _build_model(value: Any, type_name: str, module: ModuleType, path: str) -> Any:
    if not isinstance(value, dict):
        raise invalid(f"{_label(path)} must be an object of type {type_name}")
    cls = _concrete_class(value, type_name, module, path)
    swagger_types, attribute_map = _schema(cls)
    by_json = {json_name: attr for attr, json_name in attribute_map.items()}
    unknown = sorted(set(value) - set(by_json))
    if unknown:
        raise invalid(f"Unknown field '{_join(path, unknown[0])}' for {cls.__name__}")
    for attr in _required(cls):
        if value.get(attribute_map[attr]) is None:
            raise invalid(f"Missing required field '{_join(path, attribute_map[attr])}'")
    instance = cls()
    for json_name, raw in value.items():
        if raw is None:
            continue  # JSON null is "absent" for optional fields
        attr, where = by_json[json_name], _join(path, json_name)
        built = _build(raw, swagger_types[attr], module, where)
        try:
            setattr(instance, attr, built)
        except ValueError as exc:  # request models' setters reject values outside the enum
            raise invalid(f"Invalid value {raw!r} for '{where}'") from exc
        # Some setters swallow a bad enum value as UNKNOWN_ENUM_VALUE instead of raising.
        if isinstance(raw, str) and raw != _UNKNOWN_ENUM and getattr(instance, attr) == _UNKNOWN_ENUM:
            raise invalid(f"Invalid value {raw!r} for '{where}'")
    return instance


def _concrete_class(value: dict[str, Any], type_name: str, module: ModuleType, path: str) -> type:
    cls: type | None = getattr(module, type_name, None)
    if cls is None:
        raise invalid(f"{_label(path)}: unsupported type {type_name}")
    get_subtype = getattr(cls, "get_subtype", None)
    if get_subtype is None:
        return cls
    try:
        subtype = get_subtype(value)
    except KeyError as exc:
        raise invalid(f"Missing required field '{_join(path, str(exc.args[0]))}'") from exc
    if subtype == type_name:
        # The SDK falls back to the abstract base for an unknown discriminator value.
        field_name = _discriminator(cls)
        raise invalid(f"Invalid value '{value.get(field_name)}' for '{_join(path, field_name)}'")
    concrete: type = getattr(module, subtype)
    return concrete


@cache
def _schema(cls: type) -> tuple[dict[str, str], dict[str, str]]:
    instance = cls()
    return dict(instance.swagger_types), dict(instance.attribute_map)


@cache
def _required(cls: type) -> tuple[str, ...]:
    swagger_types, _ = _schema(cls)
    return tuple(
        attr
        for attr in swagger_types
        if "**[Required]**" in (getattr(getattr(cls, attr, None), "__doc__", "") or "")
    )


@cache
def _discriminator(cls: type) -> str:
    """The JSON name of the field get_subtype reads (the base class has exactly one required field)."""
    _, attribute_map = _schema(cls)
    required = _required(cls)
    return attribute_map[required[0]] if required else "type"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
