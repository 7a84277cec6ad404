"""Put the project wheel and the lock into each function's build context (`make functions`).

`fn build` / `fn deploy` build every function from its own directory only, so the shared package
must be inside it: this writes `functions/<name>/wheels/` (gitignored) with the wheel of this
checkout and `constraints.txt`, and copies the one shared `functions/Dockerfile` beside them
(also gitignored there), which installs them with the function's requirements.txt.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("chat", "embeddings", "moderations", "models", "authorizer")
DOCKERFILE = ROOT / "functions" / "Dockerfile"
# The sdist inputs; copied so that building never writes build/ or *.egg-info into the checkout.
# deploy/compose and functions/ hold package data (pyproject.toml package-dir): the deploy command's
# cloud-init template and each func.yaml.
_SOURCES = ("pyproject.toml", "README.md", "src", "apigw", "deploy/compose", "functions")


def build_wheel(out: Path) -> Path:
    """Build this checkout's wheel into `out` (from a scratch copy) and return its path."""
    with tempfile.TemporaryDirectory(prefix="gateway-wheel-") as scratch:
        tree = Path(scratch) / "tree"
        tree.mkdir()
        for name in _SOURCES:
            source = ROOT / name
            if source.is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", "wheels")
                shutil.copytree(source, tree / name, ignore=ignore)
            else:
                shutil.copy2(source, tree / name)
        dist = Path(scratch) / "dist"
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(tree), "-w", str(dist)],
            check=True,
        )
        (wheel,) = dist.glob("oci_genai_gateway-*.whl")
        out.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheel, out / wheel.name))


def stage(functions_dir: Path, names: tuple[str, ...] = FUNCTIONS) -> list[Path]:
    """Write a fresh wheels/ (wheel + constraints.txt) into each named function directory."""
    with tempfile.TemporaryDirectory(prefix="gateway-wheel-out-") as out:
        wheel = build_wheel(Path(out))
        staged = []
        for name in names:
            target = functions_dir / name / "wheels"
            shutil.rmtree(target, ignore_errors=True)  # a stale wheel of another version must not linger
            target.mkdir(parents=True)
            shutil.copy2(wheel, target / wheel.name)
            shutil.copy2(ROOT / "constraints.txt", target / "constraints.txt")
            shutil.copy2(DOCKERFILE, functions_dir / name / "Dockerfile")
            staged.append(target)
        return staged


def main(argv: list[str] | None = None) -> None:
    """Command line: `python functions/build.py [--functions-dir DIR] [NAME ...]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(FUNCTIONS), help="functions (default: all)")
    parser.add_argument("--functions-dir", type=Path, default=ROOT / "functions")
    args = parser.parse_args(argv)
    for target in stage(args.functions_dir, tuple(args.names)):
        print(f"staged {target}")


if __name__ == "__main__":
    main()
