"""Injectable faults (never active by default), chosen per call by header or queued by tests."""

# Syntax, for the `x-emulator-fault` header and the control endpoint's `fault` field: a comma-separated
# list of `key=value` items (a bare status code is short for `status=`):
#
#     latency=MS        wait before answering
#     token-delay=MS    wait before every streamed event
#     status=CODE       answer 400 InvalidParameter, 401 NotAuthenticated (an expired token),
#                       429 TooManyRequests, 500 InternalServerError or 503 ServiceUnavailable instead
#     retry-after=S     Retry-After header on a 429/503 (default 1 for 429)
#     cut=N             drop the connection after N stream events (no final event)
#     hold=N            after N stream events (before the body of a JSON answer), wait for a release
#     linger=MS         keep a stream's connection open MS after its last event (default: the
#                       emulator's --stream-linger; Meta Llama streams end with [DONE] and close)

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, fields
from typing import Any

from .errors import OciError

HEADER = "x-emulator-fault"
_ERRORS = {
    400: ("InvalidParameter", "The request is invalid."),
    401: (
        "NotAuthenticated",
        "The required information to complete authentication was not provided or was incorrect.",
    ),
    429: ("TooManyRequests", "Too many requests for the tenant."),
    500: ("InternalServerError", "Internal error occurred."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Please retry."),
}
_KEYS = {
    "latency": "latency_ms",
    "token-delay": "token_delay_ms",
    "status": "status",
    "retry-after": "retry_after",
    "cut": "cut_after",
    "hold": "hold_after",
    "linger": "linger_ms",
}


@dataclass(frozen=True)
class Fault:
    """What to do wrong with one request."""

    latency_ms: int = 0
    token_delay_ms: int = 0
    status: int | None = None
    retry_after: int | None = None
    cut_after: int | None = None
    hold_after: int | None = None
    linger_ms: int | None = None

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Parse the header syntax; raises ValueError with a readable message."""
        values: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, _, raw = item.partition("=") if "=" in item else ("status", "", item)
            name = _KEYS.get(key.strip().lower())
            if name is None:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(_KEYS)}")
            try:
                values[name] = int(raw.strip())
            except ValueError:
                raise ValueError(f"fault {key!r} needs an integer, got {raw!r}") from None
            if values[name] < 0:
                raise ValueError(f"fault {key!r} must not be negative")
        status = values.get("status")
        if status is not None and status not in _ERRORS:
            raise ValueError(f"status fault must be one of {sorted(_ERRORS)}")
        return cls(**values)

    def error(self) -> OciError | None:
        """The OCI error this fault answers with, if it is a status fault."""
        if self.status is None:
            return None
        code, message = _ERRORS[self.status]
        retry = self.retry_after if self.retry_after is not None else (1 if self.status == 429 else None)
        headers = {"retry-after": str(retry)} if retry is not None else {}
        return OciError(self.status, code, message, headers)

    def describe(self) -> dict[str, int]:
        """The non-default settings, for the request log."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) != f.default}


@dataclass
class _Queued:
    fault: Fault
    path: str | None
    model: str | None
    remaining: int
    region: str | None = None


class FaultQueue:
    """Faults queued through the control plane, consumed by matching requests in order."""

    def __init__(self) -> None:
        self._items: list[_Queued] = []

    def add(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        model: str | None = None,
        count: int = 1,
        region: str | None = None,
    ) -> None:
        """Queue `fault` for the next `count` requests matching path (suffix), model and region."""
        self._items.append(_Queued(fault, path, model, count, region))

    def take(self, path: str, models: Collection[str], region: str | None = None) -> Fault | None:
        """Consume and return the first queued fault matching this request."""
        for item in self._items:
            if item.region is not None and item.region != region:
                continue
            if _path_matches(item.path, path) and (item.model is None or item.model in models):
                item.remaining -= 1
                if item.remaining <= 0:
                    self._items.remove(item)
                return item.fault
        return None

    def clear(self) -> None:
        """Drop every queued fault."""
        self._items.clear()

    def pending(self) -> list[dict[str, Any]]:
        """The queue, for the control plane."""
        return [
            {
                "fault": i.fault.describe(),
                "path": i.path,
                "model": i.model,
                "region": i.region,
                "remaining": i.remaining,
            }
            for i in self._items
        ]


def _path_matches(wanted: str | None, path: str) -> bool:
    if wanted is None:
        return True
    wanted = wanted.strip("/")
    return path.strip("/") == wanted or path.endswith("/" + wanted)


class Holds:
    """Requests parked by a `hold` fault until the control plane releases them (or a timeout)."""

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds
        self._gate = asyncio.Event()
        self._held = 0

    @property
    def held(self) -> int:
        """How many requests are waiting right now."""
        return self._held

    async def wait(self, seconds: float | None = None) -> None:
        """Park until the next release, or `seconds` (default: the timeout given at creation)."""
        gate = self._gate
        self._held += 1
        try:
            await asyncio.wait_for(gate.wait(), self._timeout if seconds is None else seconds)
        except TimeoutError:
            pass  # never strand a client forever if a test forgets to release
        finally:
            self._held -= 1

    def release(self) -> int:
        """Let every parked request continue; returns how many there were."""
        count = self._held
        self._gate.set()
        self._gate = asyncio.Event()
        return count
