"""Token metering: a usage log line per generation, and OCI Monitoring custom metrics sent in batches.

Nothing here is on a request's critical path: `record` only appends; a background task posts every
`GATEWAY_METRICS_FLUSH_SECONDS`, and a failed post is logged, never raised. Never a prompt or a key.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from oci_genai_gateway.core.targets import Target

log = logging.getLogger(__name__)
usage_log = logging.getLogger("oci_genai_gateway.usage")

# One datapoint per generation in each (value 1 for `requests`); dimensions `key`, `model`, `route`, `region`.
METRICS = ("requests", "prompt_tokens", "completion_tokens", "total_tokens")
# PostMetricData takes at most 50 metric streams per call (oci.monitoring.MonitoringClient.post_metric_data).
MAX_STREAMS_PER_CALL = 50
ANONYMOUS = "anonymous"  # the `key` of a generation without a key (a plain `fn invoke`)

Post = Callable[[Any], Any]


class MetricsSender:
    """Datapoints by metric stream, posted in the background (at most 50 streams a call)."""

    def __init__(
        self, post: Post, *, namespace: str, compartment_id: str, flush_seconds: float = 5.0
    ) -> None:
        self._post = post
        self._namespace = namespace
        self._compartment = compartment_id
        self._flush_seconds = flush_seconds
        self._pending: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, dimensions: Mapping[str, str], values: Mapping[str, float], when: float) -> None:
        """Queue one datapoint per metric; schedule a flush if none is due."""
        dims = tuple(sorted(dimensions.items()))
        for name, value in values.items():
            self._pending.setdefault((name, dims), []).append((when, value))
        if self._task is None or self._task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop (a test calling in from a thread): the next add or aclose flushes
            self._task = loop.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        while self._pending:
            await asyncio.sleep(self._flush_seconds)
            await self.flush()

    async def flush(self) -> None:
        """Post everything queued; failures are logged with what was dropped."""
        pending, self._pending = self._pending, {}
        streams = list(pending.items())
        for start in range(0, len(streams), MAX_STREAMS_PER_CALL):
            chunk = streams[start : start + MAX_STREAMS_PER_CALL]
            points = sum(len(p) for _, p in chunk)
            try:
                result = await asyncio.to_thread(self._post, self._details(chunk))
            except Exception as exc:  # the SDK, the network, IAM: metrics must never fail a request
                status = getattr(exc, "status", None)
                log.warning(
                    "cannot post usage metrics: %s status=%s; %d datapoints dropped",
                    type(exc).__name__,
                    status,
                    points,
                    extra={"event": "metrics_error"},
                )
                continue
            failed = getattr(result, "failed_metrics_count", 0) or 0
            if failed:
                messages = [getattr(f, "message", "") for f in getattr(result, "failed_metrics", None) or []]
                log.warning(
                    "Monitoring refused %d metric streams: %s",
                    failed,
                    "; ".join(messages[:3]),
                    extra={"event": "metrics_refused"},
                )

    async def aclose(self) -> None:
        """Stop the background task and post what is left (on shutdown)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        await self.flush()

    def _details(
        self, chunk: list[tuple[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]]]
    ) -> Any:
        from oci.monitoring import models

        return models.PostMetricDataDetails(
            metric_data=[
                models.MetricDataDetails(
                    namespace=self._namespace,
                    compartment_id=self._compartment,
                    name=name,
                    dimensions=dict(dims),
                    datapoints=[
                        models.Datapoint(timestamp=datetime.fromtimestamp(when, UTC), value=value, count=1)
                        for when, value in points
                    ],
                )
                for (name, dims), points in chunk
            ],
            batch_atomicity="NON_ATOMIC",
        )


class Meter:
    """Records each generation's usage: the log line, the metrics, and the budget's running count."""

    def __init__(
        self,
        sender: MetricsSender | None = None,
        *,
        spent: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.time,
        tokens: Callable[[str | None, str, str, int, int], None] | None = None,
    ) -> None:
        self.sender = sender
        self._spent = spent
        self._tokens = tokens  # OpenTelemetry's gen_ai.client.token.usage (core/telemetry.py)
        self._clock = clock

    def record(
        self,
        team: str | None,
        route: str,
        model: str,
        target: Target,
        usage: Mapping[str, Any] | None,
        *,
        stream: bool,
        region: str | None = None,
    ) -> None:
        """One generation's usage (None when OCI reported none: logged, not counted)."""
        oci_model = target.endpoint_id or target.model
        fields: dict[str, Any] = {
            "event": "usage",
            "key_name": team,
            "route": route,
            "model": model,
            "oci_model": oci_model,
            "stream": stream,
        }
        if region is not None:
            fields["region"] = region
        if usage is None:
            usage_log.info("usage unknown", extra={**fields, "usage_reported": False})
            return
        prompt = int(usage.get("prompt_tokens") or 0)
        total = int(usage.get("total_tokens") or prompt)
        completion = int(usage.get("completion_tokens") or max(total - prompt, 0))
        counts = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
        usage_log.info("usage", extra={**fields, **counts})
        if self._tokens is not None:
            self._tokens(team, route, oci_model, prompt, completion)
        if team is not None and self._spent is not None:
            self._spent(team, total)
        if self.sender is not None:
            dims = {"key": team or ANONYMOUS, "model": oci_model, "route": route}
            if region is not None:
                dims["region"] = region  # the region that served it (GATEWAY_REGIONS)
            self.sender.add(dims, {"requests": 1, **counts}, self._clock())

    def blocked(self, team: str | None, route: str, model: str, target: Target, tripped: list[str]) -> None:
        """A request a guardrail blocked: a `usage` line with `blocked`, and a `blocked` datapoint."""
        oci_model = target.endpoint_id or target.model
        fields = {"event": "usage", "key_name": team, "route": route, "model": model, "oci_model": oci_model}
        usage_log.info("blocked", extra={**fields, "blocked": [t.split(" ", 1)[0] for t in tripped]})
        if self.sender is not None:
            dims = {"key": team or ANONYMOUS, "model": oci_model, "route": route}
            self.sender.add(dims, {"blocked": 1}, self._clock())

    async def aclose(self) -> None:
        """Post what is queued."""
        if self.sender is not None:
            await self.sender.aclose()
