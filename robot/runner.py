"""Runs the docs flow for organizations: one browser, one context per org, sessions signed in once."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import (
    Browser,
    BrowserContext,
    Frame,
    Page,
    Playwright,
    Request,
    Response,
    StorageState,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from flows.context import FlowContext, explain_timeout
from flows.sign_in import is_sign_in_url, on_sign_in_page, sign_in_both

from . import browser as browsers
from . import interrupt
from .capture import Capture, Manifest, load_manifest
from .errors import DriftError, FinalError, TransientError, UnknownPage
from .journal import ORG_STEP, Journal
from .locate import install, origin
from .model import OrgResult, OrgTask, Settings
from .secrets import redact
from .sessions import SessionStore, pair_key
from .traces import scrub_zip

log = logging.getLogger("vcs_robot")
BACKOFF_S = 0.5
# Errors a site reports for a passing fault (OAuth error codes, HTTP wording): retried, not final.
TRANSIENT_MARKERS = ("server_error", "temporarily_unavailable", "service unavailable", "too many requests",
                     "unreachable", "kept failing", "chrome-error://")


Flow = Callable[[FlowContext], Awaitable[None]]
INTERRUPTED, NOT_STARTED = "interrupted", "not started"  # an org's status after a stop request
WORKERS_PER_CORE = 4  # bench/README.md: CPU-bound past 4 contexts per core, no faster beyond
BASE_MIB, PER_WORKER_MIB = 600, 150  # bench/README.md: ~560 MiB with one worker, ~90 MiB more per worker


def auto_workers() -> tuple[int, str]:
    """A worker count for this machine (`--workers auto`) and why: 4 per core, fewer if memory is short."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    available = _available_mib()
    by_memory = max(1, (available - BASE_MIB) // PER_WORKER_MIB) if available else WORKERS_PER_CORE * cores
    workers = max(1, min(WORKERS_PER_CORE * cores, by_memory))
    memory = f", {available / 1024:.1f} GiB available" if available else ""
    return workers, f"{cores} core(s){memory}"


def _available_mib() -> int:
    """MemAvailable from /proc/meminfo in MiB (0 where there is none)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


@dataclass
class RunOptions:
    out: Path
    flow: Flow  # run per org, e.g. flows.docs_page.connect_org
    workers: int = 1
    headless: bool = True
    step_screenshots: bool = True
    doc_images: bool = True
    attempts: int = 3  # per org, for transient faults
    trace: bool = False
    browser_endpoint: str | None = None
    journal: Journal | None = None
    on_update: Callable[[str, str], None] | None = None  # (org, status), for progress displays
    stats: dict[str, int] = field(default_factory=lambda: {"sign_ins": 0})
    fresh_sign_in: bool = False  # sign in with the credentials even when a stored session would do
    journeys: dict[str, list[str]] = field(default_factory=dict)  # per account pair: the sign-in steps met
    sessions: dict[str, StorageState] = field(default_factory=dict)  # exported sessions by pair_key, used once
    allow: frozenset[str] = frozenset()  # the user's options for irreversible acts (flows/safety.py)


async def run_orgs(jobs: list[tuple[OrgTask, Settings]], options: RunOptions) -> list[OrgResult]:
    """Connects every job's org (each with its own settings); one org's failure never stops the others.
    A stop request (robot/interrupt.py) ends it early: the orgs in flight come back "interrupted", the others
    "not started"."""
    manifest = load_manifest()
    async with browsers.start() as playwright:
        browser = await _browser(playwright, options)
        sessions = Sessions(browser, manifest, options)
        try:
            limit = asyncio.Semaphore(max(1, options.workers))

            async def one(index: int, task: OrgTask, settings: Settings) -> OrgResult:
                began = False
                try:
                    async with limit:
                        if interrupt.requested():
                            return OrgResult(task.org, NOT_STARTED)
                        began = True
                        try:
                            await sessions.signed_in(settings, task.org)
                        except (FinalError, TransientError) as e:  # no session: the org fails with the reason
                            return _refused(task, e, options, "final" if isinstance(e, FinalError) else "transient")
                        return await run_org(browser, settings, task, sessions, manifest, options, docs=index == 0)
                except asyncio.CancelledError:
                    if not interrupt.requested():
                        raise
                    return _interrupted(task, options) if began else OrgResult(task.org, NOT_STARTED)

            runs = [asyncio.ensure_future(one(i, t, s)) for i, (t, s) in enumerate(jobs)]
            try:
                return list(await asyncio.gather(*runs))
            except asyncio.CancelledError:
                if not interrupt.requested():
                    raise
                await asyncio.wait(runs)  # each ends with what it has
                return [r.result() for r in runs]
        finally:
            await sessions.cancel_pending()
            await browser.close()


async def _browser(playwright: Playwright, options: RunOptions) -> Browser:
    if options.browser_endpoint:
        return await browsers.connect(playwright, options.browser_endpoint)
    return await browsers.launch(playwright, headless=options.headless)


class Sessions:
    """Signs in once per account pair and run, however many orgs share it, and hands out the state.

    When a flow finds its session lost (expired, or a site asks for the code again), the pair signs
    in again, once, and later contexts start from the new state.
    """

    def __init__(self, browser: Browser, manifest: Manifest, options: RunOptions):
        self.browser, self.manifest, self.options = browser, manifest, options
        self._current: dict[Path, asyncio.Future[StorageState]] = {}

    async def signed_in(self, settings: Settings, org: str) -> StorageState:
        key = SessionStore(settings.state_dir).path_for(settings)
        if key not in self._current:
            self._sign_in(key, settings, org)
        return await asyncio.shield(self._current[key])

    def _sign_in(self, key: Path, settings: Settings, org: str) -> None:
        steps = self.options.journeys.setdefault(f"{settings.tfc_username} + {settings.azure_username}", [])
        self._current[key] = asyncio.ensure_future(
            sign_in_once(self.browser, settings, org, self.manifest, self.options, steps))
        self.options.stats["sign_ins"] += 1

    async def cancel_pending(self) -> None:
        """Stops the sign-ins still running (a stop request came during one)."""
        pending = [f for f in self._current.values() if not f.done()]
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def lost(self, settings: Settings, org: str, state: StorageState) -> None:
        """The session `state` no longer works: sign in again unless another flow already did."""
        key = SessionStore(settings.state_dir).path_for(settings)
        current = self._current.get(key)
        if current is not None and current.done() and not current.exception() and current.result() is state:
            self._sign_in(key, settings, org)

    async def keep_newer(self, settings: Settings, started_with: StorageState, context: BrowserContext) -> None:
        """A context that signed in again holds a newer session: later contexts start from it. Not when the pair
        signs in again or did meanwhile (this context's session may be the lost one: its cookies are then the
        sign-in page's, and keeping them would start every later attempt signed out)."""
        store = SessionStore(settings.state_dir)
        key = store.path_for(settings)
        with contextlib.suppress(PlaywrightError):
            # the cookies first: the whole state makes Playwright open a page and visit each origin the context saw
            if _cookies(await context.cookies()) == _cookies(started_with.get("cookies", [])):
                return
            state = await context.storage_state()
            current = self._current.get(key)
            if current is None or not current.done() or current.exception() or current.result() is not started_with:
                return
            store.save(settings, state)
            done = asyncio.get_running_loop().create_future()
            done.set_result(state)
            self._current[key] = done


def _cookies(cookies: Sequence[Mapping[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {(c["name"], c["domain"], c["path"], c["value"]) for c in cookies}


def context_args(manifest: Manifest, storage_state: StorageState | None) -> dict[str, Any]:
    """Same window, scale, locale, zone and colours everywhere: screenshots are reproducible."""
    return dict(viewport=manifest.viewport, device_scale_factor=manifest.device_scale_factor,
                locale="en-US", timezone_id="UTC", color_scheme="light", reduced_motion="reduce",
                storage_state=storage_state)


async def open_context(browser: Browser, settings: Settings, manifest: Manifest,
                       storage_state: StorageState | None) -> BrowserContext:
    """A context as every run makes it: locate.js in each document, and the run's clock when its day is fixed
    (VCS_ROBOT_TODAY), so dates the pages compute agree with the ones the robot writes."""
    context = await browser.new_context(**context_args(manifest, storage_state))
    await install(context)
    if settings.clock.fixed:
        await context.clock.install(time=settings.clock.now())
    return context


async def sign_in_once(browser: Browser, settings: Settings, org: str, manifest: Manifest, options: RunOptions,
                       steps: list[str]) -> StorageState:
    """Signs in to both sites (or confirms the stored sessions still work) and returns the state;
    `steps` gets the sign-in steps met (Microsoft's interstitials, HCP...)."""
    for attempt in range(1, options.attempts + 1):
        try:
            return await _sign_in(browser, settings, org, manifest, options, steps)
        except (TransientError, PlaywrightError, OSError, DriftError) as e:  # DriftError: e.g. an error page
            if attempt == options.attempts:
                raise TransientError(f"signing in kept failing: {redact(str(e).splitlines()[0])}") from None
            log.warning("sign-in attempt %d failed: %s", attempt, redact(str(e).splitlines()[0]))
    raise AssertionError("unreachable")


async def _sign_in(browser: Browser, settings: Settings, org: str, manifest: Manifest, options: RunOptions,
                   steps: list[str]) -> StorageState:
    store = SessionStore(settings.state_dir)
    exported = options.sessions.pop(pair_key(settings), None)  # refused once: the credentials next time
    stored = None if options.fresh_sign_in else exported or store.load(settings)
    context = await open_context(browser, settings, manifest, stored)
    pages = [await context.new_page(), await context.new_page()]
    try:
        steps.extend(await sign_in_both(pages[0], pages[1], settings, org))
        state = await context.storage_state()
        store.save(settings, state)
        return state
    except BaseException as e:
        if isinstance(e, UnknownPage):  # a person needs to see it
            await _screenshots(pages, options.out / "sign-in")
            e.args = (f"{e.args[0]} (screenshots: {options.out / 'sign-in'})",)
        raise
    finally:
        await context.close()


async def sign_in_pairs(jobs: list[tuple[OrgTask, Settings]], options: RunOptions
                        ) -> list[tuple[Settings, StorageState]]:
    """Signs in afresh once per account pair of the jobs (on the first org of each) and returns the states."""
    first: dict[str, tuple[OrgTask, Settings]] = {}
    for task, settings in jobs:
        first.setdefault(pair_key(settings), (task, settings))
    manifest = load_manifest()
    async with browsers.start() as playwright:
        browser = await _browser(playwright, options)
        try:
            signed_in = []
            for task, settings in first.values():
                steps = options.journeys.setdefault(f"{settings.tfc_username} + {settings.azure_username}", [])
                signed_in.append((settings, await sign_in_once(browser, settings, task.org, manifest, options, steps)))
                options.stats["sign_ins"] += 1
            return signed_in
        finally:
            await browser.close()


async def run_org(browser: Browser, settings: Settings, task: OrgTask, sessions: Sessions, manifest: Manifest,
                  options: RunOptions, docs: bool) -> OrgResult:
    """The docs flow for one org in a fresh context per attempt; transient faults are retried with backoff."""
    result = OrgResult(task.org)
    started = time.perf_counter()
    capture = Capture(options.out / task.org, options.out / "docs", manifest,
                      steps=options.step_screenshots, docs=docs and options.doc_images)
    _update(options, task.org, "running")
    for attempt in range(1, options.attempts + 1):
        state = await sessions.signed_in(settings, task.org)
        context = await open_context(browser, settings, manifest, state)
        if options.trace:
            await context.tracing.start(screenshots=False, snapshots=True, sources=False)
        ctx = FlowContext(task, settings, await context.new_page(), await context.new_page(),
                          settings.tfc_identity(), settings.azure_identity(), capture, result, options.journal,
                          options.allow)
        kind = ""
        try:
            await _run_until_broken(ctx, options.flow)
            result.status, result.error, result.error_kind = "connected", "", ""
        except (asyncio.CancelledError, FinalError, TransientError, PlaywrightError, asyncio.TimeoutError,
                OSError) as error:
            if interrupt.requested():  # stopped; an error then is the browser closing, not the sites' doing
                kind = result.status = INTERRUPTED
                result.error = result.error_kind = ""
            elif isinstance(error, Exception):
                kind = await _failure(ctx, error, options.out / task.org)
                if kind == "lost":
                    sessions.lost(settings, task.org, state)
                    kind = "transient"
            else:
                raise
        finally:
            if options.trace:
                path = options.out / task.org / f"trace-{attempt}.zip"
                await context.tracing.stop(path=path)
                scrub_zip(path)
            await sessions.keep_newer(settings, state, context)
            await context.close()
        if kind != "transient" or attempt == options.attempts:
            break
        log.warning("%s: attempt %d failed (%s): retrying", task.org, attempt, result.error)
        _update(options, task.org, f"retrying ({attempt}): {result.error[:60]}")
        await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1) * (0.5 + random.random()))  # allowed-sleep: backoff
    result.screenshots = capture.written
    result.seconds = round(time.perf_counter() - started, 3)
    if options.journal:
        ending = {"error": result.error, "error_kind": result.error_kind} if result.error else {}
        status = {"connected": "done", INTERRUPTED: INTERRUPTED}.get(result.status, "failed")
        options.journal.record(task.org, ORG_STEP, status, seconds=result.seconds, **ending)
    _update(options, task.org, result.status)
    return result


def _interrupted(task: OrgTask, options: RunOptions) -> OrgResult:
    """An org stopped while it was signing in (no step of its own had begun)."""
    if options.journal:
        options.journal.record(task.org, ORG_STEP, INTERRUPTED)
    _update(options, task.org, INTERRUPTED)
    return OrgResult(task.org, INTERRUPTED)


async def _failure(ctx: FlowContext, error: Exception, folder: Path) -> str:
    """Records the attempt's failure in its result, with screenshots; returns its kind ("final", "transient", or
    "lost": transient, and the session must be signed in again)."""
    # a wait that ended without what was expected, outside a step, is named by what shows too
    e = await explain_timeout(ctx, error) if isinstance(error, PlaywrightTimeout) else error
    kind = await _classify(ctx, e)
    _failed(ctx.result, e, kind)
    await _failure_screenshot(ctx, folder)
    return "lost" if isinstance(e, SessionLost) or (isinstance(e, DriftError) and kind == "transient") else kind


class BrokenPage(TransientError):
    """A page load in either tab answered 5xx/429 or lost its connection: the flow cannot go on."""


class SessionLost(TransientError):
    """A site sent the flow to its sign-in pages: the session expired or must be verified again."""


SESSION_LOST = "the Terraform Cloud session was lost (the site asked to sign in again)"


async def _run_until_broken(ctx: FlowContext, run_flow: Flow) -> None:
    """Runs the docs flow, stopping it at once when a page load breaks instead of waiting out a timeout."""
    broken: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_response(response: Response) -> None:
        if _is_document(response.request) and (response.status >= 500 or response.status == 429):
            _set(broken, f"{response.status} from {response.url.split('?')[0]}")

    def on_failed(request: Request) -> None:
        failure = request.failure or ""
        if _is_document(request) and "ERR_ABORTED" not in failure:  # aborted: superseded, not broken
            _set(broken, f"{failure} at {request.url.split('?')[0]}")

    tfc_origin = origin(ctx.settings.tfc_url)

    def on_navigated(frame: Frame) -> None:
        if frame.parent_frame is None and origin(frame.url) == tfc_origin and is_sign_in_url(frame.url):
            _set(broken, SESSION_LOST)

    for page in (ctx.tfc_page, ctx.ado_page):
        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        page.on("framenavigated", on_navigated)
    flow: asyncio.Future[None] = asyncio.ensure_future(run_flow(ctx))
    try:
        await asyncio.wait([flow, broken], return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
    except asyncio.CancelledError:  # a stop request: the flow ends its step as interrupted
        flow.cancel()
        broken.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await flow
        raise
    if flow.done():
        broken.cancel()
        return flow.result()
    flow.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await flow
    if broken.result() == SESSION_LOST:
        raise SessionLost(SESSION_LOST)
    raise BrokenPage(f"a page load failed: {broken.result()}")


def _is_document(request: Request) -> bool:
    return request.is_navigation_request() and request.frame.parent_frame is None


def _set(future: asyncio.Future[str], value: str) -> None:
    if not future.done():
        future.set_result(value)


async def _classify(ctx: FlowContext, error: Exception) -> str:
    """final: the site refused the data or the UI drifted; transient: worth another try."""
    if not isinstance(error, FinalError):
        return "transient"
    text = str(error).lower()
    if any(marker in text for marker in TRANSIENT_MARKERS):
        return "transient"
    if isinstance(error, DriftError) and await _on_sign_in_page(ctx):
        return "transient"  # the session was lost mid-flow
    return "final"


async def _on_sign_in_page(ctx: FlowContext) -> bool:
    with contextlib.suppress(PlaywrightError):
        return await on_sign_in_page(ctx)
    return False


def _refused(task: OrgTask, error: Exception, options: RunOptions, kind: str) -> OrgResult:
    result = OrgResult(task.org)
    _failed(result, error, kind)
    if options.journal:
        options.journal.record(task.org, "sign_in", "failed", error=result.error, error_kind=kind)
    _update(options, task.org, result.status)
    return result


def _failed(result: OrgResult, error: Exception, kind: str) -> None:
    result.status = "failed"
    result.error = redact(str(error).splitlines()[0] if str(error) else type(error).__name__)
    result.error_kind = kind


async def _failure_screenshot(ctx: FlowContext, folder: Path) -> None:
    await _screenshots([ctx.tfc_page, ctx.ado_page], folder)


async def _screenshots(pages: list[Page], folder: Path) -> None:
    """Both tabs as they were (failure-tfc.png, failure-ado.png), every form field masked (a secret may be
    in one)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, page in zip(("tfc", "ado"), pages):
        try:
            await page.screenshot(path=folder / f"failure-{name}.png", mask=[page.locator("input, textarea")],
                                  timeout=5_000)
        except PlaywrightError:
            pass


def _update(options: RunOptions, org: str, status: str) -> None:
    if options.on_update:
        options.on_update(org, status)
