"""What an API does with each top-level field a client sends: honoured, ignored, refused, or unknown."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from oci_genai_gateway.core.errors import InvalidRequest

# Named back (header and log) only when it reads as an API field's name or path (snake_case, dotted
# for nested fields, as every API here spells them); anything else is shown as "...": a response
# header must not reflect arbitrary client text, which access logs (Caddy's keeps response headers)
# and our own log would then hold.
REPORTABLE = re.compile(r"^(?=.{1,64}$)[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
MAX_REPORTED = 16


@dataclass(frozen=True)
class Fields:
    """An API's classification of its request fields (docs/COMPATIBILITY.md lists each with why).

    honoured: acted on as the API defines (a value the gateway cannot honour is a 400 saying so);
    ignored: accepted and dropped, because dropping it cannot change what the answer means;
    refused: any value but null is a 400 naming it, because the answer would mean something else.
    A field in none of them (a client newer than this gateway) is ignored and reported.
    """

    honoured: frozenset[str]
    ignored: Mapping[str, str]
    refused: Mapping[str, str]

    def __post_init__(self) -> None:
        overlap = (self.honoured & set(self.ignored)) | (self.honoured & set(self.refused))
        overlap |= set(self.ignored) & set(self.refused)
        if overlap:
            raise ValueError(f"fields classified twice: {sorted(overlap)}")

    @property
    def known(self) -> frozenset[str]:
        """Every classified field."""
        return self.honoured | set(self.ignored) | set(self.refused)

    def refuse(self, body: Mapping[str, object]) -> None:
        """A 400 naming the first refused field the body sets."""
        for name, why in self.refused.items():
            if body.get(name) is not None:
                raise InvalidRequest(f"Unsupported parameter '{name}': {why}.", param=name)

    def unknown(self, body: Mapping[str, object], nested: Iterable[str] = ()) -> list[str]:
        """The body's unclassified fields, then `nested` ones (`reasoning.mode`), as they may be
        reported back (at most MAX_REPORTED)."""
        names = [name for name in body if name not in self.known] + list(nested)
        shown = [name for name in names if REPORTABLE.match(name)][:MAX_REPORTED]
        return shown + (["..."] if len(shown) < len(names) else [])
