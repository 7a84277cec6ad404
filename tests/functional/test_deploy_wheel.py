"""`deploy` from the built wheel, installed outside the repository and run from elsewhere."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.paths import REPO

# Builds the wheel (build isolation resolves setuptools against the package index).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding the package from its wheel only; its dependencies come from this environment."""
    root = tmp_path_factory.mktemp("wheel")
    wheels = root / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)]
    subprocess.run(build, check=True, timeout=600)
    (wheel,) = wheels.glob("oci_genai_gateway-*.whl")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    site = next((env_dir / "lib").glob("python*/site-packages"))
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, timeout=300)
    # The dependencies (oci, yaml...) from this environment; its editable install of the package is
    # a .pth hook there, which a path added by a .pth file does not run: only the wheel's copy imports.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir / "bin" / "python"


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(python), "-m", "oci_genai_gateway", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_the_package_imports_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    code = "import oci_genai_gateway as p, importlib.resources as r; print(p.__file__)"
    done = subprocess.run(
        [str(installed), "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert str(REPO) not in done.stdout
    assert "site-packages" in done.stdout


@pytest.mark.parametrize("target", ["serverless", "compose"])
def test_offline_plan_runs_from_the_wheel_outside_the_repository(
    installed: Path, tmp_path: Path, target: str
) -> None:
    config = (REPO / "deploy" / "gateway.example.toml").read_text()
    if target == "compose":
        config = config.replace('target = "serverless"', 'target = "compose"')
        config = config.replace('#site_address = "gateway.example.com"', 'site_address = "gw.example.com"')
        config = config.replace("#repo_url =", "repo_url =")
    (tmp_path / "gateway.toml").write_text(config)
    done = run(installed, "deploy", "plan", "--offline", "-c", "gateway.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "to create" in done.stdout
    assert "to use generative-ai-chat in" in done.stdout
    if target == "serverless":
        # No source tree here: the image tags are unknown, and said to be.
        assert ":chat-content-tag-needs-source" in done.stdout
        assert "allow service faas to read repos in tenancy" in done.stdout
