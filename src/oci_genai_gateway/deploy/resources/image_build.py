"""Building and pushing a function's image: the commands, and the container tool that runs them."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

PLATFORMS = {"GENERIC_X86": "linux/amd64", "GENERIC_ARM": "linux/arm64"}


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


# (command, working directory) -> exit code
Runner = Callable[[Sequence[str], Path | None], int]


def _run(command: Sequence[str], cwd: Path | None) -> int:
    args = [sys.executable if command[0] == "python3" else command[0], *command[1:]]
    return subprocess.run(args, cwd=cwd, check=False).returncode


class CliBuilder:
    """docker or podman on PATH (Cloud Shell has docker); commands run from the source tree."""

    def __init__(
        self, preferred: str | None = None, runner: Runner = _run, source: Path | None = None
    ) -> None:
        self._preferred = preferred
        self._runner = runner
        self._source = source

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
            code = self._runner(command, self._source)
            if code != 0:
                hint = ""
                if command[1] == "push":
                    hint = (
                        f" (log in first: {command[0]} login {step.ref.split('/')[0]} -u "
                        "'<namespace>/<username>' with an auth token as the password; in a non-default "
                        "identity domain the user is '<namespace>/<domain>/<username>')"
                    )
                raise RuntimeError(f"`{shlex.join(command)}` exited with {code}{hint}")
