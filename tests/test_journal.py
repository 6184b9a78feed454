"""robot.journal: the SQLite step journal."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from robot.journal import ORG_STEP, Journal, merge
from robot.secrets import Secret

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "out" / "journal.sqlite")
    yield j
    j.close()


def test_wal_mode_and_file_created(journal):
    assert journal.path.exists()
    mode = sqlite3.connect(journal.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_record_and_read_back(journal):
    run_id = journal.start_run("provision", {"workers": 4, "orgs": ["a", "b"]})
    assert isinstance(run_id, int)
    journal.record("a", "create_application", "started")
    journal.record("a", "create_application", "done", app_id="APP-1", seconds=2.5)
    journal.record("b", "create_application", "started")
    journal.record("a", "add_vcs_provider", "done", client_id="oc-1", callback_url="https://t/auth/x/callback")
    journal.record("b", "create_application", "failed", error="registration closed", error_kind="final",
                   detail={"page": "register"})
    assert journal.orgs() == ["a", "b"]
    steps = journal.steps("a")
    assert [(s["step"], s["status"]) for s in steps] == [
        ("create_application", "started"), ("create_application", "done"), ("add_vcs_provider", "done")]
    assert steps[1]["app_id"] == "APP-1" and steps[1]["seconds"] == 2.5
    assert steps[0]["run_uid"] == journal.run_uid
    b = journal.steps("b")[-1]
    assert b["error_kind"] == "final" and b["detail"] == '{"page": "register"}'
    run = journal.runs()[0]
    assert run["command"] == "provision" and run["args"] == {"orgs": ["a", "b"], "workers": 4}


def test_org_state(journal):
    journal.start_run("provision", {})
    journal.record("a", "create_application", "done", app_id="APP-1")
    journal.record("a", "add_vcs_provider", "done", client_id="oc-1", callback_url="https://t/cb")
    journal.record("a", "update_callback_url", "started")
    journal.record("a", "update_callback_url", "failed", error="timeout", error_kind="transient")
    journal.record("a", "update_callback_url", "started")
    journal.record("a", "update_callback_url", "done")
    journal.record("a", "connect_organization", "done", token_id="ot-1")
    journal.record("a", ORG_STEP, "done")
    state = journal.org_state("a")
    assert (state.app_id, state.client_id, state.callback_url, state.token_id) == (
        "APP-1", "oc-1", "https://t/cb", "ot-1")
    assert state.done == [
        "create_application", "add_vcs_provider", "update_callback_url", "connect_organization", ORG_STEP]
    assert state.is_done("update_callback_url") and state.finished and state.status == "done"
    assert state.error == "timeout" and state.error_kind == "transient"  # the latest failure, kept for reports
    assert state.open_steps == []
    empty = journal.org_state("nobody")
    assert empty.app_id is None and empty.done == [] and not empty.finished


def test_latest_values_win(journal):
    journal.record("a", "create_application", "done", app_id="OLD")
    journal.record("a", "create_application", "done", app_id="NEW")
    journal.record("a", "note", "skipped")  # a later event without values keeps them
    assert journal.org_state("a").app_id == "NEW"


def test_resume_state_after_reopening(tmp_path):
    path = tmp_path / "journal.sqlite"
    with Journal(path) as j:
        j.start_run("provision", {"resume": False})
        j.record("a", "create_application", "done", app_id="APP-1")
        j.record("a", "add_vcs_provider", "started")
    with Journal(path) as j:
        state = j.org_state("a")
        assert state.app_id == "APP-1" and state.done == ["create_application"]
        assert state.open_steps == ["add_vcs_provider"]
        j.start_run("provision", {"resume": True})
        j.record("a", "add_vcs_provider", "done", client_id="oc-9")
        assert len(j.runs()) == 2
    with Journal(path) as j:
        assert j.org_state("a").done == ["create_application", "add_vcs_provider"]
        assert j.org_state("a").client_id == "oc-9"


def test_mark_interrupted(journal):
    journal.record("a", "create_application", "done")
    journal.record("a", "add_vcs_provider", "started")
    journal.record("b", "create_application", "started")
    journal.record("c", "create_application", "started")
    journal.record("c", "create_application", "failed", error="x", error_kind="final")
    marked = journal.mark_interrupted()
    assert sorted(marked) == [("a", "add_vcs_provider"), ("b", "create_application")]
    assert journal.org_state("a").step_status["add_vcs_provider"] == "interrupted"
    assert journal.org_state("b").open_steps == []
    assert journal.org_state("c").step_status["create_application"] == "failed"
    assert journal.mark_interrupted() == []  # idempotent


@pytest.mark.parametrize("field", ["org", "step", "app_id", "callback_url", "client_id", "token_id", "error", "detail"])
def test_refuses_secrets_in_every_string(journal, field):
    value = f"client-secret-{uuid.uuid4().hex}"
    Secret(value)
    values = {"app_id": "APP"}
    org, step = "a", "create_application"
    text = f"prefix {value} suffix"
    if field == "org":
        org = text
    elif field == "step":
        step = text
    else:
        values[field] = text
    with pytest.raises(ValueError) as info:
        journal.record(org, step, "done", **values)
    assert value not in str(info.value)
    assert journal.steps("a") == [] and journal.orgs() == []


def test_refuses_encoded_secrets_and_nested_detail(journal):
    value = f"p@ss word/{uuid.uuid4().hex[:8]}"
    Secret(value)
    with pytest.raises(ValueError):
        journal.record("a", "s", "done", callback_url=f"https://x/?q={quote_plus(value)}")
    with pytest.raises(ValueError):
        journal.record("a", "s", "done", detail={"nested": [f"..{value}.."]})
    with pytest.raises(ValueError):
        journal.start_run("provision", {"password": value})
    assert journal.orgs() == [] and journal.runs() == []


def test_refuses_bad_status_values_and_kinds(journal):
    with pytest.raises(ValueError):
        journal.record("a", "s", "finished")
    with pytest.raises(ValueError):
        journal.record("a", "s", "done", password="x")
    with pytest.raises(ValueError):
        journal.record("a", "s", "failed", error_kind="maybe")
    with pytest.raises(ValueError):
        journal.record("", "s", "done")


def test_thread_safe(journal):
    journal.start_run("provision", {})
    errors = []

    def worker(n):
        try:
            for i in range(40):
                journal.record(f"org-{n}", f"step-{i}", "started")
                journal.record(f"org-{n}", f"step-{i}", "done", seconds=i)
                journal.org_state(f"org-{n}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(journal.orgs()) == sorted(f"org-{n}" for n in range(8))
    for n in range(8):
        steps = journal.steps(f"org-{n}")
        assert len(steps) == 80
        assert [s["step"] for s in steps[::2]] == [f"step-{i}" for i in range(40)]


def test_usable_from_async(journal):
    import asyncio

    async def org(name):
        for step in ("create_application", "add_vcs_provider"):
            journal.record(name, step, "started")
            await asyncio.sleep(0)
            journal.record(name, step, "done")

    async def main():
        await asyncio.gather(*(org(f"o{i}") for i in range(5)))

    asyncio.run(main())
    assert all(journal.org_state(f"o{i}").done == ["create_application", "add_vcs_provider"] for i in range(5))


def test_merge_shards(tmp_path):
    clock = iter(range(1000, 2000)).__next__
    a = Journal(tmp_path / "shard-1" / "journal.sqlite", clock=lambda: clock())
    b = Journal(tmp_path / "shard-2" / "journal.sqlite", clock=lambda: clock())
    a.start_run("provision", {"shard": "1/2"})
    b.start_run("provision", {"shard": "2/2"})
    a.record("org-a", "create_application", "done", app_id="A")
    b.record("org-b", "create_application", "done", app_id="B")
    a.record("org-a", ORG_STEP, "done")
    b.record("org-b", "add_vcs_provider", "failed", error="no", error_kind="final")
    a.close()
    b.close()
    into = tmp_path / "merged" / "journal.sqlite"
    merged = merge([a.path, b.path], into)
    assert merged.orgs() == ["org-a", "org-b"]
    assert merged.org_state("org-a").finished and merged.org_state("org-a").app_id == "A"
    assert merged.org_state("org-b").error == "no"
    assert len(merged.runs()) == 2 and {r["source"] for r in merged.runs()} == {str(a.path), str(b.path)}
    assert [e["org"] for e in merged.events()] == ["org-a", "org-b", "org-a", "org-b"]  # by time
    merged.close()
    # idempotent: merging again (and merging the target into itself) adds nothing
    again = merge([a.path, b.path, into], into)
    assert len(again.events()) == 4 and len(again.runs()) == 2
    again.close()


def test_merge_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        merge([tmp_path / "nope.sqlite"], tmp_path / "into.sqlite")


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from robot.journal import Journal
    j = Journal(sys.argv[1])
    j.start_run("provision", {"workers": 1})
    i = 0
    while True:
        org = f"org-{i % 7}"
        j.record(org, f"step-{i}", "started")
        j.record(org, f"step-{i}", "done", app_id=f"app-{i}", detail="x" * (i % 50), seconds=0.001)
        i += 1
""")


