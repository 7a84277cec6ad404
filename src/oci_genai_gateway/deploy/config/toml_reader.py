"""Typed reads from a parsed TOML table; every error names the full key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oci_genai_gateway.core.errors import ConfigError


class Table:
    """One TOML table: typed getters that remember which keys were read, `done` rejects the rest."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self._data = data
        self._path = path
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted name of a key, for messages."""
        return f"{self._path}.{name}" if self._path else name

    def raw(self, name: str) -> object:
        """The value or None, marking the key as known."""
        self._seen.add(name)
        return self._data.get(name)

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        """A string (stripped); empty means unset."""
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise ConfigError(f"{self.key(name)} is required")
            return default
        if not isinstance(value, str):
            raise ConfigError(f"{self.key(name)} must be a string")
        return value.strip()

    def req(self, name: str) -> str:
        """A required string."""
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """An integer within bounds."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{self.key(name)} must be an integer")
        if not low <= value <= high:
            raise ConfigError(f"{self.key(name)} must be between {low} and {high}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean."""
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)} must be true or false")
        return value

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of strings."""
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise ConfigError(f"{self.key(name)} must be a list of non-empty strings")
        return tuple(value)

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        """One of a fixed set of strings."""
        value = self.text(name, default)
        if value not in choices:
            raise ConfigError(f"{self.key(name)} must be one of {list(choices)}, not {value!r}")
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        """A sub-table as a plain dict (for free-form values such as model aliases)."""
        value = self.raw(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"{self.key(name)} must be a table")
        return dict(value)

    def table(self, name: str) -> Table:
        """A sub-table, empty if absent."""
        return Table(self.mapping(name), self.key(name))

    def done(self) -> None:
        """Reject keys nobody read: a typo must not silently fall back to a default."""
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise ConfigError(f"unknown key {self.key(unknown[0])}")
