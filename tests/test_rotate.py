"""`vcs-robot rotate`: provisioned orgs get a new Azure DevOps client secret, proven, the old one revoked."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli, run_robot

NAMES = [f"example-org-{n}" for n in range(1, 6)]
TOKEN_FORM = {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
              "grant_type": "refresh_token"}


def orgs_file(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [{"name": n} for n in names]}))
    return path


def provision(sandbox, tmp_path: Path, names: list[str]) -> dict:
    """Provisions `names`; returns each org's app and its (only) secret at that point."""
    results = run_robot(sandbox.env(), tmp_path / "provision", names, workers=3, step_screenshots=False,
                        doc_images=False)
    assert all(r.status == "connected" for r in results), [r.error for r in results]
    before = {}
    for name in names:
        [app] = sandbox.world.azure.apps_named(f"Terraform Cloud ({name})")
        [secret] = app.client_secrets
        before[name] = (app, secret.id, secret.value)
    return before


def token_endpoint_refuses(sandbox, secret: str) -> dict:
    """Uses `secret` at the real token endpoint (a refresh grant) and returns the error it answers."""
    form = {**TOKEN_FORM, "client_assertion": secret, "assertion": "x" * 40}
    request = urllib.request.Request(sandbox.world.urls["vssps"] + "/oauth2/token",
                                     data=urllib.parse.urlencode(form).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=20)
    return json.loads(refused.value.read())


def assert_rotated(sandbox, name: str, old_id: str, old_value: str, expires: str) -> None:
    azure, tfc = sandbox.world.azure, sandbox.world.tfc
    [app] = azure.apps_named(f"Terraform Cloud ({name})")
    [secret] = app.client_secrets  # exactly one live secret: the new one
    assert secret.id != old_id and secret.value != old_value
    assert token_endpoint_refuses(sandbox, old_value)["Error"] == "invalid_client"
    [client] = tfc.clients_for(name)
    assert client.secret == secret.value  # Terraform Cloud holds the new secret
    token = azure.token_user(client.token.access_token)  # ... and a live token made with it
    assert token is not None and token.secret_id == secret.id
    assert expires == secret.expires_date


def assert_no_secret_in(folder: Path, values: list[str]) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for value in values:
                assert value.encode() not in data, f"a client secret is in {path}"


def test_rotates_five_orgs_and_revokes_the_old_secrets(sandbox, tmp_path):
    before = provision(sandbox, tmp_path, NAMES)
    out = tmp_path / "rotate"
    proc = run_cli(["rotate", str(orgs_file(tmp_path, NAMES)), "--workers", "3", "--out", str(out)],
                   env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((out / "result.json").read_text())
    assert doc["summary"] == {"organizations": 5, "connected": 5, "failed": 0, "interrupted": 0}
    by_org = {o["org"]: o for o in doc["organizations"]}
    for name, (_app, old_id, old_value) in before.items():
        assert_rotated(sandbox, name, old_id, old_value, by_org[name]["expires"])
        assert [s["name"] for s in by_org[name]["steps"]] == [
            "check_provider", "generate_secret", "update_provider", "reauthorize", "retire_old_secret", "verify"]
    assert "expires on" in proc.stdout
    html = (out / "report.html").read_text()
    assert by_org[NAMES[0]]["expires"] in html
    assert 'tests="5" failures="0"' in (out / "junit.xml").read_text()
    values = [v for _, _, v in before.values()] + [sandbox.world.azure.apps_named(f"Terraform Cloud ({n})")[0]
                                                   .client_secrets[0].value for n in NAMES]
    assert_no_secret_in(tmp_path, values)
    assert values[0] not in proc.stdout + proc.stderr


def _journal_count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def test_rotation_killed_after_generate_and_resumed_ends_the_same(sandbox, tmp_path):
    name = NAMES[0]
    before = provision(sandbox, tmp_path, [name])
    _, old_id, old_value = before[name]
    path, out = orgs_file(tmp_path, [name]), tmp_path / "rotate"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TFC_", "AZURE_"))}
    env.update(sandbox.env(), XDG_CACHE_HOME=str(tmp_path / ".cache"))
    child = subprocess.Popen([sys.executable, "-m", "robot", "rotate", str(path), "--no-screenshots",
                              "--out", str(out)], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=(tmp_path / "stderr.txt").open("w"))
    journal = out / "journal.sqlite"
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:  # kill right after "Generate Secret"
        if _journal_count(journal, "SELECT count(*) FROM events WHERE step='generate_secret' "
                                   "AND detail LIKE 'new secret %'"):
            break
        time.sleep(0.02)
    assert child.poll() is None, (tmp_path / "stderr.txt").read_text()
    child.kill()
    child.wait()
    [app] = sandbox.world.azure.apps_named(f"Terraform Cloud ({name})")
    assert len(app.client_secrets) == 2  # the new one made, the old one still there ...
    [client] = sandbox.world.tfc.clients_for(name)
    assert client.secret in {s.value for s in app.client_secrets}  # ... and whatever TFC holds still works
    generated = {s.id for s in app.client_secrets} - {old_id}

    proc = run_cli(["rotate", str(path), "--resume", "--no-screenshots", "--out", str(out)],
                   env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [result] = json.loads((out / "result.json").read_text())["organizations"]
    assert_rotated(sandbox, name, old_id, old_value, result["expires"])
    assert {s.id for s in app.client_secrets} == generated  # carried on with the secret run 1 made
    notes = " ".join(n for s in result["steps"] for n in s["notes"])
    assert "an earlier run generated the secret" in notes
    assert_no_secret_in(tmp_path, [old_value, app.client_secrets[0].value])


def test_wizard_ui_rotates_too(tmp_path):
    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions
    with Sandbox(SandboxOptions(render_delay_ms=(20, 80), tfc_ui="wizard")) as sandbox:
        name = NAMES[1]
        _, old_id, old_value = provision(sandbox, tmp_path, [name])[name]
        from flows.rotate_secret import rotate_org
        [result] = run_robot(sandbox.env(), tmp_path / "rotate", [name], flow=rotate_org, step_screenshots=False)
        assert result.status == "connected", result.error
        assert_rotated(sandbox, name, old_id, old_value, result.expires)


def test_an_org_without_provider_fails_with_one_clear_line(sandbox, tmp_path):
    from flows.rotate_secret import rotate_org
    [result] = run_robot(sandbox.env(), tmp_path, [NAMES[2]], flow=rotate_org, step_screenshots=False)
    assert result.status == "failed" and result.error_kind == "final"
    assert "provision the organization first" in result.error
