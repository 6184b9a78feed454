"""The personal access token route end to end: real Chromium, real HTTP, the sandbox on both UI generations.

Azure DevOps: an org-scoped token with Code (Read) + Code (Status) (one a crash left is kept and a new one made
beside it, or replaced only with --replace-tokens and proof); Terraform Cloud: the wizard's "Configure with
Personal Access Token" form, or the API on the
seed UI (which has no such form); the token's value in no artifact."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml

from flows.pat_route import SEED_NO_PAT_FORM, TOKEN_DAYS
from robot.model import OrgTask
from tests.conftest import run_cli, run_robot
from tests.test_docs_flow import _all_text

ORG = "example-org-1"
ADO_ORG = "contoso-sandbox"
TOKEN = f"Terraform Cloud ({ORG})"
CODE = ["vso.code", "vso.code_status"]
PAT_STEPS = ["check_existing", "create_token", "add_vcs_provider", "verify"]


def pat_task(org: str = ORG) -> OrgTask:
    return OrgTask(org, route="pat", azure_devops_organization=ADO_ORG)


def _sandbox(tfc_ui: str):
    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions
    return Sandbox(SandboxOptions(tfc_ui=tfc_ui, render_delay_ms=(20, 80)))


@pytest.fixture
def wizard_sandbox():
    with _sandbox("wizard") as sb:
        yield sb


@pytest.fixture
def seed_sandbox():
    with _sandbox("seed") as sb:
        yield sb


def live_tokens(sb, name: str = TOKEN):
    now = sb.world.azure.clock()
    return [p for p in sb.world.azure.pats_named(name) if p.status(now) == "Active"]


def check_connected(sb, result, org: str = ORG):
    """The world holds one live org-scoped token and one client using it; the result says so."""
    assert result.status == "connected", result.error
    [pat] = live_tokens(sb, f"Terraform Cloud ({org})")
    assert pat.organization == ADO_ORG and not pat.is_global and sorted(pat.scopes) == CODE
    assert 80 <= (pat.expires_date - sb.world.azure.today()).days <= TOKEN_DAYS
    assert result.expires == pat.expires_date.isoformat()
    [client] = sb.world.tfc.clients_for(org)
    assert client.ado_org_name == ADO_ORG and client.service_provider == "ado_services"
    assert client.name == "Azure DevOps Services"
    assert client.token is not None and client.token.id == result.oauth_token_id
    assert result.oauth_client_id == client.id and result.verified
    assert sb.world.azure.check_pat(client.token.access_token, ADO_ORG)  # the stored token works
    assert not sb.world.azure.apps_named(f"Terraform Cloud ({org})")  # no OAuth app on this route
    return pat, client


def test_wizard_pat_end_to_end_and_rerun_is_a_no_op(wizard_sandbox, tmp_path):
    sb = wizard_sandbox
    [result] = run_robot(sb.env(), tmp_path / "1", [pat_task()])
    assert [s.name for s in result.steps] == PAT_STEPS
    pat, client = check_connected(sb, result)
    shots = [s["step"] for s in result.screenshots]
    for step in ("pat-tokens", "pat-created", "wizard-choose-provider", "pat-configure",
                 "wizard-advanced-settings", "wizard-connected"):
        assert step in shots, shots
    notes = " ".join(n for s in result.steps for n in s.notes)
    assert f"expires on {pat.expires_date.isoformat()}" in notes

    [second] = run_robot(sb.env(), tmp_path / "2", [pat_task()])
    assert second.status == "connected", second.error
    assert [s.name for s in second.steps] == ["check_existing", "verify"]
    assert second.oauth_token_id == result.oauth_token_id and second.expires == result.expires
    [again] = live_tokens(sb)
    assert again.id == pat.id and again.regenerated == 0  # the token was left alone
    assert [c.id for c in sb.world.tfc.clients_for(ORG)] == [client.id]


def test_a_token_left_by_a_crash_stays_and_a_new_one_is_made_beside_it(wizard_sandbox, tmp_path):
    """A run died after creating the token (its value is lost): nothing proves it unused, so it is left working
    and a token of the next free name is made beside it; nothing is regenerated or revoked."""
    sb = wizard_sandbox
    azure = sb.world.azure
    old, old_value = azure.create_pat(TOKEN, ADO_ORG, CODE, days=TOKEN_DAYS)
    [result] = run_robot(sb.env(), tmp_path, [pat_task()], doc_images=False)
    assert result.status == "connected", result.error
    [new] = live_tokens(sb, f"{TOKEN} (2)")
    [client] = sb.world.tfc.clients_for(ORG)
    assert azure.find_pat(client.token.access_token) is new and result.expires == new.expires_date.isoformat()
    assert azure.check_pat(old_value, ADO_ORG) and old.regenerated == 0 and not sb.world.destroyed
    assert "left alone" in " ".join(n for s in result.steps for n in s.notes)


@pytest.mark.parametrize("organization, verb", [(ADO_ORG, "regenerate"), ("contoso-labs", "revoke")])
def test_with_replace_tokens_an_unused_token_is_replaced(wizard_sandbox, tmp_path, organization, verb):
    """--replace-tokens, and the API shows no provider with a token for that organization: a token of that name
    is regenerated (for this organization, lasting) or revoked and made again (for another one); journaled."""
    from robot.journal import Journal
    sb = wizard_sandbox
    azure = sb.world.azure
    old, _value = azure.create_pat(TOKEN, organization, CODE, days=TOKEN_DAYS)
    journal = Journal(tmp_path / "journal.sqlite")
    journal.start_run("provision")
    [result] = run_robot(sb.env(), tmp_path, [pat_task()], doc_images=False, journal=journal,
                         allow=frozenset({"--replace-tokens"}))
    pat, _client = check_connected(sb, result)
    assert (pat.id == old.id and pat.regenerated == 1) if verb == "regenerate" else azure.pat(old.id).revoked
    assert sb.world.destroyed == {"pat": 1}
    [act] = [e["detail"] for e in journal.steps(ORG) if (e["detail"] or "").startswith("act ")]
    assert act.startswith(f"act {verb} pat {TOKEN}: ") and "--replace-tokens given; the API lists no provider" in act


def test_replace_tokens_leaves_a_token_a_provider_may_use(wizard_sandbox, tmp_path):
    """Another organization's provider holds a token for the same Azure DevOps organization: the old token
    may be that one, so it is not touched even with --replace-tokens; the org ends with one final line."""
    sb = wizard_sandbox
    azure = sb.world.azure
    old, old_value = azure.create_pat(TOKEN, ADO_ORG, CODE, days=TOKEN_DAYS)
    sb.world.tfc_workspaces.add_provider("example-org-2", "pat", "Azure DevOps Services", ado_org=ADO_ORG)
    [result] = run_robot(sb.env(), tmp_path, [pat_task()], doc_images=False, allow=frozenset({"--replace-tokens"}))
    assert result.status == "failed" and result.error_kind == "final"
    assert "nothing proves that no connection uses it" in result.error and "\n" not in result.error
    assert azure.check_pat(old_value, ADO_ORG) and not sb.world.destroyed and not sb.world.tfc.clients_for(ORG)


def test_seed_ui_with_a_tfc_token_creates_the_provider_through_the_api(seed_sandbox, tmp_path):
    sb = seed_sandbox
    [result] = run_robot(sb.env(), tmp_path / "1", [pat_task()])
    assert [s.name for s in result.steps] == PAT_STEPS
    _pat, client = check_connected(sb, result)
    assert client.http_url == client.api_url == "https://dev.azure.com"
    assert "pat-connected" in [s["step"] for s in result.screenshots]

    [second] = run_robot(sb.env(), tmp_path / "2", [pat_task()])
    assert second.status == "connected", second.error
    assert [s.name for s in second.steps] == ["check_existing", "verify"]
    assert len(live_tokens(sb)) == 1 and len(sb.world.tfc.clients_for(ORG)) == 1


def test_seed_ui_without_a_tfc_token_stops_with_one_clear_line(seed_sandbox, tmp_path):
    sb = seed_sandbox
    env = {k: v for k, v in sb.env().items() if k != "TFC_TOKEN"}
    [result] = run_robot(env, tmp_path, [pat_task()], doc_images=False)
    assert result.status == "failed" and result.error_kind == "final"
    assert result.error == SEED_NO_PAT_FORM and "\n" not in result.error
    assert "TFC_TOKEN" in result.error and "oauth-app" in result.error
    assert not sb.world.azure.pats_named(TOKEN)  # no token was made that nothing could use
    assert not sb.world.tfc.clients_for(ORG)


def _orgs_file(tmp_path, names):
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"defaults": {"route": "pat", "azure_devops_organization": ADO_ORG},
                                    "organizations": [{"name": n} for n in names]}))
    return path


def test_provision_a_pat_org_from_yaml_on_the_wizard_sandbox(tmp_path):
    out = tmp_path / "out"
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [
        {"name": ORG, "route": "pat", "azure_devops_organization": ADO_ORG},
        {"name": "example-org-2"}]}))  # the oauth-app route still works next to it
    proc = run_cli(["provision", str(path), "--sandbox", "--tfc-ui", "wizard", "--out", str(out)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((out / "result.json").read_text())
    orgs = {o["org"]: o for o in doc["organizations"]}
    assert orgs[ORG]["status"] == orgs["example-org-2"]["status"] == "connected"
    assert [s["name"] for s in orgs[ORG]["steps"]] == PAT_STEPS
    assert "create_application" in [s["name"] for s in orgs["example-org-2"]["steps"]]
    expires = dt.date.fromisoformat(orgs[ORG]["expires"])
    assert 80 <= (expires - dt.date.today()).days <= TOKEN_DAYS + 1
    assert dt.date.fromisoformat(orgs["example-org-2"]["expires"]) > dt.date.today()  # its app's client secret
    report = (out / "report.html").read_text()
    assert "<th>Expires</th>" in report and orgs[ORG]["expires"] in report


def test_no_pat_value_in_any_artifact(wizard_sandbox, tmp_path):
    """The token's value (and every other secret) appears in no file and no output, traces included."""
    sb = wizard_sandbox
    out = tmp_path / "out"
    path = _orgs_file(tmp_path, [ORG])
    proc = run_cli(["provision", str(path), "--out", str(out), "--trace", "-v", "--workers", "1"],
                   env=sb.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [client] = sb.world.tfc.clients_for(ORG)
    value = client.token.access_token
    assert sb.world.azure.check_pat(value, ADO_ORG)
    env = sb.env()
    secrets = [value] + [env[k] for k in ("TFC_PASSWORD", "TFC_TOTP_SECRET", "TFC_TOKEN", "AZURE_PASSWORD",
                                          "AZURE_TOTP_SECRET")]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".zip" for p in files), "the trace was not written"
    assert any(p.suffix == ".jpg" for p in files), "no step screenshots"
    for file in files:
        data = _all_text(file)
        for secret in secrets:
            assert secret.encode() not in data, f"a secret leaked into {file.relative_to(tmp_path)}"
    for secret in secrets:
        assert secret not in proc.stdout and secret not in proc.stderr
