"""`rotate` on the personal access token route: a new organization-scoped token made beside the old one, put into
the provider (its edit page; the API on the seed UI), proven, then the old one revoked, only when it is proven to
be the one the provider used. A kill in each window resumes without a second new token, and at no instant does
the provider hold a token Azure DevOps refuses: a watcher reads it every 10 ms through every run.

Tokens are tried over real HTTP as Azure DevOps answers them (`/<org>/_apis/connectionData`, Basic auth)."""
from __future__ import annotations

import base64
import json
import sqlite3
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sandbox.server import Sandbox
from sandbox.world import SandboxOptions, World
from tests.conftest import run_cli
from tests.test_kill_resume import kill_in_window
from tests.test_rotate import assert_no_secret_in

ORG = "example-org-1"
OTHER_ORG = "example-org-2"
ADO_ORG = "contoso-sandbox"
TOKEN = f"Terraform Cloud ({ORG})"  # the token's name: the robot's app name for the org
CODE = ["vso.code", "vso.code_status"]
PROVIDER = "Azure DevOps Services"


def family(world: World) -> list:
    """Every token ever made of ORG's family ("<name>", "<name> (2)", ...), live or not, oldest first."""
    return sorted((p for p in world.azure.pats.values() if p.name == TOKEN or p.name.startswith(TOKEN + " (")),
                  key=lambda p: p.created_at)


def live(world: World) -> list:
    return [p for p in family(world) if p.status(world.azure.clock()) == "Active"]


def held_value(world: World, org: str = ORG) -> str:
    [client] = world.tfc.clients_for(org)
    return client.token.access_token if client.token else ""


def seed(world: World, org: str = ORG, name: str = TOKEN) -> str:
    """A PAT org as provisioning leaves it: its token, and its provider holding it. Returns the token's value."""
    _pat, value = world.azure.create_pat(name, ADO_ORG, CODE, days=90)
    client = world.tfc_workspaces.add_provider(org, "pat", name=PROVIDER, ado_org=ADO_ORG)
    world.tfc.set_token(client, ADO_ORG, value, expires_in=0)
    return value


def works(sb: Sandbox, value: str) -> bool:
    """What Azure DevOps answers the token over HTTP: True for 200, False for 401."""
    auth = base64.b64encode(f":{value}".encode()).decode()
    request = urllib.request.Request(f"{sb.world.urls['aex']}/{ADO_ORG}/_apis/connectionData",
                                     headers={"Authorization": "Basic " + auth})
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status == 200
    except urllib.error.HTTPError as refused:
        assert refused.code == 401, refused.code
        return False


class Watcher(threading.Thread):
    """Reads the provider's token every 10 ms; records each instant Azure DevOps would refuse it."""

    def __init__(self, world: World):
        super().__init__(daemon=True)
        self.world, self.stop, self.refused, self.reads = world, threading.Event(), [], 0

    def run(self) -> None:
        while not self.stop.wait(0.01):
            with self.world.lock:
                if not self.world.azure.check_pat(held_value(self.world), ADO_ORG):
                    self.refused.append(self.world.azure.clock())
                self.reads += 1

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.join()
        assert self.reads > 10 and not self.refused, f"the provider held a refused token {len(self.refused)} times"


def orgs_file(tmp_path: Path) -> Path:
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [
        {"name": ORG, "route": "pat", "azure_devops_organization": ADO_ORG}]}))
    return path


