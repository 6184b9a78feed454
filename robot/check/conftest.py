"""Fixtures of the UI check: the sites (a fresh sandbox, or the live sites from the environment / .env),
one walk (one browser context, two tabs) for the whole module, failure artifacts in `--output`.

pytest-playwright's options hold: `--headed`, `--slowmo`, `--tracing on|off|retain-on-failure`,
`--output`. The browser is the Chromium robot.browser finds, driven by the robot's own async page
objects (robot/check/walk.py).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from robot.config import load_settings
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions

from .record import Recorder
from .walk import Sites, Walk

SANDBOX_ORG = "example-org-1"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vcs-robot check")
    group.addoption("--live", action="store_true",
                    help="check the live sites (credentials from the environment / .env)")
    group.addoption("--sandbox", action="store_true", help="check a fresh embedded sandbox (the default)")
    group.addoption("--read-only", action="store_true",
                    help="create nothing: sign in, open the forms, check them, leave")
    group.addoption("--org", default=None, help="Terraform Cloud organization (live: or TFC_ORGANIZATION)")
    group.addoption("--tfc-ui", default="seed", choices=("seed", "wizard"),
                    help="the sandbox's Terraform Cloud UI generation")
    group.addoption("--sandbox-markup", default="plain", choices=("plain", "tables", "cards", "mixed"),
                    help="how the sandbox builds its pages (same words, other HTML)")
    group.addoption("--sandbox-drift", action="append", default=[], help="turn on a sandbox drift switch")
    group.addoption("--sandbox-wording", default="plain", choices=("plain", "reworded", "signals"),
                    help="the words of the sandbox's sign-in pages and value pages (same meanings, other words)")
    group.addoption("--sandbox-today", default=None, type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                    help="the sandbox's (and the robot's) day: dates shown are the same on any day")
    group.addoption("--element-timeout", type=float, default=15_000,
                    help="milliseconds to wait for each element before calling it missing (default 15000)")
    group.addoption("--record", default=None, metavar="DIR",
                    help="record every page's ARIA snapshot, scrubbed, in DIR (vcs-robot fidelity)")
    group.addoption("--scrub", action="append", default=[], metavar="WORD",
                    help="with --record: another private value to replace (a name the pages show)")


@pytest.fixture(scope="session")
def sites(pytestconfig: pytest.Config) -> Iterator[Sites]:
    if pytestconfig.getoption("--live"):
        if pytestconfig.getoption("--sandbox-drift"):
            raise pytest.UsageError("--sandbox-drift needs the sandbox, not --live")
        settings = load_settings(environ=os.environ, env_file=Path(".env"), require=())
        missing = [name for name, value in (("TFC_USERNAME", settings.tfc_username),
                                            ("TFC_PASSWORD", settings.tfc_password),
                                            ("AZURE_USERNAME", settings.azure_username),
                                            ("AZURE_PASSWORD", settings.azure_password)) if not value]
        org = str(pytestconfig.getoption("--org") or os.environ.get("TFC_ORGANIZATION") or os.environ.get("TFC_ORG")
                  or "")
        if not org:
            missing.append("TFC_ORGANIZATION (or --org)")
        if missing:
            pytest.skip(f"live check skipped: {', '.join(missing)} not set (environment or .env)")
        yield Sites(settings, org, "live")
        return
    drift = {d for value in pytestconfig.getoption("--sandbox-drift") for d in value.split(",") if d}
    options = SandboxOptions(drift=drift, tfc_ui=pytestconfig.getoption("--tfc-ui"),
                             markup=pytestconfig.getoption("--sandbox-markup"),
                             today=pytestconfig.getoption("--sandbox-today"),
                             wording=pytestconfig.getoption("--sandbox-wording"))
    # not tmp_path_factory: a check run inside another pytest run must not prune that run's folders
    with tempfile.TemporaryDirectory(prefix="vcs-robot-check-") as state_dir, Sandbox(options) as sandbox:
        settings = load_settings(environ=sandbox.env(), env_file=None, overrides={"state_dir": Path(state_dir)})
        yield Sites(settings, pytestconfig.getoption("--org") or SANDBOX_ORG, "sandbox", sandbox)


def _output(pytestconfig: pytest.Config) -> Path:
    return Path(pytestconfig.getoption("--output") or "test-results")


@pytest.fixture(scope="module")
def walk(request: pytest.FixtureRequest, sites: Sites, pytestconfig: pytest.Config) -> Iterator[Walk]:
    """One context, two tabs (Azure DevOps, Terraform Cloud), walked page by page by the tests in order."""
    tracing = pytestconfig.getoption("--tracing") or "off"
    w = Walk(sites, read_only=pytestconfig.getoption("--read-only"), headless=not pytestconfig.getoption("--headed"),
             slow_mo=pytestconfig.getoption("--slowmo") or 0, trace=tracing != "off",
             element_timeout_ms=pytestconfig.getoption("--element-timeout"))
    record = pytestconfig.getoption("--record")
    w.recorder = Recorder() if record else None
    w.start()
    cleanup_error = None
    try:
        with w.recorder.hooked() if w.recorder else contextlib.nullcontext():
            yield w
    finally:
        try:
            w.cleanup()
        except Exception as e:  # noqa: BLE001 - reported after the trace is saved
            cleanup_error = e
        keep = tracing == "on" or (tracing == "retain-on-failure" and (w.failed or cleanup_error is not None))
        w.close(_output(pytestconfig) / f"trace-{request.module.__name__.rsplit('.', 1)[-1]}.zip" if keep else None)
        if record:  # once the walk is over: every private value it met is known
            w.write_recording(Path(record), pytestconfig.getoption("--scrub"))
        if cleanup_error is not None:
            raise cleanup_error


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item,
                               call: pytest.CallInfo) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.vcs_robot_failed = report.failed  # type: ignore[attr-defined]
    return report


@pytest.fixture(autouse=True)
def _step_guard(request: pytest.FixtureRequest, walk: Walk, pytestconfig: pytest.Config) -> Iterator[None]:
    """Skips the steps after a failed one (they need its state); saves both tabs when a step fails."""
    if walk.failed:
        pytest.skip(f"an earlier step failed ({walk.failed})")
    yield
    if getattr(request.node, "vcs_robot_failed", False):
        walk.failed = request.node.name
        walk.failure_screenshots(_output(pytestconfig) / request.node.name)
