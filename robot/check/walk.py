"""The walk through the robot's pages: one browser context with two tabs (Azure DevOps, Terraform Cloud),
driven by the robot's own page objects on an event loop of its own, so each test (one page) is a plain
function that runs one coroutine. Within a step every element the robot looks up with `find` must be
visible exactly once (`strict_matching`), and a page object's DriftError names the site, page, step
and element that drifted.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from playwright.async_api import Browser, BrowserContext, Page, Playwright
from playwright.async_api import Error as PlaywrightError

from robot import browser as browsers
from robot.capture import load_manifest
from robot.fidelity import Scrubber, private_values
from robot.locate import Candidate, Where, strict_matching
from robot.model import Settings
from robot.pages.ado.profile import ProfilePage
from robot.pages.tfc.edit_vcs_provider import EditVcsProviderPage
from robot.runner import open_context
from robot.traces import scrub_zip

from .record import Recorder

T = TypeVar("T")
STEP_TIMEOUT_S = 180


@dataclass
class Sites:
    settings: Settings
    org: str
    mode: str  # sandbox | live
    sandbox: Any = None


@dataclass
class Walk:
    sites: Sites
    read_only: bool
    headless: bool = True
    slow_mo: float = 0
    trace: bool = False
    element_timeout_ms: float = 15_000
    failed: str | None = None
    state: dict = field(default_factory=dict)
    created_app: str | None = None  # the Azure DevOps app the walk created (cleanup deletes it)
    created_providers: list[str] = field(default_factory=list)  # their client ids
    generation: str = ""
    recorder: Recorder | None = None  # with --record: every page's snapshot (record.py)

    def __post_init__(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.name = f"vcs-robot check {stamp}"  # of the app and the provider the full walk creates
        self.settings = self.sites.settings
        self.org = self.sites.org
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="check-walk", daemon=True)
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.context: BrowserContext
        self.ado: Page
        self.tfc: Page

    # ---- running -----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        self.run(self._open())

    def run(self, step: Coroutine[Any, Any, T], timeout: float = STEP_TIMEOUT_S) -> T:
        """Runs one step of the walk (a coroutine of page-object calls) in strict mode; returns its result."""
        async def strictly() -> T:
            with strict_matching(self.element_timeout_ms):
                return await step
        return asyncio.run_coroutine_threadsafe(strictly(), self._loop).result(timeout)

    async def _open(self) -> None:
        self._playwright = await browsers.start().start()
        self._browser = await browsers.launch(self._playwright, headless=self.headless, slow_mo=self.slow_mo)
        self.context = await open_context(self._browser, self.settings, load_manifest(), None)
        self.context.set_default_timeout(30_000)
        if self.trace:  # no screenshots in traces: pixels cannot be scrubbed
            await self.context.tracing.start(screenshots=False, snapshots=True, sources=False)
        self.ado = await self.context.new_page()
        self.tfc = await self.context.new_page()

    def close(self, trace_path: Path | None) -> None:
        self.run(self._close(trace_path))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _close(self, trace_path: Path | None) -> None:
        if self.trace:
            if trace_path:
                trace_path.parent.mkdir(parents=True, exist_ok=True)
                await self.context.tracing.stop(path=trace_path)
                scrub_zip(trace_path)
            else:
                await self.context.tracing.stop()
        await self.context.close()
        if self._browser:
            await self._browser.close()
        if self._playwright:
            await self._playwright.stop()

    # ---- recording (vcs-robot check --record) ------------------------------------------------------
    async def record(self, page: Page, where: Where, step: str,
                     lookups: tuple[tuple[str, tuple[Candidate, ...]], ...] = ()) -> None:
        """Records a page the robot reads without `find` (its lookups given here), when recording."""
        if self.recorder:
            await self.recorder.page(page, where, step, lookups)

    def write_recording(self, folder: Path, scrub: list[str]) -> None:
        """Writes what was recorded, scrubbed of every private value the walk met."""
        assert self.recorder is not None
        s = self.settings
        names = {"<app>": [self.name, *self.state.get("apps", [])], "<provider>": self.state.get("providers", []),
                 "<token>": [t.name for t in self.state.get("tokens", [])],
                 "<ado-org>": [t.organization for t in self.state.get("tokens", [])]}
        private = private_values(self.org, [u for u in (s.tfc_username, s.azure_username) if u], names, scrub)
        markup = "live" if self.sites.mode == "live" else self.sites.sandbox.world.options.markup
        meta = {"mode": self.sites.mode, "generation": self.generation, "markup": markup,
                "read_only": self.read_only, "walk": f"failed at {self.failed}" if self.failed else "passed"}
        self.recorder.write(folder, Scrubber(private), meta)

    # ---- failure artifacts and cleanup -------------------------------------------------------------
    def failure_screenshots(self, folder: Path) -> None:
        """Both tabs as they are, every form field masked (a secret may be in one)."""
        async def shoot() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            for name, page in (("ado", self.ado), ("tfc", self.tfc)):
                try:
                    await page.screenshot(path=folder / f"failure-{name}.png", mask=[page.locator("input, textarea")],
                                          timeout=5_000)
                except PlaywrightError:
                    pass
        self.run(shoot())

    def cleanup(self) -> None:
        """Deletes what the walk created: its VCS providers, then its Azure DevOps application."""
        problems = []
        for client_id in list(self.created_providers):
            try:
                self.run(self._delete_provider(client_id))
                self.created_providers.remove(client_id)
            except Exception as e:  # noqa: BLE001 - every leftover is reported
                problems.append(f"could not delete the VCS provider {client_id}: {str(e).splitlines()[0]}")
        if self.created_app:
            try:
                self.run(self._delete_app(self.created_app))
                self.created_app = None
            except Exception as e:  # noqa: BLE001
                problems.append(f"could not delete the Azure DevOps application {self.name!r}: "
                                f"{str(e).splitlines()[0]}")
        if problems:
            raise AssertionError("cleanup: " + "; ".join(problems))

    async def _delete_provider(self, client_id: str) -> None:
        base = self.settings.tfc_url.rstrip("/")
        await self.tfc.goto(f"{base}/app/{self.org}/settings/version-control/{client_id}/edit",
                            wait_until="domcontentloaded")
        edit = EditVcsProviderPage(self.tfc)
        await edit.wait_ready()
        await edit.delete()

    async def _delete_app(self, name: str) -> None:
        profile = ProfilePage(self.ado, self.settings.azure_identity())
        await profile.open(self.settings.azure_devops_url)
        details = await profile.open_application(name)
        await details.delete()
