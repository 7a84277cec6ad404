"""Function images: content tags, the build commands, and what happens without a container tool."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from oci_genai_gateway.deploy.engine.failures import DeployError
from oci_genai_gateway.deploy.engine.resource_model import Action
from oci_genai_gateway.deploy.resources import container_images as images
from oci_genai_gateway.deploy.resources import image_build
from oci_genai_gateway.deploy.resources.container_images import content_tag
from oci_genai_gateway.deploy.resources.image_build import CliBuilder, build_step
from tests.paths import REPO
from tests.unit.deploy.conftest import Deployer, config
from tests.unit.deploy.fake_tenancy import FakeBuilder


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The files that go into an image, copied from the repository."""
    shared = ("pyproject.toml", "constraints.txt", "README.md", "functions/Dockerfile")
    data = tuple(f"deploy/compose/{n}" for n in ("__init__.py", "cloud-init.yaml", "gateway.env.example"))
    data += ("functions/__init__.py", "functions/build.py")
    data += tuple(f"functions/{n}/func.yaml" for n in ("embeddings", "authorizer"))
    for rel in (*shared, *data):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, tmp_path / rel)
    for name in ("chat", "models"):
        for rel in ("func.py", "func.yaml", "requirements.txt"):
            (tmp_path / "functions" / name).mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / "functions" / name / rel, tmp_path / "functions" / name / rel)
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "a.py").write_text("A = 1\n")
    return tmp_path


def test_content_tag_changes_with_what_goes_into_the_image(tree: Path) -> None:
    chat, models = content_tag("chat", tree), content_tag("models", tree)
    assert chat.startswith("chat-0.1.0-")
    assert models.startswith("models-0.1.0-")
    assert content_tag("chat", tree) == chat
    (tree / "functions" / "models" / "func.py").write_text("# changed\n")
    assert (content_tag("chat", tree), content_tag("models", tree) != models) == (chat, True)
    (tree / "src" / "pkg" / "__pycache__").mkdir()
    (tree / "src" / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"x")
    assert content_tag("chat", tree) == chat  # bytecode caches do not count
    (tree / "src" / "pkg" / "a.py").write_text("A = 2\n")
    assert content_tag("chat", tree) != chat


def test_build_step_stages_builds_for_the_platform_and_pushes() -> None:
    step = build_step("podman", "chat", "ord.ocir.io/ns/repo:chat-1", "GENERIC_ARM")
    assert step.commands == (
        ("python3", "functions/build.py", "chat"),
        (
            "podman",
            "build",
            "--platform",
            "linux/arm64",
            "-t",
            "ord.ocir.io/ns/repo:chat-1",
            "functions/chat",
        ),
        ("podman", "push", "ord.ocir.io/ns/repo:chat-1"),
    )
    assert "docker" not in step.text()


def test_cli_builder_picks_a_tool_and_explains_a_failed_push(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        image_build.shutil, "which", lambda name: "/usr/bin/podman" if name == "podman" else None
    )
    ran: list[tuple[str, ...]] = []

    def runner(command: Any, cwd: Path | None) -> int:
        assert cwd == REPO  # the commands run from the source tree
        ran.append(tuple(command))
        return 1 if command[1] == "push" else 0

    builder = CliBuilder(runner=runner, source=REPO)
    assert builder.tool() == "podman"
    assert CliBuilder("docker").tool() is None
    with pytest.raises(RuntimeError, match=r"podman login ord\.ocir\.io.*auth token"):
        builder.run(build_step("podman", "chat", "ord.ocir.io/ns/repo:chat-1", "GENERIC_X86"))
    assert [c[1] for c in ran] == ["functions/build.py", "build", "push"]


def test_without_a_container_tool_apply_stops_with_the_exact_commands(deployer: Deployer) -> None:
    nothing = Deployer(deployer.tenancy, FakeBuilder(deployer.tenancy, tool=None))
    with pytest.raises(DeployError) as caught:
        nothing.apply(config())
    message = str(caught.value)
    assert "neither docker nor podman" in message
    assert "python3 functions/build.py chat" in message
    assert "docker build --platform linux/amd64 -t ord.ocir.io/tenancyns/genai-gateway:chat-0.1.0-" in message
    assert "docker push ord.ocir.io/tenancyns/genai-gateway:chat-0.1.0-" in message
    # Everything before the images exists; the next apply (after a manual push) goes on from there.
    assert nothing.tenancy.objects("repo")
    assert not nothing.tenancy.objects("app")


