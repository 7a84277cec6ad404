"""Run the repository's functions/*/func.py under the real fdk server, as the Functions platform does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from oci_genai_devstack.localgw.invoke import FunctionTarget

_FDK_MAIN = "from fdk.scripts.fdk import main; main()"
# Variables the platform or the function's config own: never inherit them from the caller's shell.
_SCRUBBED_PREFIXES = ("FN_", "GATEWAY_", "OCI_RESOURCE_PRINCIPAL_")
_TIMEOUT_LINE = re.compile(r"^timeout:\s*(\d+)\s*$", re.MULTILINE)
DEFAULT_TIMEOUT_SECONDS = 30.0
# A short root (not $TMPDIR, which may be long): a unix socket path must fit in ~107 bytes.
_SOCKET_ROOT = "/tmp"  # noqa: S108 - mkdtemp makes a private 0700 directory under it


@dataclass
class FunctionProcess:
    """One function container's stand-in: an fdk process listening on a unix socket."""

    name: str
    process: subprocess.Popen[bytes]
    workdir: Path
    timeout_seconds: float

    @property
    def socket_path(self) -> Path:
        """The socket the fdk listens on (FN_LISTENER)."""
        return self.workdir / "lsnr.sock"

    @property
    def log_path(self) -> Path:
        """The function's stdout and stderr."""
        return self.workdir / "function.log"

    @property
    def target(self) -> FunctionTarget:
        """How the local gateway reaches it."""
        return FunctionTarget(str(self.socket_path), self.timeout_seconds)

    def wait_listening(self, timeout: float = 30.0) -> None:
        """Block until the fdk serves its socket; raise with the function's log if it dies."""
        deadline = time.monotonic() + timeout
        # The fdk binds a "phony" socket and symlinks lsnr.sock to it once it is serving.
        while not self.socket_path.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"function {self.name} exited:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"function {self.name} did not listen within {timeout} s")
            time.sleep(0.05)

    def log_tail(self, size: int = 3000) -> str:
        """The end of the function's log."""
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def stop(self, *, keep_logs: bool = False) -> None:
        """Terminate the process (kill it if it lingers) and remove its socket directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if keep_logs:
            self.socket_path.unlink(missing_ok=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def func_timeout(func_dir: Path) -> float:
    """The function's `timeout` from its func.yaml (the platform's default when unset)."""
    try:
        found = _TIMEOUT_LINE.search((func_dir / "func.yaml").read_text())
    except OSError:
        return DEFAULT_TIMEOUT_SECONDS
    return float(found.group(1)) if found else DEFAULT_TIMEOUT_SECONDS


def start_function(
    name: str, env: Mapping[str, str], func_dir: Path, *, handler: str = "handler"
) -> FunctionProcess:
    """Start `func_dir/func.py` under fdk with `env` as its configuration (not yet listening)."""
    source = func_dir.resolve()
    # An absolute path: FN_LISTENER parsing strips characters rather than a prefix.
    workdir = Path(
        tempfile.mkdtemp(prefix=f"fn-{name}-", dir=_SOCKET_ROOT if Path(_SOCKET_ROOT).is_dir() else None)
    )
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    child_env.update(env)
    child_env.update(
        {
            "FN_FORMAT": "http-stream",
            "FN_LISTENER": f"unix:{workdir / 'lsnr.sock'}",
            "FN_APP_NAME": "oci-genai-gateway-local",
            "FN_FN_NAME": name,
        }
    )
    with (workdir / "function.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _FDK_MAIN, str(source / "func.py"), handler],
            cwd=source,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return FunctionProcess(name, process, workdir, func_timeout(source))
