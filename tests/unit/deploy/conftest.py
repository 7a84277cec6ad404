"""Fixtures for the deploy tests: a fake tenancy, configs, and one-call plan/apply/destroy."""

from __future__ import annotations

import copy
import subprocess
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import oci
import pytest

from oci_genai_gateway.deploy.config.loader import parse
from oci_genai_gateway.deploy.config.schema import DeployConfig
from oci_genai_gateway.deploy.engine import reconcile
from oci_genai_gateway.deploy.engine.clients import Clients
from oci_genai_gateway.deploy.engine.resource_model import Change, Context
from oci_genai_gateway.deploy.resources.facts import gather
from oci_genai_gateway.deploy.resources.stack import Stack, build
from tests.paths import REPO
from tests.unit.deploy.fake_tenancy import TENANCY, FakeBuilder, FakeTenancy

COMPARTMENT = "ocid1.compartment.oc1..comp"
BASE: dict[str, Any] = {
    "deployment": {
        "region": "us-chicago-1",
        "compartment_id": COMPARTMENT,
        "prefix": "genai",
        "target": "serverless",
        "tenancy_id": TENANCY,
    }
}
COMPOSE: dict[str, Any] = {
    "deployment": {"target": "compose"},
    "compose": {"site_address": "gateway.example.com", "repo_url": "https://git.example.com/org/gw.git"},
}


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge TOML-like tables."""
    out = copy.deepcopy(dict(base))
    for key, value in extra.items():
        out[key] = (
            merge(out[key], value) if isinstance(value, Mapping) and key in out else copy.deepcopy(value)
        )
    return out


def config(*extra: Mapping[str, Any]) -> DeployConfig:
    """The base config with tables merged in."""
    data: dict[str, Any] = dict(BASE)
    for table in extra:
        data = merge(data, table)
    return parse(data)


@dataclass
class Collector:
    """A Reporter that keeps everything."""

    lines: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)

    def progress(self, message: str) -> None:
        self.lines.append(message)

    def secret(self, name: str, value: str) -> None:
        assert name not in self.keys, "a key was shown twice"
        self.keys[name] = value


@dataclass
class Deployer:
    """Runs the engine against the fake tenancy, the way the CLI does."""

    tenancy: FakeTenancy
    builder: FakeBuilder
    reporter: Collector = field(default_factory=Collector)
    env: dict[str, str] = field(default_factory=dict)
    # What the retry strategy's backoff asked to sleep (it sleeps through this, never for real).
    sleeps: list[float] = field(default_factory=list)

    def stack(self, cfg: DeployConfig) -> tuple[Context, Stack]:
        clients = Clients(self.tenancy.maker, cfg.region, TENANCY, self.sleeps.append)
        ctx = Context(clients, cfg, self.reporter)
        return ctx, build(cfg, gather(cfg, clients), self.builder, self.env, REPO)

    def plan(self, cfg: DeployConfig) -> list[Change]:
        return reconcile.plan(*self.stack(cfg))

    def apply(self, cfg: DeployConfig) -> list[Change]:
        return reconcile.apply(*self.stack(cfg))

    def destroy(self, cfg: DeployConfig) -> list[Change]:
        return reconcile.destroy(*self.stack(cfg))


@pytest.fixture(autouse=True)
def _no_waiting(mocker: Any) -> None:
    """The fake tenancy is ready at once: a waiter that sleeps is a bug in the test or the code."""

    def refuse(_seconds: float) -> None:
        raise AssertionError("waited on the fake tenancy")

    # The waiter's own view of the time module only: patching time.sleep itself would reach every
    # library in the process (subprocess's waits included).
    clock = types.SimpleNamespace(time=time.time, monotonic=time.monotonic, sleep=refuse)
    mocker.patch.object(oci.waiter, "time", clock)


@pytest.fixture(autouse=True)
def _no_processes(mocker: Any) -> None:
    """The unit tier runs in process: a command that spawns belongs in tests/functional."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a unit test spawned a process: {args[:1]}")

    mocker.patch.object(subprocess, "Popen", side_effect=refuse)


@pytest.fixture
def tenancy(mocker: Any) -> FakeTenancy:
    return FakeTenancy(mocker)


@pytest.fixture
def deployer(tenancy: FakeTenancy) -> Deployer:
    return Deployer(tenancy, FakeBuilder(tenancy))


@pytest.fixture
def deployed(deployer: Deployer, tmp_path: Path) -> tuple[FakeTenancy, Path]:
    """A serverless deployment (key "default") and its config file."""
    deployer.apply(config())
    path = tmp_path / "gateway.toml"
    path.write_text(
        f'[deployment]\nregion = "us-chicago-1"\ncompartment_id = "{COMPARTMENT}"\nprefix = "genai"\n'
        f'target = "serverless"\ntenancy_id = "{TENANCY}"\n'
    )
    return deployer.tenancy, path
