"""`python -m oci_genai_gateway.healthcheck`: exit 0 when the local server answers /health/readiness."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping


def readiness_url(env: Mapping[str, str]) -> str:
    """The readiness URL of the server `serve` starts with this environment."""
    host = env.get("GATEWAY_HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):  # a wildcard bind is reachable on loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{env.get('GATEWAY_PORT', '8080')}/health/readiness"


def main() -> int:
    """Probe once; the container engine counts failures and retries."""
    try:
        with urllib.request.urlopen(readiness_url(os.environ), timeout=3) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"not ready: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
