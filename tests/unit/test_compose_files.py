"""The compose target's files: compose.yaml, Caddyfile, Containerfile, env template, cloud-init."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from oci_genai_gateway.core.settings import AuthMode, Settings
from oci_genai_gateway.healthcheck import readiness_url
from tests.deploy_files import COMPOSE_DIR, read_containerfile, read_env_file
from tests.fixtures.caddy import SITE_MARKER, render_test_caddyfile
from tests.paths import REPO

SRC = REPO / "src" / "oci_genai_gateway"


def compose() -> dict[str, Any]:
    """compose.yaml as data."""
    data: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    return data


def example_env(*, commented: bool = False) -> dict[str, str]:
    """gateway.env.example's settings."""
    return read_env_file((COMPOSE_DIR / "gateway.env.example").read_text(), commented=commented)


def handlers(node: Any, kind: str) -> list[dict[str, Any]]:
    """Every handler of `kind` anywhere in an adapted Caddy config."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("handler") == kind:
            found.append(node)
        for value in node.values():
            found += handlers(value, kind)
    elif isinstance(node, list):
        for value in node:
            found += handlers(value, kind)
    return found


def test_compose_runs_gateway_and_caddy_on_the_host_network_with_restarts() -> None:
    services = compose()["services"]
    assert set(services) == {"gateway", "caddy"}
    for name, service in services.items():
        # The instance principal needs 169.254.169.254; the gateway must stay on the VM's loopback.
        assert service["network_mode"] == "host", name
        assert service["restart"] in ("always", "unless-stopped"), name
        assert service["env_file"] == "gateway.env", name
        assert "ports" not in service, f"{name}: host networking publishes nothing"


def test_compose_builds_the_gateway_from_this_repository() -> None:
    gateway = compose()["services"]["gateway"]
    context = (COMPOSE_DIR / gateway["build"]["context"]).resolve()
    assert context == REPO
    assert (context / gateway["build"]["dockerfile"]).resolve() == COMPOSE_DIR / "Containerfile"
    assert gateway["healthcheck"]["test"][1:] == read_containerfile().healthcheck
    assert gateway["ulimits"]["nofile"]["soft"] >= 4096  # two sockets per open stream


def test_compose_mounts_the_shipped_caddyfile_and_keeps_certificates() -> None:
    spec = compose()
    caddy = spec["services"]["caddy"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in caddy["volumes"]}
    assert mounts["/etc/caddy/Caddyfile"] == "./Caddyfile"
    assert mounts["/data"] in spec["volumes"], "certificates must outlive the container"
    assert caddy["depends_on"] == ["gateway"]


def test_caddyfile_proxies_to_the_gateway_port_and_lets_caddy_flush_sse() -> None:
    text = (COMPOSE_DIR / "Caddyfile").read_text()
    assert text.count(SITE_MARKER) == 1
    directives = [
        line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    assert "reverse_proxy 127.0.0.1:{$GATEWAY_PORT:8080}" in directives
    # Caddy flushes text/event-stream on every write; an explicit -1 would make it ignore a client
    # that hangs up mid-stream (the upstream OCI call would run on).
    assert not any(d.startswith("flush_interval") for d in directives)


def test_the_test_caddyfile_is_the_shipped_one_plus_test_options(tmp_path: Path) -> None:
    shipped = (COMPOSE_DIR / "Caddyfile").read_text()
    rendered = render_test_caddyfile(shipped, tmp_path, 18080)
    assert rendered.endswith(shipped.split(SITE_MARKER, 1)[1])
    assert "tls internal" in rendered
    assert "bind 127.0.0.1" in rendered
    assert "admin off" in rendered


def test_env_template_documents_every_setting_and_is_a_valid_vm_config() -> None:
    names = set(re.findall(r"\"(GATEWAY_[A-Z_]+)\"", (SRC / "core" / "settings.py").read_text()))
    names |= set(re.findall(r"\"(GATEWAY_[A-Z_]+)\"", (SRC / "__main__.py").read_text()))
    assert {"GATEWAY_REGION", "GATEWAY_HOST", "GATEWAY_PORT"} <= names
    documented = example_env(commented=True)
    assert names - set(documented) == set()
    assert "GATEWAY_SITE_ADDRESS" in documented
    active = example_env()
    assert active["GATEWAY_AUTH"] == "instance_principal"
    assert active["GATEWAY_HOST"] == "127.0.0.1"
    # Filled in as the comments say: a team name and a long random key.
    active["GATEWAY_API_KEYS"] = active["GATEWAY_API_KEYS"].replace("<team>", "team-a")
    active["GATEWAY_API_KEYS"] = active["GATEWAY_API_KEYS"].replace("<sk-long-random-key>", "0" * 64)
    settings = Settings.from_env(active)
    assert settings.auth is AuthMode.INSTANCE_PRINCIPAL
    assert settings.api_keys


def test_containerfile_builds_a_slim_non_root_image_with_our_wheel() -> None:
    spec = read_containerfile()
    assert spec.stages[-1] == "docker.io/library/python:3.11-slim"
    assert spec.user is not None
    assert spec.user.split(":")[0] not in ("root", "0")
    runs = " ".join(args for keyword, args in spec.instructions if keyword == "RUN")
    assert "pip wheel" in runs
    assert "compileall" in runs
    assert spec.env["GATEWAY_AUTH"] == "instance_principal"
    assert spec.env["GATEWAY_HOST"] == "127.0.0.1"
    assert spec.healthcheck == ["python", "-m", "oci_genai_gateway.healthcheck"]
    assert readiness_url(spec.env) == f"http://127.0.0.1:{spec.env['GATEWAY_PORT']}/health/readiness"
    # The final stage installs nothing at start: no pip in the entrypoint.
    assert spec.entrypoint[:4] == ["python", "-m", "oci_genai_gateway", "serve"]
    assert "pip" not in " ".join(spec.entrypoint + spec.cmd)


def test_the_image_installs_the_server_and_otel_extras_pinned_as_constraints_pins_them() -> None:
    # uvloop (the `server` extra): uvicorn's loop "auto" runs on it in the image (docs/PERFORMANCE.md);
    # `otel`: the OpenTelemetry SDK, loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    runs = " ".join(args for keyword, args in read_containerfile().instructions if keyword == "RUN")
    assert re.search(r'pip install -c constraints\.txt "oci-genai-gateway\[server,otel\] @ file://', runs)
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = set((REPO / "constraints.txt").read_text().split())
    for extra in ("server", "otel"):
        assert extras[extra]
        assert set(extras[extra]) <= pins, extra


def test_cloud_init_installs_podman_and_starts_the_stack_on_boot() -> None:
    text = (COMPOSE_DIR / "cloud-init.yaml").read_text()
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    assert {"podman", "podman-compose"} <= set(data["packages"])
    files = {f["path"]: f for f in data["write_files"]}
    env_file = files["/etc/oci-genai-gateway/gateway.env"]
    assert env_file["permissions"] == "0600"  # it holds the API keys
    settings = read_env_file(env_file["content"])
    assert set(settings) <= set(example_env(commented=True))
    assert settings["GATEWAY_AUTH"] == "instance_principal"
    unit = files["/etc/systemd/system/oci-genai-gateway.service"]["content"]
    assert "WorkingDirectory=/opt/oci-genai-gateway/deploy/compose" in unit
    assert re.search(r"^ExecStart=/usr/bin/podman-compose up -d$", unit, re.M)
    assert "WantedBy=multi-user.target" in unit
    commands = [" ".join(c) if isinstance(c, list) else c for c in data["runcmd"]]
    assert "systemctl enable --now oci-genai-gateway.service" in commands
    link = "ln -sf /etc/oci-genai-gateway/gateway.env /opt/oci-genai-gateway/deploy/compose/gateway.env"
    assert link in commands  # compose.yaml's env_file
    assert any("--dports 80,443" in c for c in commands)


def test_build_context_sends_what_the_containerfile_copies() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copies = [args.split() for keyword, args in read_containerfile().instructions if keyword == "COPY"]
    sources = {src.rstrip("/") for parts in copies if not parts[0].startswith("--") for src in parts[:-1]}
    assert sources == allowed
