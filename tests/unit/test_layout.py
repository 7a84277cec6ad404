"""The house rules that a reader relies on: small modules, no request state in context variables,
no names shared between deploy and core, a unit tier that never waits, and an ARCHITECTURE page
whose every path and name exists."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from tests.paths import REPO

PRODUCT = REPO / "src" / "oci_genai_gateway"
SOURCES = (PRODUCT, REPO / "emulator" / "src", REPO / "devstack" / "src", REPO / "tests")
# Where a path in the docs may be relative to: the repository, or one of its three packages.
ROOTS = (REPO, PRODUCT, REPO / "emulator" / "src", REPO / "devstack" / "src")
MAX_LINES = 300


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_product_module_is_over_300_lines() -> None:
    sizes = {str(p.relative_to(PRODUCT)): len(p.read_text().splitlines()) for p in _modules(PRODUCT)}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_the_only_context_variable_is_the_log_correlation_id() -> None:
    # Request state travels as the explicit Grant (docs/decisions/0004-an-explicit-grant.md).
    found = [
        str(p.relative_to(PRODUCT))
        for p in _modules(PRODUCT)
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.Attribute | ast.Name)
        and getattr(node, "attr", getattr(node, "id", "")) == "ContextVar"
    ]
    assert sorted(set(found)) == ["core/logs.py"]
    users = [str(p.relative_to(PRODUCT)) for p in _modules(PRODUCT) if "request_id_var" in p.read_text()]
    assert users == ["adapters/asgi.py", "adapters/fn.py"]  # set and reset by the transports only


def _stems(root: Path) -> set[str]:
    names = {p.stem for p in _modules(root) if p.stem != "__init__"}
    names |= {p.name for p in root.rglob("*") if p.is_dir() and p.name != "__pycache__"}
    return {n.removesuffix("s") for n in names}  # `model` and `models` are the same name to a reader


def test_deploy_shares_no_module_name_with_core_or_the_adapters() -> None:
    deploy = _stems(PRODUCT / "deploy")
    request_path = _stems(PRODUCT / "core") | _stems(PRODUCT / "adapters")
    assert deploy & request_path == set()


_SLEEP = re.compile(r"\b(?:time|asyncio)\.sleep\((?!0\))[^)]*\)")


def test_the_unit_tier_never_sleeps() -> None:
    # Waits the gateway makes are settings (tests/fakes.py:fast_settings); a test sleeping is slow
    # and flaky at once. `asyncio.sleep(0)` only yields to the loop.
    found = [
        f"{p.relative_to(REPO)}:{n}"
        for p in _modules(REPO / "tests" / "unit")
        for n, line in enumerate(p.read_text().splitlines(), start=1)
        if _SLEEP.search(line)
    ]
    assert found == []


# --- docs/ARCHITECTURE.md ---------------------------------------------------------------------------

ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
_TICKED = re.compile(r"`([^`\n]+)`")
_PATH = re.compile(r"^[\w.-]+(?:/[\w.*-]+)*(?:\.(?:py|md|json|toml|yaml|mjs|txt)|/)(?::[\w.]+)?$")
_NAME = re.compile(r"^[A-Z][A-Za-z0-9]+(?:\.[a-z_][a-z0-9_]*)?$")


@functools.cache
def _definitions() -> dict[str, set[str]]:
    """Every class, function and module-level name in the repository's Python, with its members."""
    out: dict[str, set[str]] = {}
    for root in SOURCES:
        for path in _modules(root):
            for name, members in _defined(path).items():
                out.setdefault(name, set()).update(members)
    return out


def _defined(path: Path) -> dict[str, set[str]]:
    """The names a module defines at its top level, each with the names its body defines."""
    out: dict[str, set[str]] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            out[node.name] = {
                n.name if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) else n.target.id
                for n in getattr(node, "body", [])
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                or (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name))
            }
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name):
                out[target.id] = set()
    return out


def _ticked() -> list[str]:
    return sorted(set(_TICKED.findall(ARCHITECTURE.read_text())))


def _resolve(path: str) -> Path | None:
    candidates = [root / path for root in ROOTS]
    if "*" in path:
        return next((c for root in ROOTS for c in root.glob(path)), None)
    return next((c for c in candidates if c.exists()), None)


@pytest.mark.parametrize("token", [t for t in _ticked() if _PATH.match(t)])
def test_every_path_the_architecture_page_gives_exists(token: str) -> None:
    path, _, name = token.partition(":")
    found = _resolve(path)
    assert found is not None, f"{path} does not exist"
    if name:
        top, _, member = name.partition(".")
        defined = _defined(found)
        assert top in defined, f"{path} defines no {top}"
        assert not member or member in defined[top], f"{top} in {path} has no {member}"


@pytest.mark.parametrize("token", [t for t in _ticked() if _NAME.match(t)])
def test_every_class_the_architecture_page_names_exists(token: str) -> None:
    top, _, member = token.partition(".")
    defined = _definitions()
    assert top in defined, f"no {top} in the repository"
    assert not member or member in defined[top], f"{top} has no {member}"


def test_the_architecture_check_sees_the_page() -> None:
    # The two checks above must have something to check: a page that lost its names would pass them.
    tokens = _ticked()
    assert sum(bool(_PATH.match(t)) for t in tokens) >= 40
    assert sum(bool(_NAME.match(t)) for t in tokens) >= 15
    assert "ScriptedLLM" not in ARCHITECTURE.read_text()


_DOC = re.compile(r"\bdocs/[\w/.-]+\.md\b")


def test_every_doc_the_code_and_the_docs_cite_exists() -> None:
    texts = [*_modules(PRODUCT), *(REPO / "docs").rglob("*.md"), REPO / "README.md"]
    cited = {m for path in texts for m in _DOC.findall(path.read_text())}
    assert any(c.startswith("docs/decisions/") for c in cited)  # the decision records are cited
    assert sorted(c for c in cited if not (REPO / c).exists()) == []
