"""One retry strategy for every SDK call deploy makes, built by the SDK's own RetryStrategyBuilder."""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from typing import Any

Sleep = Callable[[float], None]

# Retried: connection and DNS failures (the SDK raises RequestException, status -1), 429, any 5xx but
# 501, and the 409s OCI documents as transient (IncorrectState, LockConflict). Nothing else.
RETRYABLE: dict[int, list[str]] = {-1: [], 409: ["IncorrectState", "LockConflict"], 429: []}
MAX_ATTEMPTS = 8
BUDGET_SECONDS = 600
# A subnet or VCN still holding the VNICs of a just-deleted application or gateway answers 409
# Conflict for several minutes; its delete is retried on any 409, for up to this long.
RELEASE_ATTEMPTS = 12
RELEASE_BUDGET_SECONDS = 1200


def _sleeping(base: Any, sleep: Sleep) -> Any:
    """The SDK's strategy `base` (same checkers and backoff), sleeping through `sleep`."""
    import oci

    compute = oci.retry.retry_sleep_utils

    class Strategy(oci.retry.retry.ExponentialBackoffWithFullJitterEqualForThrottlesRetryStrategy):  # type: ignore[misc]
        def do_sleep(self, attempt: int, exception: Exception) -> None:
            # The SDK's rule for this backoff type: full jitter, but at least half the backoff on a
            # throttle; only the sleeping itself is ours.
            args = (
                self.base_sleep_time_seconds,
                self.exponent_growth_factor,
                self.max_wait_between_calls_seconds,
                attempt,
            )
            if getattr(exception, "status", None) == 429:
                sleep(compute.get_exponential_backoff_with_equal_jitter_sleep_time(*args))
            else:
                sleep(compute.get_exponential_backoff_with_full_jitter_sleep_time(*args))

    return Strategy(
        base.base_sleep_time_seconds,
        base.exponent_growth_factor,
        base.max_wait_between_calls_seconds,
        base.checkers,
    )


def retry_strategy(
    sleep: Sleep = time.sleep,
    *,
    statuses: dict[int, list[str]] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    budget_seconds: int = BUDGET_SECONDS,
    base_seconds: int = 1,
    max_between_seconds: int = 30,
    any_5xx: bool = True,
) -> Any:
    """Exponential backoff with jitter, a maximum of attempts and a total time budget."""
    import oci

    builder = oci.retry.RetryStrategyBuilder(
        max_attempts=max_attempts,
        total_elapsed_time_seconds=budget_seconds,
        service_error_retry_config=dict(statuses or RETRYABLE),
        service_error_retry_on_any_5xx=any_5xx,
        retry_base_sleep_time_seconds=base_seconds,
        retry_max_wait_between_calls_seconds=max_between_seconds,
        backoff_type=oci.retry.BACKOFF_FULL_JITTER_EQUAL_ON_THROTTLE_VALUE,
    )
    return _sleeping(builder.get_retry_strategy(), sleep)


def throttle_strategy(sleep: Sleep = time.sleep) -> Any:
    """For creates OCI gives no retry token: only a 429, which OCI refused before acting on it.

    A 5xx or a dropped connection may come after the create took effect; the caller looks the
    resource up before trying again (SdkKind.create), so nothing is created twice.
    """
    return retry_strategy(sleep, statuses={429: []}, any_5xx=False)


def release_strategy(sleep: Sleep = time.sleep) -> Any:
    """For deleting a subnet or VCN: any 409 (VNICs not released yet) is retried, with longer waits."""
    statuses = {**RETRYABLE, 409: []}
    return retry_strategy(
        sleep,
        statuses=statuses,
        max_attempts=RELEASE_ATTEMPTS,
        budget_seconds=RELEASE_BUDGET_SECONDS,
        base_seconds=10,
        max_between_seconds=120,
    )


@functools.cache
def takes_retry_token(cls: type, method: str) -> bool:
    """True when the SDK method accepts `opc_retry_token` (OCI then carries a repeated call out once)."""
    # The SDK documents the optional header on every create call that honours it.
    doc = getattr(getattr(cls, method, None), "__doc__", None) or ""
    return ":param str opc_retry_token:" in doc


class RetryingClient:
    """An SDK client whose every call goes through the retry strategy; creates carry a retry token.

    The token is made once per logical call and sent with every attempt, so a create whose response was
    lost (a 5xx or a dropped connection after OCI acted) is not carried out twice.
    """

    def __init__(
        self, client: Any, strategy: Any, sdk_class: type | None = None, unsafe_creates: Any = None
    ) -> None:
        self._client = client
        self._strategy = strategy
        self._class = sdk_class
        # The strategy for creates without a retry token (throttle_strategy), when not `strategy`.
        self._unsafe_creates = unsafe_creates or strategy

    @property
    def unwrapped(self) -> Any:
        """The SDK client itself."""
        return self._client

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if name.startswith("_") or not callable(target):
            return target
        token = self._class is not None and takes_retry_token(self._class, name)
        creates = name.startswith(("create_", "launch_"))
        strategy = self._unsafe_creates if creates and not token else self._strategy

        def call(*args: Any, **kwargs: Any) -> Any:
            if token and "opc_retry_token" not in kwargs:
                kwargs["opc_retry_token"] = secrets.token_hex(16)
            return strategy.make_retrying_call(target, *args, **kwargs)

        call.__name__ = name
        return call
