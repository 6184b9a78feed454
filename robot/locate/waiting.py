"""Waiting for a state, never sleeping: `until` a page-side test holds (woken by the page's changes), and
`race` of several waits."""
from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from .candidates import Scope
from .page import page_of, run_js

_stops: set[asyncio.Future[None]] = set()
_NAVIGATED = ("Execution context was destroyed", "Cannot find context", "navigat")


async def until(scope: Scope, test: str, arg: Any, timeout: float) -> Any:
    """Waits until `test` (a JavaScript function of `arg` and the element searched in, run in the page
    beside locate.js) returns a truthy value, and returns it. The page checks when its document changes
    and every 200 ms; a navigation starts the wait again in the new document. A wait cancelled in Python
    (a race lost) is stopped in the page too: Playwright's wait_for_function would go on checking until
    its timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout / 1000
    token = secrets.token_hex(6)
    page = page_of(scope)
    body = f"return waitUntil(arg => ({test})(arg, root), input);"
    try:
        while (left := deadline - loop.time()) > 0:
            try:
                value = await run_js(scope, body, {"arg": arg, "token": token, "timeout": left * 1000}, left * 1000)
            except PlaywrightError as error:
                if not any(words in error.message for words in _NAVIGATED):
                    raise
                await page.wait_for_load_state("domcontentloaded", timeout=max(left * 1000, 1))
                continue
            if value is not None:
                return value
    except asyncio.CancelledError:
        stop = asyncio.ensure_future(_stop_waiting(page, token))
        _stops.add(stop)
        stop.add_done_callback(_stops.discard)
        raise
    raise PlaywrightTimeout(f"Timeout {timeout:.0f}ms exceeded waiting for the page")


async def _stop_waiting(page: Page, token: str) -> None:
    with contextlib.suppress(PlaywrightError):
        await page.evaluate("t => { const stop = (window.__vcsRobotStop || {})[t]; if (stop) stop(); }", token)


async def race(waits: dict[str, Awaitable[object]], timeout_ms: float) -> str | None:
    """Runs awaitables concurrently; returns the key of the first to finish without error (or None
    when all failed or the time ran out). The others are cancelled."""
    tasks = {asyncio.ensure_future(aw): key for key, aw in waits.items()}
    pending = set(tasks)
    winner = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000
    try:
        while pending and winner is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            done, pending = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is None:
                    winner = tasks[task]
                    break
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return winner
