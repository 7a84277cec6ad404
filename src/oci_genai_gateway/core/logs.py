"""Structured JSON logs with a correlation id; never prompts, completions or keys."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from oci_genai_gateway.core.errors import ConfigError

LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR"})

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Besides the record's own attributes: the stamp LiteLLM's secret filter puts on records of the loggers it
# watches (litellm/_logging.py, `_REDACTED_RECORD_ATTR`, uvicorn's among them), a bare object() repr.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "litellm_redacted"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            payload["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            payload["exc_type"] = record.exc_info[0].__name__
            payload["traceback"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def parse_log_level(env: Mapping[str, str]) -> str:
    """GATEWAY_LOG_LEVEL, checked; the same levels for every entry point."""
    level = env.get("GATEWAY_LOG_LEVEL", "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"GATEWAY_LOG_LEVEL must be one of {sorted(LOG_LEVELS)}")
    return level


def configure_logging(level: str) -> None:
    """Route every logger through one JSON handler on stderr (replacing fdk's DEBUG default)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party loggers may log request bodies at DEBUG/INFO; keep them quiet.
    for noisy in ("LiteLLM", "litellm", "httpx", "httpcore", "oci", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
