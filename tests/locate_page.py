"""What the locate tests share: one browser page for a test module, and a way to run a question on a small
markup in it (the markup tables of tests/test_locate_*.py: each markup a row, so a new markup found in the wild
is one more row; every row of a table must give the same answer)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from playwright.async_api import Page, async_playwright

from robot import browser as browsers

GUID = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
HIDDEN_MENU = ('<nav hidden><form><button type="submit">Sign out</button></form>'
               '<a href="#">Create VCS provider</a></nav>')


def fixtures():
    """The module's `loop` and `page` fixtures (a test module assigns them: `loop, page = fixtures()`)."""
    @pytest.fixture(scope="module")
    def loop() -> Iterator[asyncio.AbstractEventLoop]:
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()

    @pytest.fixture(scope="module")
    def page(loop) -> Iterator[Page]:
        async def start():
            playwright = await async_playwright().start()
            browser = await browsers.launch(playwright)
            return playwright, browser, await browser.new_page()
        playwright, browser, page = loop.run_until_complete(start())
        yield page
        loop.run_until_complete(browser.close())
        loop.run_until_complete(playwright.stop())

    return loop, page


def on(loop, page: Page, html: str, coroutine_of):
    """Runs `coroutine_of(page)` on `html` (behind a hidden menu of traps)."""
    async def run():
        await page.set_content(f"<main>{HIDDEN_MENU}{html}</main>")
        return await coroutine_of(page)
    return loop.run_until_complete(run())
