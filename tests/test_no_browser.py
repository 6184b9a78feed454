"""No browser starts where none may: bad input to any command stops with one line and exit 2 before a
browser is launched, and `--browser-endpoint` never launches one locally. The proof is a stand-in browser
($VCS_ROBOT_CHROMIUM) that leaves a marker file when anything starts it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli

ENV = {"TFC_USERNAME": "u", "TFC_PASSWORD": "p" * 8, "AZURE_USERNAME": "a@b.c", "AZURE_PASSWORD": "q" * 8}


@pytest.fixture
def marker_browser(tmp_path) -> tuple[Path, Path]:
    """An executable that records that it was started, then fails as a broken browser would."""
    marker = tmp_path / "a-browser-was-started"
    stub = tmp_path / "chromium-stub"
    stub.write_text(f"#!/bin/sh\necho \"$@\" >> {marker}\nexit 1\n")
    stub.chmod(0o755)
    return stub, marker


def orgs(tmp_path: Path, **org) -> Path:
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [{"name": "example-org-1", **org}]}))
    return path


BAD_INPUT = {  # command line (ORGS: a good organizations file), extra environment, words of the error
    "connect": (["connect", "--org", "example-org-1"], {"TFC_URL": "ftp://nowhere"}, "TFC_URL"),
    "provision": (["provision", "ORGS", "--workers", "0"], {}, "--workers"),
    "rotate": (["rotate", "ORGS", "--shard", "3/2"], {}, "shard"),
    "rotate expiring": (["rotate", "ORGS", "--expiring-within", "-3"], {}, "--expiring-within"),
    "expiry": (["expiry", "ORGS", "--within", "-1"], {}, "--within"),
    "expiry workers": (["expiry", "ORGS", "--workers", "0"], {}, "--workers"),
    "expiry journal": (["expiry", "ORGS", "--journal", "missing.sqlite"], {}, "--journal"),
    "migrate": (["migrate", "ORGS", "--to", "pat"], {}, "azure_devops_organization"),
    "sign-in": (["sign-in", "ORGS", "--export", "."], {}, "--export"),
    "doctor": (["doctor", "ORGS", "--org", "x"], {}, "name the organizations"),
    "screenshots": (["screenshots", "--drift", "x"], {}, "--drift"),
    "check": (["check", "--live", "--drift", "x"], {}, "--drift"),
    "merge": (["merge", "no-such-journal.sqlite"], {}, "no such journal"),
    "sessions": (["provision", "ORGS", "--sessions", "missing.json"], {}, "--sessions"),
    "bad TOTP secret": (["provision", "ORGS"], {"AZURE_TOTP_SECRET": "not base32 !!"}, "AZURE_TOTP_SECRET"),
    "bad day": (["provision", "ORGS", "--sandbox", "--today", "2026-02-30"], {}, "--today"),
    "day on live sites": (["connect", "--org", "example-org-1", "--today", "2026-01-15"], {}, "--today"),
    "bad day variable": (["provision", "ORGS"], {"VCS_ROBOT_TODAY": "tomorrow"}, "VCS_ROBOT_TODAY"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_to_every_command_is_one_line_and_no_browser(case, tmp_path, marker_browser):
    stub, marker = marker_browser
    argv, env, words = BAD_INPUT[case]
    argv = [str(orgs(tmp_path)) if a == "ORGS" else a for a in argv]
    proc = run_cli(argv + ["--out" if argv[0] != "check" else "--output", str(tmp_path / "out")],
                   env={**ENV, **env, "VCS_ROBOT_CHROMIUM": str(stub)}, cwd=tmp_path, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(lines) == 1 and lines[0].startswith("vcs-robot: error:") and words in lines[0], proc.stderr
    assert not marker.exists(), f"a browser was started for bad input: {marker.read_text()}"


def test_the_stand_in_browser_would_be_noticed(tmp_path, marker_browser):
    """The marker is left by any launch: a good command that must start a browser trips it."""
    stub, marker = marker_browser
    proc = run_cli(["connect", "--org", "example-org-1", "--sandbox", "--no-screenshots", "--out",
                    str(tmp_path / "out")], env={"VCS_ROBOT_CHROMIUM": str(stub)}, cwd=tmp_path, timeout=120)
    assert proc.returncode != 0 and marker.exists()


def test_a_remote_browser_endpoint_is_used_and_nothing_is_launched_here(sandbox, tmp_path, marker_browser):
    """--browser-endpoint drives a browser started elsewhere (`playwright launch-server`); a local launch is
    impossible (the stand-in fails and leaves its marker), so success means the remote one did the work."""
    from robot.browser import LAUNCH_ARGS, find_executable
    stub, marker = marker_browser
    config = tmp_path / "server.json"
    config.write_text(json.dumps({"executablePath": find_executable(True), "headless": True, "host": "127.0.0.1",
                                  "port": 0, "args": LAUNCH_ARGS + ["--no-sandbox"]}))
    env = {k: v for k, v in os.environ.items() if k != "VCS_ROBOT_CHROMIUM"}
    server = subprocess.Popen([sys.executable, "-m", "playwright", "launch-server", "--browser", "chromium",
                               "--config", str(config)], stdout=subprocess.PIPE, text=True, env=env,
                              start_new_session=True)
    try:
        endpoint = server.stdout.readline().strip()
        assert endpoint.startswith("ws://127.0.0.1:")
        path = tmp_path / "two.yaml"
        path.write_text(yaml.safe_dump({"organizations": [{"name": "example-org-1"}, {"name": "example-org-2"}]}))
        proc = run_cli(["provision", str(path), "--browser-endpoint", endpoint, "--workers", "2",
                        "--no-screenshots", "--out", str(tmp_path / "out")],
                       env={**sandbox.env(), "VCS_ROBOT_CHROMIUM": str(stub)}, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert not marker.exists(), "a local browser was launched despite --browser-endpoint"
        assert all(len(sandbox.world.tfc.clients_for(o)) == 1 for o in ("example-org-1", "example-org-2"))
    finally:  # the driver runs in a child of its own: end the whole group
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
