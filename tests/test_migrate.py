"""`vcs-robot migrate`: workspaces, registry modules and policy sets moved off the dying routes, each read back,
nothing lost, resumable after a kill; what the sandbox's Terraform Cloud saw is counted on its side."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_cli

ORG = "example-org-1"
ADO_ORG = "contoso-sandbox"
OTHER_ADO_ORG = "contoso-labs"  # its repositories: not visible to a PAT scoped to ADO_ORG
OLD = "Azure DevOps Services"


def world_with_old_provider(sb: Sandbox, workspaces: int = 4, unmovable: int = 1):
    """A legacy OAuth-app provider of ORG with workspaces (some on another Azure DevOps organization), one
    registry module and one policy set on it."""
    state = sb.world.tfc_workspaces
    client = state.add_provider(ORG, "oauth-app", name=OLD)
    token = client.token.id
    items = state.seed(ORG, token, workspaces, ado_org=ADO_ORG)
    items += [state.add_workspace(ORG, f"other-{n}", token, identifier=f"{OTHER_ADO_ORG}/infra/_git/other-{n}",
                                  branch="release") for n in range(unmovable)]
    items.append(state.add_registry_module(ORG, "network", "azurerm", token,
                                           identifier=f"{ADO_ORG}/modules/_git/terraform-azurerm-network"))
    items.append(state.add_policy_set(ORG, "guardrails", token, identifier=f"{ADO_ORG}/policies/_git/guardrails"))
    return client, items


def orgs_file(tmp_path: Path) -> Path:
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [{"name": ORG, "azure_devops_organization": ADO_ORG}]}))
    return path


def snapshot(state, items):
    return {i.id: (json.dumps(state.vcs_json(i.vcs_repo) and {k: v for k, v in state.vcs_json(i.vcs_repo).items()
                                                               if k not in ("oauth-token-id", "webhook-url")},
                              sort_keys=True),
                   getattr(i, "working_directory", None), getattr(i, "trigger_prefixes", None),
                   getattr(i, "tag_names", None)) for i in items}


@pytest.fixture()
def sandbox():
    with Sandbox(SandboxOptions(tfc_ui="wizard", render_delay_ms=(10, 40))) as sb:
        yield sb


def test_dry_run_prints_the_plan_and_changes_nothing(sandbox, tmp_path):
    """Without a browser the API alone cannot prove a legacy OAuth app's route: named, it is planned."""
    _, items = world_with_old_provider(sandbox)
    proc = run_cli(["migrate", str(orgs_file(tmp_path)), "--to", "pat", "--dry-run", "--from-provider", OLD,
                    "--out", str(tmp_path / "o")], env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for item in items:
        assert item.name in proc.stdout
    assert f"{OLD} -> {OLD} (PAT)" in proc.stdout and "to be made" in proc.stdout
    assert not sandbox.world.tfc_workspaces.history
    assert len(sandbox.world.tfc.clients_for(ORG)) == 1


def test_moves_every_item_once_keeps_its_settings_and_reports_what_cannot_move(sandbox, tmp_path):
    client, items = world_with_old_provider(sandbox)
    state = sandbox.world.tfc_workspaces
    before = snapshot(state, items)
    out = tmp_path / "out"
    proc = run_cli(["migrate", str(orgs_file(tmp_path)), "--to", "pat", "--delete-old", "--no-screenshots",
                    "--out", str(out)], env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one workspace cannot move
    new = [c for c in sandbox.world.tfc.clients_for(ORG) if c.name == f"{OLD} (PAT)"]
    assert len(new) == 1 and new[0].token is not None
    for item in items:
        on_new = item.vcs_repo.oauth_token_id == new[0].token.id
        assert on_new != item.name.startswith("other-"), item.name
        assert item.token_changes == (1 if on_new else 0) and not item.ever_disconnected
    assert snapshot(state, items) == before  # branch, identifier, working directory, triggers, tags kept
    assert sandbox.world.tfc.client(client.id) is not None  # still used: not deleted
    doc = json.loads((out / "result.json").read_text())
    moves = {m["name"]: m for m in doc["organizations"][0]["moves"]}
    assert set(moves) == {i.name if not hasattr(i, "provider") else f"{i.name}/{i.provider}" for i in items}
    assert moves["other-0"]["status"] == "stays" and "isn't accessible" in moves["other-0"]["reason"]
    assert all(m["status"] == "moved" and m["after"] == f"{OLD} (PAT)" for n, m in moves.items() if n != "other-0")
    assert "could not move" in doc["organizations"][0]["error"]


def test_delete_old_removes_the_provider_once_nothing_uses_it(sandbox, tmp_path):
    client, items = world_with_old_provider(sandbox, workspaces=2, unmovable=0)
    proc = run_cli(["migrate", str(orgs_file(tmp_path)), "--to", "pat", "--delete-old", "--no-screenshots",
                    "--out", str(tmp_path / "out")], env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sandbox.world.tfc.client(client.id) is None
    assert all(i.vcs_repo is not None and not i.ever_disconnected for i in items)


def test_killed_in_the_middle_and_resumed_moves_each_item_exactly_once(sandbox, tmp_path):
    _, items = world_with_old_provider(sandbox, workspaces=12, unmovable=0)
    state = sandbox.world.tfc_workspaces
    path, out = orgs_file(tmp_path), tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TFC_", "AZURE_"))}
    env.update(sandbox.env(), XDG_CACHE_HOME=str(tmp_path / ".cache"))
    child = subprocess.Popen([sys.executable, "-m", "robot", "migrate", str(path), "--to", "pat", "--no-screenshots",
                              "--out", str(out)], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and child.poll() is None:  # kill once some items moved, before all did
        if len([c for c in state.history if c.via == "api"]) >= 3:
            break
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    moved_before = len([c for c in state.history if c.via == "api"])
    assert 0 < moved_before < len(items), "the kill should land in the middle of the moves"
    proc = run_cli(["migrate", str(path), "--to", "pat", "--resume", "--no-screenshots", "--out", str(out)],
                   env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    new = [c for c in sandbox.world.tfc.clients_for(ORG) if c.name == f"{OLD} (PAT)"]
    assert len(new) == 1  # no duplicate provider
    assert all(i.token_changes == 1 and not i.ever_disconnected and i.vcs_repo.oauth_token_id == new[0].token.id
               for i in items)


@pytest.mark.parametrize("via", ["portal", "graph"])
def test_moves_to_an_entra_app_made_for_the_organization(via, tmp_path):
    with Sandbox(SandboxOptions(tfc_ui="wizard", tfc_ado_form="both", render_delay_ms=(10, 40))) as sb:
        _, items = world_with_old_provider(sb, workspaces=2, unmovable=0)
        path = tmp_path / "orgs.yaml"
        path.write_text(yaml.safe_dump({"organizations": [
            {"name": ORG, "azure_devops_organization": ADO_ORG, "entra": {"via": via}}]}))
        proc = run_cli(["migrate", str(path), "--to", "entra-app", "--delete-old", "--no-screenshots",
                        "--out", str(tmp_path / "out")], env=sb.env(), cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        [new] = sb.world.tfc.clients_for(ORG)  # the old one deleted once nothing used it
        [app] = sb.world.entra.apps_named(f"HCP Terraform ({ORG})")
        assert new.name == f"{OLD} (Entra ID)" and new.key == app.app_id and new.token is not None
        assert all(i.vcs_repo.oauth_token_id == new.token.id and i.token_changes == 1 for i in items)


# ---- providers the robot did not make: left alone unless proven on a route being left, or named --------------------
def world_with_team_providers(sb: Sandbox):
    """Beside the legacy provider: a team's own Entra ID provider with a workspace, a spare one with none, and a
    personal access token's provider with a workspace. Returns them with their workspaces."""
    state = sb.world.tfc_workspaces
    legacy, items = world_with_old_provider(sb, workspaces=2, unmovable=0)
    team = state.add_provider(ORG, "entra", name="Team Entra")
    spare = state.add_provider(ORG, "entra", name="Spare Entra")
    spare_token = spare.token.id
    sb.world.tfc.delete_token(spare_token)  # a provider holding nothing
    sb.world.tfc.set_token(spare, sb.world.azure_account.username, "sandbox-spare", expires_in=3599)
    pat = state.add_provider(ORG, "pat", name="Team PAT", ado_org=ADO_ORG)
    team_ws = state.add_workspace(ORG, "team-ws", team.token.id, identifier=f"{ADO_ORG}/team/_git/infra")
    pat_ws = state.add_workspace(ORG, "pat-ws", pat.token.id, identifier=f"{ADO_ORG}/team/_git/pat")
    sb.world.destroyed.clear()
    return legacy, items, team, spare, pat, team_ws, pat_ws


def test_a_dry_run_lists_the_providers_it_cannot_prove_as_not_identified(sandbox, tmp_path):
    legacy, items, team, spare, pat, team_ws, pat_ws = world_with_team_providers(sandbox)
    proc = run_cli(["migrate", str(orgs_file(tmp_path)), "--to", "pat", "--dry-run", "--out", str(tmp_path / "o")],
                   env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for provider in (team, spare, legacy):
        assert f"not identified: {provider.name} ({provider.id}" in proc.stdout, proc.stdout
    assert "name it with --from-provider to move it" in proc.stdout
    assert "team-ws" not in proc.stdout and "pat-ws" not in proc.stdout
    assert not sandbox.world.tfc_workspaces.history and not sandbox.world.destroyed


def test_other_routes_providers_are_untouched_and_the_legacy_one_moves(sandbox, tmp_path):
    """The legacy provider is identified by its edit page (App ID) and left, then deleted once unused; the team's
    Entra ID providers (by their edit page) and the PAT provider (by the API) are neither sources nor deleted."""
    legacy, items, team, spare, pat, team_ws, pat_ws = world_with_team_providers(sandbox)
    proc = run_cli(["migrate", str(orgs_file(tmp_path)), "--to", "pat", "--delete-old", "--no-screenshots",
                    "--out", str(tmp_path / "out")], env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tfc = sandbox.world.tfc
    [new] = [c for c in tfc.clients_for(ORG) if c.name == f"{OLD} (PAT)"]
    assert all(i.vcs_repo.oauth_token_id == new.token.id for i in items)
    assert tfc.client(legacy.id) is None and sandbox.world.destroyed == {"tfc-provider": 1}
    assert all(tfc.client(p.id) is not None for p in (team, spare, pat))
    assert team_ws.vcs_repo.oauth_token_id == team.token.id and pat_ws.vcs_repo.oauth_token_id == pat.token.id
    assert team_ws.token_changes == 0 and pat_ws.token_changes == 0


def test_named_providers_move_and_are_deleted_once_unused(sandbox, tmp_path):
    legacy, items, team, spare, pat, team_ws, pat_ws = world_with_team_providers(sandbox)
    proc = run_cli(["migrate", str(orgs_file(tmp_path)), "--to", "pat", "--delete-old", "--no-screenshots",
                    "--from-provider", "Team Entra", spare.id, "Team PAT", "--out", str(tmp_path / "out")],
                   env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tfc = sandbox.world.tfc
    [new] = [c for c in tfc.clients_for(ORG) if c.name == f"{OLD} (PAT)"]
    assert all(i.vcs_repo.oauth_token_id == new.token.id for i in [*items, team_ws, pat_ws])
    assert all(tfc.client(p.id) is None for p in (legacy, team, spare, pat))
    assert sandbox.world.destroyed == {"tfc-provider": 4}