def rotate(sb: Sandbox, tmp_path: Path, *more: str):
    out = tmp_path / "out"
    with Watcher(sb.world):
        proc = run_cli(["rotate", str(orgs_file(tmp_path)), "--out", str(out), *more], env=sb.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [result] = json.loads((out / "result.json").read_text())["organizations"]
    return result


def assert_rotated(sb: Sandbox, old_value: str, result: dict):
    """One live token of the family, the provider holding it, working; the old one refused."""
    [new] = live(sb.world)
    assert sb.world.azure.find_pat(held_value(sb.world)) is new
    assert works(sb, held_value(sb.world)) and not works(sb, old_value)
    assert new.organization == ADO_ORG and sorted(new.scopes) == CODE and not new.is_global
    assert result["status"] == "connected" and result["expires"] == new.expires_date.isoformat()
    return new


@pytest.mark.parametrize("ui", ["wizard", "seed"])
def test_pat_rotation_end_to_end(ui, tmp_path):
    """The wizard UI takes the new token on the provider's edit page, the seed UI through the API."""
    with Sandbox(SandboxOptions(render_delay_ms=(20, 80), tfc_ui=ui)) as sb:
        old_value = seed(sb.world)
        [old] = live(sb.world)
        result = rotate(sb, tmp_path)
        new = assert_rotated(sb, old_value, result)
        assert new.name == f"{TOKEN} (2)" and old.revoked and dict(sb.world.destroyed) == {"pat": 1}
        assert [s["name"] for s in result["steps"]] == ["check_provider", "generate_secret", "update_provider",
                                                        "verify", "retire_old_secret"]
        assert result["verified"] and not result.get("warnings")
        assert_no_secret_in(tmp_path, [old_value, held_value(sb.world)])


@dataclass(frozen=True)
class PatState:
    made: int  # tokens of the family made so far
    live: int  # of them, live
    holds_first: bool  # the provider holds the token it had before the rotation
    holds_working: bool  # ... and Azure DevOps takes the one it holds
    journaled_update: str  # the latest update_provider event in the journal: "", "started", "done"


def look_at(journal: Path, first: str):
    def look(world: World) -> PatState:
        with world.lock:
            value = held_value(world)
            state = (len(family(world)), len(live(world)), value == first,
                     bool(world.azure.check_pat(value, ADO_ORG)))
        return PatState(*state, journaled_update=_latest_update(journal))
    return look


def _latest_update(journal: Path) -> str:
    try:
        with sqlite3.connect(journal) as conn:
            row = conn.execute("SELECT status FROM events WHERE step='update_provider' ORDER BY id DESC").fetchone()
    except sqlite3.Error:
        return ""
    return row[0] if row else ""


# The windows of a PAT rotation, each open from its first instant; the first two told from the sites' state,
# the third from the journal (the step has ended: what a kill between two steps leaves).
WINDOWS = {
    "new token made, the provider holding the old": lambda s: s.made == 2 and s.holds_first,
    "the provider saving the new token": lambda s: s.made == 2 and not s.holds_first and s.journaled_update != "done",
    "the provider holding the new token, the old one live": lambda s: s.live == 2 and s.journaled_update == "done",
}


@pytest.mark.parametrize("window", WINDOWS)
def test_pat_rotation_killed_and_resumed(window, tmp_path):
    with Sandbox(SandboxOptions(render_delay_ms=(20, 80), tfc_ui="wizard")) as sb:
        first = seed(sb.world)
        out = tmp_path / "out"
        args = ["rotate", str(orgs_file(tmp_path)), "--no-screenshots", "--out", str(out)]
        with Watcher(sb.world):
            state, at = kill_in_window(sb, WINDOWS[window], args, tmp_path, 0, look=look_at(out / "journal.sqlite",
                                                                                              first))
        assert WINDOWS[window](state) and state.holds_working, f"the kill at {at:.2f}s missed the window: {state}"
        at_kill = {p.id: p.regenerated for p in family(sb.world)}

        result = rotate(sb, tmp_path, "--resume", "--no-screenshots")
        new = assert_rotated(sb, first, result)
        made, regenerated = len(family(sb.world)), new.regenerated - at_kill.get(new.id, 0)
        if state.journaled_update == "started":  # the provider may have held either: one more, both retired
            assert (made, regenerated, sb.world.destroyed["pat"]) == (3, 0, 2), state
        elif state.journaled_update == "done":  # it holds the new one: the old one retired, nothing made
            assert (made, regenerated, sb.world.destroyed["pat"]) == (2, 0, 1), state
        else:  # the token the killed run made, its value lost: regenerated, not a second one
            assert (made, regenerated, sb.world.destroyed["pat"]) == (2, 1, 2), state
        assert not result.get("warnings")

def test_an_old_token_not_proven_to_be_the_providers_is_kept(tmp_path):
    """Another organization's provider holds a token for the same Azure DevOps organization: nothing proves the
    old token is not the one it uses, so it stays, with a warning; the rotation itself is done."""
    with Sandbox(SandboxOptions(render_delay_ms=(20, 80), tfc_ui="wizard")) as sb:
        old_value = seed(sb.world)
        other_value = seed(sb.world, OTHER_ORG, "a team's own token")
        result = rotate(sb, tmp_path)
        assert works(sb, held_value(sb.world)) and held_value(sb.world) != old_value
        assert works(sb, old_value) and works(sb, other_value) and not sb.world.destroyed
        assert len(live(sb.world)) == 2 and result["status"] == "connected"
        assert any(f"'{TOKEN}'" in w and "nothing proves" in w for w in result["warnings"]), result["warnings"]


def test_two_old_tokens_of_the_family_are_both_kept(tmp_path):
    """Two live tokens of the family for the organization: which one the provider used is unknown; both stay."""
    with Sandbox(SandboxOptions(render_delay_ms=(20, 80), tfc_ui="wizard")) as sb:
        seed(sb.world)
        sb.world.azure.create_pat(f"{TOKEN} (2)", ADO_ORG, CODE, days=90)
        result = rotate(sb, tmp_path)
        assert [p.name for p in live(sb.world)] == [TOKEN, f"{TOKEN} (2)", f"{TOKEN} (3)"]
        assert sb.world.azure.find_pat(held_value(sb.world)).name == f"{TOKEN} (3)" and not sb.world.destroyed
        assert any("nothing proves which one" in w for w in result["warnings"]), result["warnings"]
