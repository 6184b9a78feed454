"""Shared fixtures: a fresh sandbox per test (real HTTP on loopback) and a way to run the robot on it."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMETRAVEL = Path(__file__).resolve().parent / "timetravel"

if os.environ.get("VCS_ROBOT_TEST_CLOCK"):  # the suite at another moment (tests/timetravel/sitecustomize.py)
    sys.path.insert(0, str(TIMETRAVEL))
    import sitecustomize  # noqa: F401 - moves this process's clock (a no-op when it moved at start-up)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TIMETRAVEL), os.environ.get("PYTHONPATH")]))


@pytest.fixture
def sandbox():
    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions
    with Sandbox(SandboxOptions(render_delay_ms=(20, 80))) as sb:
        yield sb


def robot_settings(env: dict, state_dir: Path):
    from robot.config import load_settings
    return load_settings(environ=env, env_file=None, overrides={"state_dir": state_dir})


def run_robot(env: dict, out: Path, orgs, **options):
    """Runs the docs flow in-process for `orgs` against the sites named in `env`."""
    from flows.docs_page import connect_org
    from robot.model import OrgTask
    from robot.runner import RunOptions, run_orgs
    settings = robot_settings(env, out / ".state")
    tasks = [o if isinstance(o, OrgTask) else OrgTask(o) for o in orgs]
    options.setdefault("flow", connect_org)
    return asyncio.run(run_orgs([(t, settings) for t in tasks], RunOptions(out=out, **options)))


def run_cli(args: list[str], env: dict | None = None, cwd: Path | None = None, timeout: float = 300):
    """Runs `vcs-robot` as a user would, in a child process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TFC_", "AZURE_"))}
    full_env["XDG_CACHE_HOME"] = str((cwd or ROOT) / ".cache")  # the robot's sessions stay in the test
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "robot", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=timeout)
