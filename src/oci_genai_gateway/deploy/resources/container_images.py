"""Function images: a content tag each, built and pushed with docker or podman into an OCIR repository."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.deploy.config.schema import FUNCTIONS, DeployConfig
from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.kind_factory import sdk_kind
from oci_genai_gateway.deploy.engine.resource_model import (
    OWNER_TAG,
    Changes,
    Context,
    Kind,
    Resource,
    Spec,
    State,
)
from oci_genai_gateway.deploy.engine.sdk_calls import list_all
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from oci_genai_gateway.deploy.resources.facts import Facts
from oci_genai_gateway.deploy.resources.image_build import Builder, BuildStep, build_step

# The project's source tree (a checkout: functions/build.py and pyproject.toml at its root) is needed
# only to build images; deploy itself runs from an installed wheel. It is found by `find_source`.
SOURCE_MARKERS = ("pyproject.toml", "functions/build.py")
# What goes into an image (functions/Dockerfile installs the wheel of src/ with constraints.txt).
_SHARED = ("pyproject.toml", "constraints.txt", "README.md", "functions/Dockerfile")
# Package data that goes into the wheel, hence into every image (pyproject.toml package-dir).
_PACKAGE_DATA = (
    "deploy/compose/__init__.py",
    "deploy/compose/cloud-init.yaml",
    "deploy/compose/gateway.env.example",
    "functions/__init__.py",
    "functions/build.py",
)
_PER_FUNCTION = ("func.py", "func.yaml", "requirements.txt")


def find_source(given: Path | None, cwd: Path) -> Path | None:
    """The source tree: the one given (checked), else the working directory when it is a checkout."""
    if given is not None:
        missing = [m for m in SOURCE_MARKERS if not (given / m).is_file()]
        if missing:
            raise ConfigError(f"--source {given}: not the project's source tree (no {', '.join(missing)})")
        return given.resolve()
    if all((cwd / m).is_file() for m in SOURCE_MARKERS):
        return cwd.resolve()
    return None


def version(root: Path) -> str:
    """The package version from pyproject.toml."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def content_tag(name: str, root: Path) -> str:
    """`<name>-<version>-<hash>`: changes exactly when something that goes into the image changes."""
    digest = hashlib.sha256()
    files = [root / rel for rel in (*_SHARED, *_PACKAGE_DATA)]
    files += sorted((root / "functions").glob("*/func.yaml"))
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
class PushedImage:
    """An image known to be in OCIR (found by tag, or just pushed)."""

    id: str
    version: str
    digest: str | None = None


