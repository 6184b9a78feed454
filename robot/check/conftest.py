"""Fixtures of the UI check: the sites (a fresh sandbox, or the live sites from the environment / .env),
one browser context for the whole walk (signed-in sessions carry from page to page, as for the robot),
failure artifacts (both tabs' screenshots, inputs masked; the trace, secrets scrubbed) in `--output`.

pytest-playwright's conventions hold: `--headed`, `--browser-channel`, `--slowmo`, `--tracing
on|off|retain-on-failure`, `--output`. Its `browser` fixture launches the Chromium robot.browser finds
(Playwright's bundled one is not needed).
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from robot import browser as browsers
from robot.traces import scrub_zip

from .walk import Walk

SANDBOX_ORG = "example-org-1"


def pytest_addoption(parser):
    group = parser.getgroup("vcs-robot check")
    group.addoption("--live", action="store_true", help="check the live sites (credentials from the environment / .env)")
    group.addoption("--sandbox", action="store_true", help="check a fresh embedded sandbox (the default)")
    group.addoption("--read-only", action="store_true",
                    help="create nothing: sign in, open the forms, check them, leave")
    group.addoption("--org", default=None, help="Terraform Cloud organization (live: or TFC_ORGANIZATION)")
    group.addoption("--sandbox-drift", action="append", default=[], help="turn on a sandbox drift switch")
    group.addoption("--element-timeout", type=float, default=15_000,
                    help="milliseconds to wait for each element before calling it missing (default 15000)")


@dataclass
class Sites:
    settings: object
    org: str
    mode: str  # sandbox | live
    sandbox: object | None = None
    drift: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, pytestconfig):
    """pytest-playwright's launch arguments (--headed, --slowmo, ...) with the robot's Chromium and flags."""
    args = dict(browser_type_launch_args)
    headless = args.get("headless", not pytestconfig.getoption("--headed"))
    if not args.get("channel"):
        args["executable_path"] = browsers.find_executable(headless)
    extra = list(browsers.LAUNCH_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        extra.append("--no-sandbox")
    args["args"] = list(args.get("args") or []) + extra
    return args


@pytest.fixture(scope="session")
def sites(pytestconfig):
    from robot.config import load_settings
    if pytestconfig.getoption("--live"):
        if pytestconfig.getoption("--sandbox-drift"):
            raise pytest.UsageError("--sandbox-drift needs the sandbox, not --live")
        settings = load_settings(environ=os.environ, env_file=Path(".env"), require=())
        missing = [name for name, value in (("TFC_USERNAME", settings.tfc_username),
                                            ("TFC_PASSWORD", settings.tfc_password),
                                            ("AZURE_USERNAME", settings.azure_username),
                                            ("AZURE_PASSWORD", settings.azure_password)) if not value]
        org = pytestconfig.getoption("--org") or os.environ.get("TFC_ORGANIZATION") or os.environ.get("TFC_ORG")
        if not org:
            missing.append("TFC_ORGANIZATION (or --org)")
        if missing:
            pytest.skip(f"live check skipped: {', '.join(missing)} not set (environment or .env)")
        yield Sites(settings, org, "live")
        return
    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions
    drift = [d for value in pytestconfig.getoption("--sandbox-drift") for d in value.split(",") if d]
    # not tmp_path_factory: a check run inside another pytest run must not prune that run's folders
    with tempfile.TemporaryDirectory(prefix="vcs-robot-check-") as state_dir, \
            Sandbox(SandboxOptions(drift=set(drift))) as sandbox:
        settings = load_settings(environ=sandbox.env(), env_file=None, overrides={"state_dir": Path(state_dir)})
        yield Sites(settings, pytestconfig.getoption("--org") or SANDBOX_ORG, "sandbox", sandbox, drift)


def _output(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("--output") or "test-results")


@pytest.fixture(scope="module")
def walk(request, browser, sites, pytestconfig):
    """One context, two tabs (Terraform Cloud, Azure DevOps), walked page by page by the tests in order."""
    from robot.capture import load_manifest
    from robot.runner import context_args
    context = browser.new_context(**context_args(load_manifest(), None))
    context.set_default_timeout(30_000)
    tracing = pytestconfig.getoption("--tracing") or "off"
    if tracing != "off":  # no screenshots in traces: pixels cannot be scrubbed
        context.tracing.start(screenshots=False, snapshots=True, sources=False)
    w = Walk(sites, context, read_only=pytestconfig.getoption("--read-only"),
             element_timeout=pytestconfig.getoption("--element-timeout"))
    try:
        yield w
    finally:
        cleanup_error = None
        try:
            w.cleanup()
        except Exception as e:  # noqa: BLE001 - reported after the trace is saved
            cleanup_error = e
        if tracing != "off":
            keep = tracing == "on" or w.failed or cleanup_error is not None
            if keep:
                path = _output(pytestconfig) / f"trace-{request.module.__name__.rsplit('.', 1)[-1]}.zip"
                path.parent.mkdir(parents=True, exist_ok=True)
                context.tracing.stop(path=str(path))
                scrub_trace(path)
            else:
                context.tracing.stop()
        context.close()
        if cleanup_error is not None:
            raise cleanup_error


def scrub_trace(path: Path) -> None:
    """Every registered secret masked in every text entry; no screencast frames kept."""
    scrub_zip(path)
    tmp = path.with_suffix(".frames")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename.startswith("resources/page@") and item.filename.endswith((".jpeg", ".png")):
                continue
            dst.writestr(item, src.read(item))
    os.replace(tmp, path)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.vcs_robot_failed = report.failed
    return report


@pytest.fixture(autouse=True)
def _step_guard(request, walk, pytestconfig):
    """Skips the steps after a failed one (they need its state); saves both tabs when a step fails."""
    if walk.failed:
        pytest.skip(f"an earlier step failed ({walk.failed})")
    yield
    if getattr(request.node, "vcs_robot_failed", False):
        walk.failed = request.node.name
        folder = _output(pytestconfig) / request.node.name
        folder.mkdir(parents=True, exist_ok=True)
        walk.failure_screenshots(folder)
