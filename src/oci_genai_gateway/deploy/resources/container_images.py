"""Function images: a content tag per function, and building/pushing them with docker or podman."""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Repository layout (src/oci_genai_gateway/deploy/resources/ -> repo root); deploy runs from a checkout.
ROOT = Path(__file__).resolve().parents[4]
FUNCTIONS_DIR = ROOT / "functions"
# What goes into an image (functions/Dockerfile installs the wheel of src/ with constraints.txt).
_SHARED = ("pyproject.toml", "constraints.txt", "README.md", "functions/Dockerfile")
_PER_FUNCTION = ("func.py", "func.yaml", "requirements.txt")
PLATFORMS = {"GENERIC_X86": "linux/amd64", "GENERIC_ARM": "linux/arm64"}


def version(root: Path = ROOT) -> str:
    """The package version from pyproject.toml."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def content_tag(name: str, root: Path = ROOT) -> str:
    """`<name>-<version>-<hash>`: changes exactly when something that goes into the image changes."""
    digest = hashlib.sha256()
    files = [root / rel for rel in _SHARED]
    files += sorted(p for p in (root / "src").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files += [root / "functions" / name / rel for rel in _PER_FUNCTION]
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"{name}-{version(root)}-{digest.hexdigest()[:12]}"


def registry_host(region_key: str, override: str | None) -> str:
    """OCIR's host for the region (commercial realm), unless given."""
    return override or f"{region_key}.ocir.io"


@dataclass(frozen=True)
class BuildStep:
    """The commands that build and push one function's image."""

    name: str
    ref: str
    commands: tuple[tuple[str, ...], ...]

    def text(self) -> str:
        """The commands as a shell would take them."""
        return "\n".join(shlex.join(command) for command in self.commands)


def build_step(tool: str, name: str, ref: str, shape: str) -> BuildStep:
    """Stage the wheel into functions/<name>/, build for the application's architecture, push."""
    context = str(Path("functions") / name)
    return BuildStep(
        name,
        ref,
        (
            ("python3", "functions/build.py", name),
            (tool, "build", "--platform", PLATFORMS.get(shape, "linux/amd64"), "-t", ref, context),
            (tool, "push", ref),
        ),
    )


class Builder(Protocol):
    """Builds and pushes images (a real CLI, or a fake in tests)."""

    def tool(self) -> str | None: ...

    def run(self, step: BuildStep) -> None: ...


Runner = Callable[[Sequence[str]], int]


def _run(command: Sequence[str]) -> int:
    args = [sys.executable if command[0] == "python3" else command[0], *command[1:]]
    return subprocess.run(args, cwd=ROOT, check=False).returncode


class CliBuilder:
    """docker or podman on PATH (Cloud Shell has docker); commands run from the repository root."""

    def __init__(self, preferred: str | None = None, runner: Runner = _run) -> None:
        self._preferred = preferred
        self._runner = runner

    def tool(self) -> str | None:
        """The container tool to use, or None when there is none (then the commands are printed)."""
        # fn itself builds with docker; driving docker directly lets us pick the tag and the platform.
        candidates = (
            [self._preferred] if self._preferred and self._preferred != "fn" else ["docker", "podman"]
        )
        for name in candidates:
            if name and shutil.which(name):
                return name
        return None

    def run(self, step: BuildStep) -> None:
        """Run the step's commands; the first failure raises with the command that failed."""
        for command in step.commands:
            code = self._runner(command)
            if code != 0:
                hint = ""
                if command[1] == "push":
                    hint = (
                        f" (log in first: {command[0]} login {step.ref.split('/')[0]} -u "
                        "'<namespace>/<username>' with an auth token as the password; in a non-default "
                        "identity domain the user is '<namespace>/<domain>/<username>')"
                    )
                raise RuntimeError(f"`{shlex.join(command)}` exited with {code}{hint}")