class ImageKind(Kind):
    """One function image, identified by its content tag; built and pushed when OCIR lacks it."""

    label = "image"
    family = "repos"

    def __init__(
        self,
        owner: str,
        ref: str,
        step_for: Callable[[str], BuildStep],
        builder: Builder,
        source: Path | None = None,
        never: bool = False,
    ) -> None:
        self._never = never  # images.build = "never": print the commands, never run them
        self._owner = owner
        self.ref = ref
        self._step_for = step_for
        self._builder = builder
        self._source = source

    def find(self, ctx: Context, res: Resource, scope: str | None) -> list[Any]:
        """The tag in the repository (scope: the repository's name), wherever in the tenancy it lives.

        A named repository may sit in another compartment (OCIR names are unique in the tenancy's
        namespace), so the whole tenancy is searched, not the deployment's compartment.
        """
        version = self.ref.rsplit(":", 1)[1]
        images = list_all(
            ctx.clients.artifacts.list_container_images,
            ctx.clients.tenancy_id,
            compartment_id_in_subtree=True,
            repository_name=scope,
            version=version,
        )
        return [
            i for i in images if i.version == version and getattr(i, "lifecycle_state", None) != "DELETED"
        ]

    def ocid(self, live: Any) -> str:
        """Functions reference images by name, not OCID."""
        return self.ref

    def tags(self, live: Any) -> Mapping[str, str]:
        """Ownership is the repository's; a tag in it is ours."""
        return {OWNER_TAG: self._owner}

    def create(self, ctx: Context, res: Resource, scope: str | None, spec: Spec, tags: dict[str, str]) -> Any:
        """Build and push, or stop with the exact commands when no container tool is here."""
        if self._never:
            step = self._step_for(self._builder.tool() or "docker")
            raise DeployError(
                f"image {self.ref} is not in OCIR and images.build = 'never': build and push it "
                f"yourself:\n{step.text()}\nthen apply again, or set [images] refs."
            )
        if self._source is None:
            raise DeployError(
                f"image for function {res.key.rsplit('.', 1)[1]} is not in OCIR, and building it needs the "
                "project's source: run deploy from the repository's root, or pass --source DIR, or set "
                "[images] refs to images built elsewhere"
            )
        tool = self._builder.tool()
        if tool is None:
            step = self._step_for("docker")
            raise DeployError(
                f"image {self.ref} is not in OCIR and neither docker nor podman is on PATH. "
                "Build and push it "
                f"(Cloud Shell has docker):\n{step.text()}\nthen apply again, or set [images] refs."
            )
        ctx.reporter.progress(f"building and pushing {self.ref} with {tool}")
        try:
            self._builder.run(self._step_for(tool))
        except RuntimeError as exc:
            raise DeployError(f"image {self.ref}: {exc}") from None
        # The digest OCIR gives the pushed image: the function is pinned to it.
        pushed = self.find(ctx, res, scope)
        if pushed:
            return pushed[0]
        return PushedImage(self.ref, self.ref.rsplit(":", 1)[1])

    def update(
        self, ctx: Context, res: Resource, scope: str | None, live: Any, changed: Spec, tags: dict[str, str]
    ) -> Any:
        """Never needed: a different image has a different tag."""
        return live

    def delete(self, ctx: Context, res: Resource, scope: str | None, live: Any) -> None:
        """Delete the tag's image (found by listing, so `live.id` is its OCID)."""
        image_id = getattr(live, "id", "")
        if str(image_id).startswith("ocid1."):
            ctx.clients.artifacts.delete_container_image(image_id)

    def diff(self, ctx: Context, res: Resource, live: Any, spec: Spec) -> Changes:
        """Found means identical (content tag)."""
        return {}


def _repo_kind() -> SdkKind:
    return sdk_kind("container repository", "repos", "artifacts", "container_repository")


def image_refs(config: DeployConfig, facts: Facts, source: Path | None) -> dict[str, str]:
    """Each function's image: given, or `<ocir>/<namespace>/<repository>:<content tag>`.

    Without the source tree the tag is unknown: the plan shows a placeholder, apply stops at the image.
    """
    if config.images.refs:
        return dict(config.images.refs)
    host = registry_host(facts.region_key, config.images.registry)
    repo = config.images.repository or f"{config.prefix}-gateway"

    def tag(name: str) -> str:
        return content_tag(name, source) if source is not None else f"{name}-content-tag-needs-source"

    return {name: f"{host}/{facts.namespace}/{repo}:{tag(name)}" for name in FUNCTIONS}


def image_keys(config: DeployConfig) -> tuple[str, ...]:
    """The image resources the functions wait for (none when the images are given)."""
    return () if config.images.refs else tuple(f"functions.image.{name}" for name in FUNCTIONS)


def resources(
    config: DeployConfig, facts: Facts, builder: Builder, source: Path | None = None
) -> list[Resource]:
    """The OCIR repository (unless named) and the four images (unless given)."""
    if config.images.refs:
        return []
    p = config.prefix
    refs = image_refs(config, facts, source)
    out: list[Resource] = []
    repo_name = config.images.repository or f"{p}-gateway"
    if config.images.repository is None:
        out.append(Resource("functions.repository", _repo_kind(), repo_name, lambda s: {"is_public": False}))

    def repo_scope(s: State) -> str:
        # A repository we create is only listable once it exists.
        if config.images.repository is None and not s.known("functions.repository"):
            return s.ocid("functions.repository")
        return repo_name

    for name in FUNCTIONS:
        ref = refs[name]
        step_for = lambda tool, n=name, r=ref: build_step(tool, n, r, config.functions.shape)  # noqa: E731
        kind = ImageKind(p, ref, step_for, builder, source, config.images.build == "never")
        deps = ("functions.repository",) if config.images.repository is None else ()
        out.append(Resource(f"functions.image.{name}", kind, ref, lambda s: {}, deps, repo_scope))
    return out
