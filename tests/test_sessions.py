"""Shards that share one sign-in: `sign-in --export` once, `provision --sessions` on each shard at once,
sign-ins counted on the sandbox's side; and the sessions file's own checks."""
from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_cli

NAMES = tuple(f"example-org-{n}" for n in range(1, 9))


def test_four_shards_at_once_start_from_one_exported_sign_in(tmp_path):
    with Sandbox(SandboxOptions(orgs=NAMES, render_delay_ms=(10, 40))) as sb:
        orgs = tmp_path / "orgs.yaml"
        orgs.write_text(yaml.safe_dump({"organizations": [{"name": n} for n in NAMES]}))
        sessions = tmp_path / "secret" / "sessions.json"
        proc = run_cli(["sign-in", str(orgs), "--export", str(sessions), "--out", str(tmp_path / "sign-in")],
                       env=sb.env(), cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert stat.S_IMODE(sessions.stat().st_mode) == 0o600
        text = sessions.read_text()
        for secret in (sb.env()["TFC_PASSWORD"], sb.env()["AZURE_PASSWORD"], sb.env()["TFC_TOTP_SECRET"],
                       sb.env()["AZURE_TOTP_SECRET"]):
            assert secret not in text
        signed_in = dict(sb.world.sign_ins)
        assert signed_in["tfc"] == 1 and signed_in["microsoft"] == 1

        shards = []
        for k in range(1, 5):  # four machines: each its own cache folder, no shared TOTP ledger
            env = {key: v for key, v in os.environ.items() if not key.startswith(("TFC_", "AZURE_"))}
            env.update(sb.env(), XDG_CACHE_HOME=str(tmp_path / f"machine-{k}"))
            shards.append(subprocess.Popen(
                [sys.executable, "-m", "robot", "provision", str(orgs), "--shard", f"{k}/4", "--sessions",
                 str(sessions), "--no-screenshots", "--out", str(tmp_path / f"shard-{k}")],
                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        outputs = [shard.communicate(timeout=300)[0] for shard in shards]
        assert all(shard.returncode == 0 for shard in shards), "\n".join(outputs)
        assert dict(sb.world.sign_ins) == signed_in, "a shard signed in instead of using the exported session"
        assert all(c.token is not None for n in NAMES for c in sb.world.tfc.clients_for(n))
        assert all(len(sb.world.tfc.clients_for(n)) == 1 for n in NAMES)

        journals = [str(p) for p in sorted(tmp_path.glob("shard-*/journal.sqlite"))]
        proc = run_cli(["merge", *journals, "--out", str(tmp_path / "merged")], cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        doc = json.loads((tmp_path / "merged" / "result.json").read_text())
        assert sorted(o["org"] for o in doc["organizations"]) == sorted(NAMES)
        assert doc["summary"]["connected"] == len(NAMES)


def test_a_refused_session_signs_in_with_the_credentials(tmp_path):
    with Sandbox(SandboxOptions(render_delay_ms=(10, 40))) as sb:
        orgs = tmp_path / "orgs.yaml"
        orgs.write_text(yaml.safe_dump({"organizations": [{"name": "example-org-1"}]}))
        sessions = tmp_path / "sessions.json"
        assert run_cli(["sign-in", str(orgs), "--export", str(sessions)], env=sb.env(), cwd=tmp_path).returncode == 0
        doc = json.loads(sessions.read_text())
        for entry in doc["sessions"]:  # the sites forgot these sessions
            for cookie in entry["state"]["cookies"]:
                cookie["value"] = "expired"
        sessions.write_text(json.dumps(doc))
        proc = run_cli(["provision", str(orgs), "--sessions", str(sessions), "--no-screenshots", "--out",
                        str(tmp_path / "out")], env=sb.env(), cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert sb.world.sign_ins["tfc"] == 2 and sb.world.sign_ins["microsoft"] == 2


def test_a_file_that_is_not_a_sessions_file_is_bad_input(tmp_path):
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text(yaml.safe_dump({"organizations": [{"name": "example-org-1"}]}))
    env = {"TFC_URL": "https://127.0.0.1:9", "TFC_USERNAME": "u", "TFC_PASSWORD": "p", "AZURE_USERNAME": "a",
           "AZURE_PASSWORD": "p"}
    for content, says in [(None, "cannot read it"), ("{", "not JSON"), ('{"cookies": []}', "not a sessions file")]:
        path = tmp_path / "sessions.json"
        if content is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(content)
        proc = run_cli(["provision", str(orgs), "--sessions", str(path), "--out", str(tmp_path / "out")], env=env,
                       cwd=tmp_path)
        assert proc.returncode == 2 and says in proc.stderr and "vcs-robot sign-in" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_the_scale_out_examples_use_the_exported_sessions_and_never_stagger():
    """Every vcs-robot command line in the examples (their scripts and comments) parses with the real parser;
    one signs in, every provision takes --sessions, nothing sleeps."""
    for name in ("k8s-indexed-job.yaml", "github-actions.yml"):
        assert "sleep" not in (EXAMPLES / name).read_text(), name
        commands = example_commands(name)
        assert any(c[1] == "sign-in" for c in commands), name
        provisions = [c for c in commands if c[1] == "provision"]
        assert provisions and all("--sessions" in c for c in provisions), name


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_commands(name: str) -> list[list[str]]:
    """Every vcs-robot command line of examples/`name` (its scripts, comments and YAML strings), each parsed
    with the real parser."""
    from robot.commands import build_parser
    text = (EXAMPLES / name).read_text()
    scripts = [line.lstrip("# ") for line in text.splitlines() if line.lstrip().startswith("#")]
    scripts += list(_strings(yaml.safe_load(text)))
    if isinstance(args := yaml.safe_load(text), dict):  # a container's args list: one command line
        scripts += [" ".join(a) for a in _lists(args) if a and a[0] == "vcs-robot"]
    parts = [part.strip().removeprefix("exec ") for script in scripts
             for part in re.split(r"\n|;|&&|\|", script.replace("\\\n", " "))]
    commands = [shlex.split(re.sub(r"\$\(\(.*?\)\)|\$\{\{.*?\}\}|\$RUNNER_TEMP", "1", part))
                for part in parts if part.startswith("vcs-robot ")]
    for command in commands:
        build_parser().parse_args(command[1:])
    return commands


def _lists(node):
    if isinstance(node, list):
        if all(isinstance(v, str) for v in node):
            yield node
        for value in node:
            yield from _lists(value)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _lists(value)


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict | list):
        for value in node.values() if isinstance(node, dict) else node:
            yield from _strings(value)


def test_a_failed_sign_in_writes_no_sessions_file(tmp_path):
    with Sandbox(SandboxOptions(sign_in=frozenset({"locked"}), render_delay_ms=(10, 40))) as sb:
        orgs = tmp_path / "orgs.yaml"
        orgs.write_text(yaml.safe_dump({"organizations": [{"name": "example-org-1"}]}))
        sessions = tmp_path / "sessions.json"
        proc = run_cli(["sign-in", str(orgs), "--export", str(sessions), "--out", str(tmp_path / "out")],
                       env=sb.env(), cwd=tmp_path)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("vcs-robot: sign-in failed: ")
        assert "Traceback" not in proc.stderr and not sessions.exists()