@pytest.mark.parametrize("at_least", [1, 150, 400])
def test_survives_sigkill(tmp_path, at_least):
    path = tmp_path / "journal.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(ROOT)])
    try:
        deadline = time.monotonic() + 60
        count = 0
        while count < at_least:
            assert proc.poll() is None, "the writer died on its own"
            assert time.monotonic() < deadline, "the writer wrote too slowly"
            if path.exists():
                try:
                    with sqlite3.connect(path, timeout=5) as conn:
                        count = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
                except sqlite3.OperationalError:
                    count = 0  # the tables are not there yet
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with Journal(path) as j:
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        events = j.events()
        assert len(events) >= at_least
        # every event recorded before the kill is whole, in order, with its values
        steps = [e for e in events if e["status"] == "done"]
        for n, event in enumerate(steps):
            assert event["step"] == f"step-{n}" and event["app_id"] == f"app-{n}"
            assert event["detail"] == "x" * (n % 50) and event["org"] == f"org-{n % 7}"
        # at most the last step was left open; mark_interrupted closes it
        marked = j.mark_interrupted()
        assert len(marked) <= 1
        assert all(not j.org_state(org).open_steps for org in j.orgs())
        # and the journal takes new records at once
        j.start_run("provision", {"resume": True})
        j.record("org-0", "after-kill", "done")
        assert j.org_state("org-0").is_done("after-kill")
