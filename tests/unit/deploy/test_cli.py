"""The command line in process: the offline plan, and apply/status/destroy against the fake tenancy."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from oci_genai_gateway import __main__ as package_main
from oci_genai_gateway.deploy.commands.cli import main
from tests.paths import REPO
from tests.unit.deploy.conftest import COMPARTMENT
from tests.unit.deploy.fake_tenancy import TENANCY, FakeBuilder, FakeTenancy, service_error

EXAMPLE = REPO / "deploy" / "gateway.example.toml"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        "[deployment]\n"
        'region = "us-chicago-1"\n'
        f'compartment_id = "{COMPARTMENT}"\n'
        'prefix = "genai"\n'
        'target = "serverless"\n'
        f'tenancy_id = "{TENANCY}"\n'
    )
    return path


def run(args: list[str], tenancy: FakeTenancy | None = None, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    extra: dict[str, Any] = {}
    if tenancy is not None:
        extra = {"maker": tenancy.maker, "builder": FakeBuilder(tenancy)}
    kwargs.setdefault("sleep", lambda seconds: None)
    code = main(args, out=out, env={}, **extra, **kwargs)
    return code, out.getvalue()


def test_offline_plan_of_the_example_needs_no_credentials() -> None:
    code, out = run(["plan", "--offline", "-c", str(EXAMPLE)])
    assert code == 0
    assert "35 to create; 0 unchanged." in out
    assert "Offline: against an empty tenancy" in out
    assert (
        "allow dynamic-group 'Default'/'genai-functions' to use generative-ai-chat in compartment id" in out
    )
    assert "where target.secret.id = '<keys.secret>'" in out
    assert "INGRESS tcp/443 from 0.0.0.0/0" in out


def test_the_package_command_line_runs_deploy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        package_main.main(["deploy", "plan", "--offline", "-c", str(EXAMPLE)])
    assert done.value.code == 0
    assert "35 to create" in capsys.readouterr().out


def test_apply_prints_the_url_the_snippet_and_the_keys_once(config_file: Path, tenancy: FakeTenancy) -> None:
    code, out = run(["apply", "--yes", "-c", str(config_file)], tenancy)
    assert code == 0
    (deployment,) = tenancy.objects("deployment")
    url = f"{deployment.endpoint.rstrip('/')}/v1"
    assert f"Base URL: {url}" in out
    assert f'OpenAI(base_url="{url}"' in out
    (secret,) = tenancy.objects("secret")
    key = next(iter(_keys(tenancy, secret.id).values()))
    assert out.count(key) == 1
    code, again = run(["apply", "--yes", "-c", str(config_file)], tenancy)
    assert code == 0
    assert "Everything is up to date." in again
    assert key not in again


def _keys(tenancy: FakeTenancy, secret_id: str) -> dict[str, str]:
    import base64

    return dict(json.loads(base64.b64decode(tenancy.secret_versions[secret_id][-1]))["keys"])


def test_apply_refuses_without_a_terminal_or_yes(
    config_file: Path, tenancy: FakeTenancy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, out = run(["apply", "-c", str(config_file)], tenancy)
    assert code == 1
    assert "pass --yes" in out
    assert tenancy.mutations == []


def test_a_failed_apply_still_prints_the_keys_it_stored(
    config_file: Path, tenancy: FakeTenancy, capsys: pytest.CaptureFixture[str]
) -> None:
    tenancy.fail_next("create_application", service_error(404, "NotAuthorizedOrNotFound"))
    code, out = run(["apply", "--yes", "-c", str(config_file)], tenancy)
    assert code == 1
    assert "manage functions-family" in capsys.readouterr().err
    (secret,) = tenancy.objects("secret")
    assert next(iter(_keys(tenancy, secret.id).values())) in out


def test_status_reads_a_key_from_the_secret_and_checks_the_live_url(
    config_file: Path, tenancy: FakeTenancy
) -> None:
    run(["apply", "--yes", "-c", str(config_file)], tenancy)
    (secret,) = tenancy.objects("secret")
    key = next(iter(_keys(tenancy, secret.id).values()))
    (deployment,) = tenancy.objects("deployment")
    host = httpx.URL(deployment.endpoint).host

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.host == host
        if request.url.path == "/health/readiness":
            return httpx.Response(200, json={"status": "ok"})
        if request.headers.get("Authorization") != f"Bearer {key}":
            return httpx.Response(401, json={"error": {"code": "invalid_api_key"}})
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "meta.llama-3.3-70b-instruct"}]})
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]})

    code, out = run(["status", "-c", str(config_file)], tenancy, transport=httpx.MockTransport(handle))
    assert code == 0, out
    assert out.count("ok  ") == 4
    assert key not in out


def test_status_of_a_missing_deployment(config_file: Path, tenancy: FakeTenancy) -> None:
    code, out = run(["status", "-c", str(config_file)], tenancy)
    assert code == 1
    assert "genai-vcn: missing (run apply)" in out
    assert "not deployed: run apply" in out


def test_destroy_lists_then_deletes(config_file: Path, tenancy: FakeTenancy) -> None:
    run(["apply", "--yes", "-c", str(config_file)], tenancy)
    code, out = run(["destroy", "--dry-run", "-c", str(config_file)], tenancy)
    assert code == 0
    assert "Deleting, in this order" in out
    assert tenancy.objects("vcn")
    code, out = run(["destroy", "--yes", "-c", str(config_file)], tenancy)
    assert code == 0
    assert tenancy.objects("vcn") == []
    code, out = run(["plan", "-c", str(config_file)], tenancy)
    assert "32 to create, 3 to restore; 0 unchanged." in out  # the vault, key and secret come back


def test_configuration_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "gateway.toml"
    bad.write_text('[deployment]\nregion = "us-chicago-1"\n')
    code, _ = run(["plan", "--offline", "-c", str(bad)])
    assert code == 2
    assert "deployment.compartment_id is required" in capsys.readouterr().err


def test_a_refused_domain_look_up_is_explained_not_guessed(
    config_file: Path, tenancy: FakeTenancy, capsys: pytest.CaptureFixture[str]
) -> None:
    tenancy.fail_next("list_domains", service_error(404, "NotAuthorizedOrNotFound"))
    code, _ = run(["plan", "-c", str(config_file)], tenancy)
    assert code == 1
    err = capsys.readouterr().err
    assert "listing identity domains: OCI answered 404" in err
    assert "inspect domains in tenancy" in err
    assert "Traceback" not in err
    tenancy.fail_persistently("get_namespace", service_error(503, "ServiceUnavailable"))
    code, _ = run(["plan", "-c", str(config_file)], tenancy)
    assert code == 1
    assert "reading the tenancy before planning: OCI answered 503" in capsys.readouterr().err


def test_destroy_reports_what_is_left_and_runs_again_to_a_clean_tenancy(
    config_file: Path, tenancy: FakeTenancy
) -> None:
    run(["apply", "--yes", "-c", str(config_file)], tenancy)
    for _ in range(40):  # more 409s than the release strategy tries
        tenancy.fail_next("delete_subnet", service_error(409, "Conflict", "references to VNICs"))
    code, out = run(["destroy", "--yes", "-c", str(config_file)], tenancy)
    assert code == 1
    assert "Left in the tenancy" in out
    assert "subnet" in out
    assert "apply again" not in out
    tenancy.failures.clear()
    code, out = run(["destroy", "--yes", "-c", str(config_file)], tenancy)
    assert code == 0
    assert "already scheduled for deletion" in out
    assert "Done: nothing of this prefix is left" in out
    assert tenancy.objects("vcn") == []
    code, out = run(["destroy", "--yes", "-c", str(config_file)], tenancy)
    assert code == 0
    assert "Nothing left to delete." in out
