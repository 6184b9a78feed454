"""Ctrl-C in the other commands (issue 28: rotate, migrate, screenshots, sign-in, check): the signal goes to the
whole process group, as a terminal sends it, while the browser works; each command stops with one line, exit 130
and no traceback. provision's own cases (and SIGTERM) are in test_provision.py."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_cli
from tests.test_migrate import OLD, world_with_old_provider
from tests.test_migrate import orgs_file as migrate_orgs_file
from tests.test_provision import STOPPED_LINE, orgs_file
from tests.test_rotate import provision

NOISE = ("Traceback", "Task exception", "never retrieved", "Error")


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent's pid
            kids.append(int(stat.parent.name))
    return kids


def _page_loading(pid: int) -> bool:
    """Whether a Chromium renderer (a page) runs among the process's descendants (the driver's session included)."""
    todo, seen = [pid], set()
    while todo:
        p = todo.pop()
        seen.add(p)
        try:
            if b"--type=renderer" in Path(f"/proc/{p}/cmdline").read_bytes():
                return True
        except OSError:
            pass
        todo += [k for k in _children(p) if k not in seen]
    return False


def _start(args: list[str], sandbox, tmp_path: Path, cwd: Path | None = None) -> subprocess.Popen:
    """`vcs-robot ARGS` in its own process group, against `sandbox` (None: the command brings its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TFC_", "AZURE_"))}
    env.update(sandbox.env() if sandbox else {}, XDG_CACHE_HOME=str(tmp_path / ".cache"))
    return subprocess.Popen([sys.executable, "-m", "robot", *args], cwd=cwd or tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _ctrl_c(child: subprocess.Popen, ready) -> str:
    """Sends SIGINT to the child's process group once `ready()` holds; returns its stderr after it exits 130."""
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None and not ready():
        time.sleep(0.05)
    assert child.poll() is None, child.communicate()
    os.killpg(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    for noise in NOISE:
        assert noise not in err, err
    return err


@pytest.mark.parametrize("command", ["screenshots", "sign-in"])
def test_ctrl_c_while_the_browser_works_stops_with_one_line(command, sandbox, tmp_path):
    path, out = orgs_file(tmp_path, ["example-org-1"]), tmp_path / "out"
    args = {"screenshots": ["screenshots", "--sandbox", "--out", str(out)],
            "sign-in": ["sign-in", str(path), "--export", str(tmp_path / "sessions.json"), "--out", str(out)]}
    child = _start(args[command], sandbox, tmp_path)
    err = _ctrl_c(child, lambda: _page_loading(child.pid))
    [line] = err.strip().splitlines()
    assert line == f"vcs-robot: {command} interrupted before it finished: run it again"
    assert not (tmp_path / "sessions.json").exists()  # no half-written sessions file
    assert not (out / "azure-devops-services.md").exists()  # nor a docs page of a run that did not finish


def _steps_recorded_as_interrupted(journal: Path, line: str) -> int:
    """The stop line's step count, checked against the journal: none failed, each in-flight step interrupted."""
    steps, orgs = map(int, STOPPED_LINE.match(line).groups())
    events = sqlite3.connect(journal).execute("SELECT step, status, error FROM events").fetchall()
    assert not [e for e in events if e[1] == "failed"], events
    assert steps == sum(1 for step, status, error in events if status == "interrupted" and step != "org" and not error)
    assert orgs >= 1
    return steps


def test_ctrl_c_during_a_rotation_records_interrupted_steps_and_resume_finishes(sandbox, tmp_path):
    names = ["example-org-1", "example-org-2"]
    provision(sandbox, tmp_path, names)
    path, out = orgs_file(tmp_path, names), tmp_path / "rotate"
    journal = out / "journal.sqlite"

    def both_rotating() -> bool:
        try:
            with sqlite3.connect(journal) as db:
                return db.execute("SELECT count(DISTINCT org) FROM events WHERE step NOT IN ('org', 'sign_in')"
                                  ).fetchone()[0] >= 2
        except sqlite3.Error:
            return False

    err = _ctrl_c(_start(["rotate", str(path), "--no-screenshots", "--workers", "2", "--out", str(out)], sandbox,
                         tmp_path), both_rotating)
    [line] = err.strip().splitlines()
    assert _steps_recorded_as_interrupted(journal, line) >= 1

    proc = run_cli(["rotate", str(path), "--resume", "--no-screenshots", "--out", str(out)], env=sandbox.env(),
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((out / "result.json").read_text())
    assert [o["status"] for o in doc["organizations"]] == ["connected"] * 2
    for name in names:  # one rotation each: the secret it made is the only one left
        [app] = sandbox.world.azure.apps_named(f"Terraform Cloud ({name})")
        assert len(app.client_secrets) == 1, name


def test_ctrl_c_during_a_migration_records_interrupted_steps_and_resume_moves_each_item_once(tmp_path):
    with Sandbox(SandboxOptions(tfc_ui="wizard", render_delay_ms=(10, 40))) as sb:
        _, items = world_with_old_provider(sb, workspaces=12, unmovable=0)
        state = sb.world.tfc_workspaces
        path, out = migrate_orgs_file(tmp_path), tmp_path / "out"
        def moved() -> int:
            return len([c for c in state.history if c.via == "api"])

        err = _ctrl_c(_start(["migrate", str(path), "--to", "pat", "--no-screenshots", "--out", str(out)], sb,
                             tmp_path), lambda: moved() >= 3)
        [line] = err.strip().splitlines()
        assert _steps_recorded_as_interrupted(out / "journal.sqlite", line) >= 1
        assert moved() < len(items), "the stop should land mid-move"

        proc = run_cli(["migrate", str(path), "--to", "pat", "--resume", "--no-screenshots", "--out", str(out)],
                       env=sb.env(), cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        [new] = [c for c in sb.world.tfc.clients_for("example-org-1") if c.name == f"{OLD} (PAT)"]
        assert all(i.token_changes == 1 and not i.ever_disconnected and i.vcs_repo.oauth_token_id == new.token.id
                   for i in items)


def test_ctrl_c_during_the_check_stops_with_one_line_and_writes_the_junit_file(tmp_path):
    out = tmp_path / "check"
    child = _start(["check", "--sandbox", "--output", str(out)], None, tmp_path, cwd=Path(__file__).parents[1])
    err = _ctrl_c(child, lambda: _page_loading(child.pid))
    [line] = err.strip().splitlines()
    assert line == "interrupted: the check stopped before its end (see the JUnit file); run it again"
    assert (out / "junit.xml").exists()
