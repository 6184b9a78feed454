"""robot/locate/waiting.py and screens.py: waits in the page (woken by changes, stopped when a race is lost,
going on in the next document) and screens recognised by what they show."""
from __future__ import annotations

from playwright.async_api import Page

from robot.locate import Screen, next_screen, race, until, value_next_to, wait_for_value
from tests.locate_page import GUID, fixtures, on

loop, page = fixtures()


# ---- waits in the page ------------------------------------------------------------------------------
def test_a_wait_sees_a_value_rendered_later(loop, page):
    async def later(p: Page) -> str:
        await p.evaluate(f"""() => setTimeout(() => document.querySelector('main').insertAdjacentHTML(
            'beforeend', '<dl><dt>App ID</dt><dd>{GUID}</dd></dl>'), 300)""")
        await wait_for_value(p, ("App ID",), GUID, timeout=5_000)
        return await value_next_to(p, "App ID")
    assert on(loop, page, "<h1>Application</h1>", later) == GUID


def test_a_wait_that_loses_a_race_stops_in_the_page(loop, page):
    """Playwright's wait_for_function would go on checking in the page until its timeout."""
    async def lost(p: Page) -> tuple[str | None, int, int]:
        never = until(p, "arg => { window.checks = (window.checks || 0) + 1; return false; }", None, 30_000)
        shown = p.get_by_role("heading", name="Application").wait_for(state="visible")
        winner = await race({"shown": shown, "never": never}, 5_000)
        await p.wait_for_function("() => Object.keys(window.__vcsRobotStop).length === 0", timeout=2_000)
        stopped_at = await p.evaluate("() => window.checks")
        await p.wait_for_timeout(1_000)  # five idle checks' time: none may come
        return winner, stopped_at, await p.evaluate("() => window.checks")
    winner, stopped_at, later = on(loop, page, "<h1>Application</h1>", lost)
    assert winner == "shown" and stopped_at >= 1 and later == stopped_at


def test_a_wait_goes_on_in_the_next_document(loop, page):
    """The page navigates while the wait checks it (the old document's check dies with it)."""
    screens = (Screen("done", headings=("Done",)),)

    async def across(p: Page) -> str | None:
        async def serve(route):
            await route.fulfill(content_type="text/html", body="<h1>Done</h1>")
        await p.route("http://next.test/**", serve)
        try:
            await p.evaluate("() => setTimeout(() => { location.href = 'http://next.test/'; }, 200)")
            return await next_screen(p, screens, None, "", 10_000)
        finally:
            await p.unroute("http://next.test/**")
    assert on(loop, page, "<h1>Working</h1>", across) == "done"
