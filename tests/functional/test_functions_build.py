"""The functions' build: each build context installs and imports on its own, with the tested versions."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.fixtures.emulator import Emulator
from tests.fixtures.fdk_server import start_fdk
from tests.fixtures.functions import FUNCTIONS_DIR, function_env, plain_call
from tests.paths import REPO

# Builds wheels and resolves against the package index.
pytestmark = pytest.mark.slow

SRC = REPO / "src" / "oci_genai_gateway"
ROUTE_FUNCTIONS = ("chat", "embeddings", "moderations", "models")
ALL = (*ROUTE_FUNCTIONS, "authorizer")
MEMORY_TIERS = (128, 256, 512, 1024, 2048, 3072)
# pip freeze leaves setuptools out of the lock; a runtime dependency pulls in the newest one.
UNPINNABLE = {"setuptools"}


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of functions/ after the build step, which writes into that copy only."""
    root = tmp_path_factory.mktemp("fn-contexts")
    for name in ALL:
        ignore = shutil.ignore_patterns("wheels", "__pycache__", "Dockerfile")
        shutil.copytree(FUNCTIONS_DIR / name, root / name, ignore=ignore)
    command = [sys.executable, str(FUNCTIONS_DIR / "build.py"), "--functions-dir", str(root)]
    subprocess.run(command, check=True, capture_output=True)
    return root


@pytest.fixture(scope="module")
def installed(contexts: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each context's requirements.txt installed into its own --target, as the Dockerfile does.

    --no-deps: the third-party packages are checked against the lock and the venv instead (below),
    which keeps this test to seconds instead of a minute of unpacking ~900 MB per function.
    """
    targets = {}
    for name in ALL:
        target = tmp_path_factory.mktemp(f"python-{name}")
        pip = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
        ]
        subprocess.run([*pip, "-r", "requirements.txt"], cwd=contexts / name, check=True, capture_output=True)
        targets[name] = target
    return targets


def test_make_functions_runs_the_build_step() -> None:
    dry = subprocess.run(
        ["make", "-n", "functions"], cwd=FUNCTIONS_DIR.parent, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    assert "functions/build.py" in dry.stdout


@pytest.mark.parametrize("name", ALL)
def test_build_context_holds_what_requirements_need(contexts: Path, name: str) -> None:
    context = contexts / name
    for line in (context / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        path = line.removeprefix("-c").strip()
        if path.startswith(("./", "wheels/")):
            assert (context / path).is_file(), f"{name}: {path} is not in the build context"
    assert (context / "wheels" / "constraints.txt").read_bytes() == (
        FUNCTIONS_DIR.parent / "constraints.txt"
    ).read_bytes()


@pytest.mark.parametrize("name", ALL)
def test_func_py_imports_from_the_installed_target(
    contexts: Path, installed: dict[str, Path], name: str
) -> None:
    probe = f"""
import importlib.util, json, sys
sys.path[:0] = [{str(installed[name])!r}]
spec = importlib.util.spec_from_file_location("func", {str(contexts / name / "func.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import oci_genai_gateway
print(json.dumps({{"package": oci_genai_gateway.__file__, "handler": callable(module.handler),
                  "litellm": "litellm" in sys.modules}}))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["package"].startswith(str(installed[name])), "the package must come from the built wheel"
    assert seen["handler"] is True
    assert seen["litellm"] is False, "LiteLLM is loaded on the first invoke, never at import"


def test_the_installed_wheel_serves_under_fdk(
    installed: dict[str, Path], contexts: Path, emulator: Emulator, tmp_path: Path
) -> None:
    env = function_env(emulator, tmp_path / "rp", PYTHONPATH=str(installed["models"]))
    with start_fdk(contexts / "models" / "func.py", "handler", env) as server:
        reply = plain_call(server)
        assert reply.status == 200
        assert reply.json().get("object") == "list", reply.json()


def test_requirements_resolve_to_exactly_the_tested_versions(contexts: Path, tmp_path: Path) -> None:
    """The full install (from the package index, under the lock) gets what this venv was tested with."""
    requirements = {(contexts / n / "requirements.txt").read_text() for n in ROUTE_FUNCTIONS}
    assert len(requirements) == 1, "the route functions share one requirements.txt"
    report = tmp_path / "report.json"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed"]
    subprocess.run(
        [*pip, "--report", str(report), "-r", "requirements.txt"],
        cwd=contexts / "chat",
        check=True,
        capture_output=True,
    )
    resolved = {
        i["metadata"]["name"].lower(): i["metadata"]["version"]
        for i in json.loads(report.read_text())["install"]
    }
    assert {"litellm", "oci", "fdk", "oci-genai-gateway"} <= resolved.keys()
    different = {
        name: (version, _installed_version(name))
        for name, version in resolved.items()
        if name not in UNPINNABLE and version != _installed_version(name)
    }
    assert different == {}, "image and venv would differ: (image, venv)"


def _installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@pytest.mark.parametrize("name", ALL)
def test_func_yaml_builds_from_the_dockerfile(name: str) -> None:
    spec = yaml.safe_load((FUNCTIONS_DIR / name / "func.yaml").read_text())
    assert spec["name"] == name
    assert spec["runtime"] == "docker", "the python runtime cannot install the wheel (see docs/FUNCTIONS.md)"
    assert spec["memory"] in MEMORY_TIERS
    assert 1 <= spec["timeout"] <= 300


def test_chat_gets_the_longest_timeout_and_models_the_smallest_memory() -> None:
    specs = {n: yaml.safe_load((FUNCTIONS_DIR / n / "func.yaml").read_text()) for n in ROUTE_FUNCTIONS}
    assert specs["chat"]["timeout"] == 300
    assert specs["models"]["memory"] == 128, "models never imports LiteLLM"


def test_the_build_step_gives_every_function_the_shared_dockerfile(contexts: Path) -> None:
    dockerfiles = {(contexts / n / "Dockerfile").read_text() for n in ALL}
    assert dockerfiles == {(FUNCTIONS_DIR / "Dockerfile").read_text()}
    (dockerfile,) = dockerfiles
    assert "--invalidation-mode unchecked-hash" in dockerfile
    assert 'ENTRYPOINT ["/python/bin/fdk", "/function/func.py", "handler"]' in dockerfile


@pytest.mark.parametrize("name", ALL)
def test_a_function_build_context_holds_the_product_only(
    contexts: Path, installed: dict[str, Path], name: str
) -> None:
    """No emulator, no local gateway, no dev runner in what a function image installs."""
    (wheel,) = (contexts / name / "wheels").glob("oci_genai_gateway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        members = archive.namelist()
    packages = {m.split("/", 1)[0] for m in members if not m.split("/", 1)[0].endswith(".dist-info")}
    assert packages == {"oci_genai_gateway"}
    tooling = ("emulator", "localgw", "devstack", "dev.py")
    assert [m for m in members if any(word in m for word in tooling)] == []
    # The deployment spec template ships as package data, so `deploy` works from the wheel.
    assert "oci_genai_gateway/apigw/deployment.json" in members
    sources = {f"oci_genai_gateway/{p.relative_to(SRC).as_posix()}" for p in SRC.rglob("*.py")}
    assert sources - set(members) == set(), "every module of the package is in the wheel"
    names = {p.name for p in installed[name].iterdir()}
    assert not names & {"oci_genai_emulator", "oci_genai_devstack"}
