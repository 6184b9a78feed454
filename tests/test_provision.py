"""Provisioning many organizations: bad input, workers, dry runs, Ctrl-C, final failures (kill and resume:
test_kill_resume.py; shards: test_sessions.py; a remote browser: test_no_browser.py)."""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from robot.commands import main as vcs_robot
from tests.conftest import ROOT, run_cli

GOOD = {"organizations": [{"name": "example-org-1"}, {"name": "example-org-2"}]}


def write_yaml(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def orgs_file(tmp_path: Path, names: list[str]) -> Path:
    return write_yaml(tmp_path / "orgs.yaml", {"organizations": [{"name": n} for n in names]})


ENV = {"TFC_USERNAME": "u", "TFC_PASSWORD": "p" * 8, "AZURE_USERNAME": "a@b.c", "AZURE_PASSWORD": "q" * 8}
BAD_FILES = {
    "malformed yaml": "organizations: [name: x\n",
    "not a mapping": "- just\n- a list\n",
    "no organizations key": {"defaults": {}},
    "empty org list": {"organizations": []},
    "unknown top key": {**GOOD, "orgz": []},
    "unknown org key": {"organizations": [{"name": "a", "nmae": "b"}]},
    "org without name": {"organizations": [{"app_name": "x"}]},
    "bad org name": {"organizations": [{"name": "has space"}]},
    "duplicate org": {"organizations": [{"name": "a"}, {"name": "A"}]},
    "duplicate app name": {"organizations": [{"name": "a", "app_name": "X"}, {"name": "b", "app_name": "X"}]},
    "org name wrong type": {"organizations": [{"name": ["a"]}]},
    "bad route": {"organizations": [{"name": "a", "route": "carrier-pigeon"}]},
    "literal secret": {"accounts": {"t": {"site": "tfc", "username": "x", "password": "hunter2hunter2"}},
                       "organizations": [{"name": "a", "tfc_account": "t"}]},
    "missing env var": {"accounts": {"t": {"site": "tfc", "username": "x", "password": {"env": "NOPE_NOT_SET"}}},
                        "organizations": [{"name": "a", "tfc_account": "t"}]},
    "unknown account": {"organizations": [{"name": "a", "tfc_account": "ghost"}]},
    "account on the wrong site": {"accounts": {"z": {"site": "azure", "username": "x",
                                                     "password": {"env": "TFC_PASSWORD"}}},
                                  "organizations": [{"name": "a", "tfc_account": "z"}]},
    "bad account url": {"accounts": {"t": {"site": "tfc", "url": "ftp://x", "username": "x",
                                           "password": {"env": "TFC_PASSWORD"}}},
                        "organizations": [{"name": "a", "tfc_account": "t"}]},
    "bad website url": {"defaults": {"application_website": "not a url"}, **GOOD},
    "pat route without ado org": {"organizations": [{"name": "a", "route": "pat"}]},
}
BAD_ARGS = {
    "bad shard": ["--shard", "3/2"],
    "shard not a fraction": ["--shard", "two"],
    "unknown --only": ["--only", "ghost-org"],
    "zero workers": ["--workers", "0"],
}
BAD_ENV = {
    "missing TFC password": {"TFC_PASSWORD": ""},
    "invalid TOTP secret": {"AZURE_TOTP_SECRET": "not base32 !!"},
    "bad TFC_URL": {"TFC_URL": "ftp://nowhere"},
    "bad AZURE_DEVOPS_URL": {"AZURE_DEVOPS_URL": "https://"},
}


def _no_browser(monkeypatch):
    async def refuse(*a, **k):
        raise AssertionError("a browser was started for bad input")
    monkeypatch.setattr("robot.browser.launch", refuse)


def _expect_bad(capsys, argv, secret_values=()):
    code = vcs_robot(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("vcs-robot: error:")
    for value in secret_values:
        assert value not in err
    return err


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_orgs_file_exits_2_with_one_line(case, tmp_path, monkeypatch, capsys):
    _no_browser(monkeypatch)
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    path = write_yaml(tmp_path / "orgs.yaml", BAD_FILES[case])
    err = _expect_bad(capsys, ["provision", str(path), "--out", str(tmp_path / "out")], ["hunter2hunter2"])
    assert "orgs.yaml" in err


@pytest.mark.parametrize("case", BAD_ARGS)
def test_bad_arguments_exit_2(case, tmp_path, monkeypatch, capsys):
    _no_browser(monkeypatch)
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    path = write_yaml(tmp_path / "orgs.yaml", GOOD)
    _expect_bad(capsys, ["provision", str(path), "--out", str(tmp_path / "out"), *BAD_ARGS[case]])


@pytest.mark.parametrize("case", BAD_ENV)
def test_bad_settings_exit_2(case, tmp_path, monkeypatch, capsys):
    _no_browser(monkeypatch)
    monkeypatch.chdir(tmp_path)
    for k, v in {**ENV, **BAD_ENV[case]}.items():
        monkeypatch.setenv(k, v)
    path = write_yaml(tmp_path / "orgs.yaml", GOOD)
    _expect_bad(capsys, ["provision", str(path), "--out", str(tmp_path / "out")])


def test_missing_and_unreadable_file(tmp_path, monkeypatch, capsys):
    _no_browser(monkeypatch)
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    _expect_bad(capsys, ["provision", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "out")])
    (tmp_path / "dir.yaml").mkdir()
    _expect_bad(capsys, ["provision", str(tmp_path / "dir.yaml"), "--out", str(tmp_path / "out")])


def test_example_file_provisions_with_workers_and_signs_in_once(sandbox, tmp_path):
    out = tmp_path / "out"
    proc = run_cli(["provision", str(ROOT / "examples" / "orgs.yaml"), "--workers", "3",
                    "--no-screenshots", "--out", str(out)], env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((out / "result.json").read_text())
    assert doc["summary"] == {"organizations": 5, "connected": 5, "failed": 0, "interrupted": 0}
    assert doc["sign_ins"] == 1
    assert sandbox.world.sign_ins["tfc"] == 1 and sandbox.world.sign_ins["microsoft"] == 1  # as the sites saw it
    assert "[5/5]" in proc.stdout  # plain progress lines when not a TTY
    junit = (out / "junit.xml").read_text()
    assert 'tests="5" failures="0"' in junit


def test_a_final_failure_leaves_the_others_connected(sandbox, tmp_path):
    path = orgs_file(tmp_path, ["no-such-org", "example-org-1", "example-org-2"])
    out = tmp_path / "out"
    proc = run_cli(["provision", str(path), "--workers", "2", "--no-screenshots", "--out", str(out)],
                   env=sandbox.env(), cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads((out / "result.json").read_text())
    status = {o["org"]: (o["status"], o["error_kind"]) for o in doc["organizations"]}
    assert status == {"example-org-1": ("connected", ""), "example-org-2": ("connected", ""),
                      "no-such-org": ("failed", "final")}
    assert 'failures="1"' in (out / "junit.xml").read_text()


def _count(db: Path, sql: str) -> int:
    """Rows counted by `sql`; 0 while the journal is still being created by the other process."""
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_dry_run_changes_nothing_and_tells_what_exists(sandbox, tmp_path):
    path = orgs_file(tmp_path, ["example-org-1", "example-org-2"])
    app = sandbox.world.azure.create_app("Terraform Cloud (example-org-2)", ["vso.code", "vso.code_status"],
                                         "https://example.com/cb")
    sandbox.world.tfc.add_client("example-org-2", "Azure DevOps Services", app.id, app.client_secrets[0].value)
    proc = run_cli(["provision", str(path), "--dry-run", "--out", str(tmp_path / "out")], env=sandbox.env(),
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "example-org-1: no provider yet" in proc.stdout
    assert "example-org-2: provider exists, not connected" in proc.stdout
    assert len(sandbox.world.tfc.clients_for("example-org-1")) == 0


STOPS = {  # what a terminal's Ctrl-C, a CI runner's cancel and an impatient second Ctrl-C send the process group
    "ctrl-c": ([signal.SIGINT], 130), "sigterm": ([signal.SIGTERM], 143), "ctrl-c twice": ([signal.SIGINT] * 2, 130)}
STOPPED_LINE = re.compile(r"^interrupted: (\d+) step\(s\) of (\d+) organization\(s\); rerun with --resume$")


@pytest.mark.parametrize("stop", STOPS)
def test_a_signal_stops_cleanly_records_interrupted_steps_and_resume_finishes(stop, sandbox, tmp_path):
    """The signals go to the whole process group, as a terminal sends them: the browser must not close under the
    flows first. The steps in flight are interrupted (never failed, no error of the browser closing), the report
    says which organizations were, one line and no traceback; --resume then connects every organization once."""
    signals, code = STOPS[stop]
    names = [f"example-org-{n}" for n in range(1, 6)]
    path, out = orgs_file(tmp_path, names), tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TFC_", "AZURE_"))}
    env.update(sandbox.env(), XDG_CACHE_HOME=str(tmp_path / ".cache"))
    child = subprocess.Popen([sys.executable, "-m", "robot", "provision", str(path), "--no-screenshots", "--workers",
                              "2", "--out", str(out)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    journal = out / "journal.sqlite"
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:  # both workers inside a step
        if _count(journal, "SELECT count(DISTINCT org) FROM events WHERE step NOT IN ('org', 'sign_in')") >= 2:
            break
        time.sleep(0.05)
    for signum in signals:
        os.killpg(child.pid, signum)
        time.sleep(0.05)
    _, err = child.communicate(timeout=60)
    assert child.returncode == code, err
    for noise in ("Traceback", "Task exception", "never retrieved", "Error"):
        assert noise not in err, err
    events = [dict(zip(("org", "step", "status", "error"), row)) for row in sqlite3.connect(journal).execute(
        "SELECT org, step, status, error FROM events")]
    assert not [e for e in events if e["status"] == "failed"], events
    if len(signals) == 1:
        [line] = err.strip().splitlines()
        steps, orgs = map(int, STOPPED_LINE.match(line).groups())
        interrupted = [e for e in events if e["status"] == "interrupted" and e["step"] != "org"]
        assert steps == len(interrupted) >= 1 and not any(e["error"] for e in interrupted), events
        doc = json.loads((out / "result.json").read_text())
        statuses = [o["status"] for o in doc["organizations"]]
        assert set(statuses) <= {"connected", "interrupted", "not started"} and statuses.count("interrupted") == orgs
        assert doc["summary"]["failed"] == 0 and doc["summary"]["interrupted"] >= orgs >= 1
        assert steps == sum(s["status"] == "interrupted" for o in doc["organizations"] for s in o["steps"])

    proc = run_cli(["provision", str(path), "--resume", "--no-screenshots", "--out", str(out)], env=sandbox.env(),
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [o["status"] for o in json.loads((out / "result.json").read_text())["organizations"]] == ["connected"] * 5
    for name in names:
        assert len(sandbox.world.azure.apps_named(f"Terraform Cloud ({name})")) == 1, name
        assert len(sandbox.world.tfc.clients_for(name)) == 1, name
