"""Readers for the compose target's files (deploy/compose/): Containerfile, env files."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tests.paths import COMPOSE_DIR

_ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


@dataclass
class Containerfile:
    """The instructions of a Containerfile that the tests check, last stage wins."""

    stages: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    instructions: list[tuple[str, str]] = field(default_factory=list)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        out.append((keyword.upper(), args.strip()))
        pending = ""
    return out


def _exec_form(args: str) -> list[str]:
    parsed = json.loads(args)  # shell form would hide the real argv behind /bin/sh -c
    if not isinstance(parsed, list) or not all(isinstance(a, str) for a in parsed):
        raise ValueError(f"not an exec-form argument list: {args}")
    return parsed


def read_containerfile(path: Path = COMPOSE_DIR / "Containerfile") -> Containerfile:
    """Parse the Containerfile; ENV/USER/ENTRYPOINT/CMD/HEALTHCHECK describe its final stage."""
    spec = Containerfile(instructions=instructions(path.read_text()))
    for keyword, args in spec.instructions:
        if keyword == "FROM":
            spec.stages.append(args)
            spec.env, spec.user, spec.entrypoint, spec.cmd, spec.healthcheck = {}, None, [], [], []
        elif keyword == "ENV":
            for item in shlex.split(args):
                name, _, value = item.partition("=")
                spec.env[name] = value
        elif keyword == "USER":
            spec.user = args
        elif keyword == "ENTRYPOINT":
            spec.entrypoint = _exec_form(args)
        elif keyword == "CMD":
            spec.cmd = _exec_form(args)
        elif keyword == "HEALTHCHECK":
            spec.healthcheck = _exec_form(args.split(" CMD ", 1)[1])
    return spec


def read_env_file(text: str, *, commented: bool = False) -> dict[str, str]:
    """KEY=value lines of an env file; with `commented`, also the documented `#KEY=value` ones."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") and not commented:
            continue
        match = _ENV_LINE.match(line)
        if match:
            values[match[1]] = match[2]
    return values
