"""The docs page end to end: real Chromium, real HTTP, the sandbox's replicas of every site."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from flows.docs_page import connect_org
from robot.model import OrgTask
from robot.runner import RunOptions, run_orgs
from tests.conftest import ROOT, robot_settings, run_cli, run_robot

ORG = "example-org-1"
APP = f"Terraform Cloud ({ORG})"
DOC_IMAGES = {
    "azure-devops-services-create-application.png", "azure-devops-services-application-permissions.png",
    "azure-devops-services-add-vcs-provider.png", "azure-devops-services-create-provider.png",
    "azure-devops-services-connect-provider.png", "azure-devops-services-accept-terms.png",
}


def world_state(sandbox, org=ORG):
    apps = sandbox.world.azure.apps_named(f"Terraform Cloud ({org})")
    clients = sandbox.world.tfc.clients_for(org)
    return apps, clients


def test_connects_an_org_end_to_end(sandbox, tmp_path):
    [result] = run_robot(sandbox.env(), tmp_path, [ORG])
    assert result.status == "connected", result.error
    apps, clients = world_state(sandbox)
    assert len(apps) == 1 and len(clients) == 1
    app, client = apps[0], clients[0]
    assert sorted(app.scopes) == ["vso.code", "vso.code_status"]
    assert client.key == app.id == result.app_id
    callback_url = f"{sandbox.world.urls['tfc']}/auth/{client.callback_uuid}/callback"
    assert app.callback_url == result.callback_url == callback_url
    assert client.token is not None and client.token.id == result.oauth_token_id
    assert result.oauth_client_id == client.id and result.verified
    assert [s.name for s in result.steps] == ["check_existing", "create_application", "add_vcs_provider",
                                              "update_callback_url", "connect_organization", "verify"]
    assert {p.name for p in (tmp_path / "docs").iterdir()} == DOC_IMAGES
    steps = sorted((tmp_path / ORG / "steps").iterdir())
    assert len(steps) >= 8 and all(p.stat().st_size > 1000 for p in steps)


def test_rerun_is_a_no_op(sandbox, tmp_path):
    [first] = run_robot(sandbox.env(), tmp_path / "1", [ORG])
    [second] = run_robot(sandbox.env(), tmp_path / "2", [ORG])
    assert first.status == second.status == "connected"
    apps, clients = world_state(sandbox)
    assert len(apps) == 1 and len(clients) == 1
    assert second.oauth_token_id == first.oauth_token_id
    assert [s.name for s in second.steps] == ["check_existing", "verify"]


def test_rerun_after_a_half_done_run_reuses_app_and_provider(sandbox, tmp_path):
    """A provider added but never connected (the run stopped): the app and provider are reused."""
    app = sandbox.world.azure.create_app(APP, ["vso.code", "vso.code_status"], "https://example.com/cb")
    sandbox.world.tfc.add_client(ORG, "Azure DevOps Services", app.id, app.client_secrets[0].value)
    [result] = run_robot(sandbox.env(), tmp_path, [ORG])
    assert result.status == "connected", result.error
    apps, clients = world_state(sandbox)
    assert len(apps) == 1 and len(clients) == 1 and clients[0].token
    assert apps[0].callback_url == result.callback_url


def test_callback_mismatch_is_fixed_and_retried_once(sandbox, tmp_path):
    sandbox.world.options.faults["revert_callback_once"] = True
    [result] = run_robot(sandbox.env(), tmp_path, [ORG])
    assert result.status == "connected", result.error
    notes = " ".join(n for s in result.steps for n in s.notes)
    assert "refused the callback URL" in notes
    apps, _ = world_state(sandbox)
    assert apps[0].callback_url == result.callback_url


def test_wrong_password_is_a_clear_final_error(sandbox, tmp_path):
    env = {**sandbox.env(), "AZURE_PASSWORD": "not-the-password"}
    [result] = run_robot(env, tmp_path, [ORG])
    assert result.status == "failed" and result.error_kind == "final"
    assert "password is incorrect" in result.error
    assert sandbox.world.azure.apps_named(APP) == []


def test_wrong_totp_is_a_clear_final_error(sandbox, tmp_path):
    env = {**sandbox.env(), "TFC_TOTP_SECRET": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}
    [result] = run_robot(env, tmp_path, [ORG])
    assert result.status == "failed" and result.error_kind == "final"
    assert "two-factor" in result.error.lower()


def test_closed_registration_is_one_clear_line(sandbox, tmp_path):
    sandbox.world.options.registration_closed = True
    [result] = run_robot(sandbox.env(), tmp_path, [ORG])
    assert result.status == "failed" and result.error_kind == "final"
    assert "does not accept new OAuth app registrations" in result.error
    assert "\n" not in result.error
    assert sandbox.world.tfc.clients_for(ORG) == []


def test_cli_connect_writes_result_and_report(sandbox, tmp_path):
    out = tmp_path / "out"
    proc = run_cli(["connect", "--org", ORG, "--out", str(out)], env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "result.json").read_text())
    [org] = doc["organizations"]
    assert org["status"] == "connected" and org["app_id"] and org["oauth_token_id"].startswith("ot-")
    assert {s["name"] for s in org["steps"]} >= {"create_application", "connect_organization"}
    html = (out / "report.html").read_text()
    for shot in org["screenshots"]:
        assert shot["path"] in html and (out / shot["path"]).exists()


def test_cli_bad_input_exits_2_before_any_browser(tmp_path):
    proc = run_cli(["connect", "--org", ORG, "--out", str(tmp_path)], env={"TFC_URL": "ftp://nowhere"}, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "TFC_URL" in lines[0]
    assert not (tmp_path / "result.json").exists()


def test_no_secret_in_any_artifact(sandbox, tmp_path):
    """Client secret, passwords, TOTP secrets and the API token appear in no file and no output."""
    out = tmp_path / "out"
    proc = run_cli(["connect", "--org", ORG, "--out", str(out), "--trace", "-v"], env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    env = sandbox.env()
    secrets = [env[k] for k in ("TFC_PASSWORD", "TFC_TOTP_SECRET", "TFC_TOKEN", "AZURE_PASSWORD", "AZURE_TOTP_SECRET")]
    [app] = sandbox.world.azure.apps_named(APP)
    secrets += [s.value for s in app.client_secrets] + [app.app_secret]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".zip" for p in files), "the trace was not written"
    assert any(p.name.endswith(".json") and "sessions" in str(p) for p in files), "no storage state"
    for path in files:
        data = _all_text(path)
        for secret in secrets:
            assert secret.encode() not in data, f"a secret leaked into {path.relative_to(tmp_path)}"
    for secret in secrets:
        assert secret not in proc.stdout and secret not in proc.stderr
    cookies = []
    for state in tmp_path.rglob("sessions/*.json"):
        assert state.stat().st_mode & 0o077 == 0
        cookies += [c["value"] for c in json.loads(state.read_text())["cookies"] if len(c["value"]) >= 8]
    assert cookies
    for trace in (p for p in files if p.suffix == ".zip"):
        data = _all_text(trace)
        for value in cookies:  # session cookies are as secret as passwords while they live
            assert value.encode() not in data, f"a session cookie is in {trace.name}"


def _all_text(path: Path) -> bytes:
    """The file's bytes, and for a zip every member's bytes too."""
    import zipfile
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            data += b"".join(z.read(n) for n in z.namelist())
    return data


def test_sessions_are_reused_between_runs(sandbox, tmp_path):
    """A second run with the same state folder signs in to neither site again."""
    settings = robot_settings(sandbox.env(), tmp_path / "state")

    def run(org, out):
        options = RunOptions(out=tmp_path / out, flow=connect_org, step_screenshots=False, doc_images=False)
        return asyncio.run(run_orgs([(OrgTask(org), settings)], options))

    [first] = run("example-org-1", "1")
    azure_sign_ins, tfc_sessions = sandbox.world.azure.sign_ins, len(sandbox.world.tfc.sessions)
    assert first.status == "connected" and azure_sign_ins == 1 and tfc_sessions == 1
    [second] = run("example-org-2", "2")
    assert second.status == "connected", second.error
    assert sandbox.world.azure.sign_ins == azure_sign_ins
    assert len(sandbox.world.tfc.sessions) == tfc_sessions


def test_sandbox_command_serves_and_its_env_file_drives_the_robot(tmp_path):
    """`vcs-robot sandbox --env-file .env` in one process, `vcs-robot connect` reading .env in another."""
    env_file = tmp_path / ".env"
    server = subprocess.Popen([sys.executable, "-m", "robot", "sandbox", "--env-file", str(env_file)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in server.stdout:
            if line.startswith("Ctrl-C stops it"):
                break
        assert env_file.stat().st_mode & 0o077 == 0
        proc = run_cli(["connect", "--org", ORG, "--no-screenshots", "--out", str(tmp_path / "out")], cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert json.loads((tmp_path / "out" / "result.json").read_text())["organizations"][0]["verified"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