def test_the_source_tree_is_given_or_the_working_directory(tmp_path: Path) -> None:
    from oci_genai_gateway.core.errors import ConfigError

    assert images.find_source(None, REPO) == REPO
    assert images.find_source(None, tmp_path) is None  # an installed wheel, run elsewhere
    assert images.find_source(REPO, tmp_path) == REPO
    with pytest.raises(ConfigError, match="not the project's source tree"):
        images.find_source(tmp_path, REPO)


def test_without_the_source_tree_apply_stops_at_the_images_and_says_how(deployer: Deployer) -> None:
    ctx, _ = deployer.stack(config())
    from oci_genai_gateway.deploy.engine import reconcile
    from oci_genai_gateway.deploy.resources.facts import gather
    from oci_genai_gateway.deploy.resources.stack import build

    sourceless = build(config(), gather(config(), ctx.clients), deployer.builder, {}, None)
    refs = [r.name for r in sourceless.resources if r.key.startswith("functions.image.")]
    assert refs[0].endswith(":chat-content-tag-needs-source")
    with pytest.raises(DeployError, match=r"building it needs the project's source: .*--source DIR"):
        reconcile.apply(ctx, sourceless)
    assert deployer.builder.steps == []


def _fn(deployer: Deployer, name: str) -> Any:
    return next(f for f in deployer.tenancy.objects("fn") if f.display_name == name)


def _image(deployer: Deployer, name: str) -> Any:
    return next(i for i in deployer.tenancy.objects("image") if i.version.startswith(f"{name}-"))


def test_functions_are_pinned_to_the_digest_ocir_gave_their_image(deployer: Deployer) -> None:
    deployer.apply(config())
    for name in ("chat", "embeddings", "models", "authorizer"):
        source = _fn(deployer, name).source_details
        assert source.image_digest == _image(deployer, name).digest
        assert source.image_digest.startswith("sha256:")


def test_an_image_rebuilt_under_the_same_tag_repins_the_function(deployer: Deployer) -> None:
    deployer.apply(config())
    _image(deployer, "chat").digest = "sha256:" + "f" * 64  # pushed again elsewhere, same content tag
    plan = {c.resource.key: c for c in deployer.plan(config()) if c.action is not Action.NOOP}
    assert list(plan) == ["functions.fn.chat"]
    assert list(plan["functions.fn.chat"].fields) == ["source_details"]
    deployer.apply(config())
    assert _fn(deployer, "chat").source_details.image_digest == "sha256:" + "f" * 64
    assert all(c.action is Action.NOOP for c in deployer.plan(config()))


def test_a_deleted_image_is_rebuilt_and_the_function_repinned(deployer: Deployer) -> None:
    deployer.apply(config())
    old = _image(deployer, "models")
    del deployer.tenancy.store["image"][old.id]
    deployer.apply(config())
    new = _image(deployer, "models")
    assert [step.name for step in deployer.builder.steps][-1] == "models"
    assert new.digest != old.digest
    assert _fn(deployer, "models").source_details.image_digest == new.digest


def test_build_never_prints_the_commands_and_runs_none(deployer: Deployer) -> None:
    with pytest.raises(DeployError, match=r"images.build = 'never': build and push it yourself") as err:
        deployer.apply(config({"images": {"build": "never"}}))
    assert "docker push ord.ocir.io/tenancyns/genai-gateway:chat-0.1.0-" in str(err.value)
    assert deployer.builder.steps == []


def test_a_repository_in_another_compartment_is_found_not_rebuilt(deployer: Deployer) -> None:
    elsewhere = FakeBuilder(deployer.tenancy)
    deployer.tenancy.compartment = "ocid1.compartment.oc1..shared"  # where FakeBuilder pushes
    cfg = config({"images": {"repository": "shared-gateway"}})
    _, stack = deployer.stack(cfg)
    for res in stack.resources:
        if res.key.startswith("functions.image."):
            elsewhere.run(build_step("docker", res.key.rsplit(".", 1)[1], res.name, "GENERIC_X86"))
    deployer.tenancy.compartment = "ocid1.compartment.oc1..comp"
    deployer.apply(cfg)
    assert deployer.builder.steps == []
    assert not deployer.tenancy.mutation_calls("create_container_repository")
    assert all(c.action is Action.NOOP for c in deployer.plan(cfg))
