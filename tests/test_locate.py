"""The locate primitives on a table of small markups, in a real Chromium: each markup a row, so a new
markup found in the wild is one more row. Every row of a table must give the same answer."""
from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
from playwright.async_api import Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from robot import browser as browsers
from robot.errors import AmbiguousElement, DriftError
from robot.locate import (
    Screen,
    Where,
    block_of,
    control,
    css,
    describe,
    entries,
    entry_named,
    find,
    find_each,
    first_of,
    having,
    inside,
    label,
    next_screen,
    present,
    race,
    role,
    role_matching,
    shown_now,
    strict_matching,
    text,
    text_field,
    until,
    value_next_to,
    wait_enabled,
    wait_for_value,
)

GUID = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
HIDDEN_MENU = ('<nav hidden><form><button type="submit">Sign out</button></form>'
               '<a href="#">Create VCS provider</a></nav>')

# ---- the value next to a label ----------------------------------------------------------------------
VALUE_MARKUPS = {
    "dt/dd": f"<dl><dt>App ID</dt><dd>{GUID}</dd><dt>Client Secret</dt><dd>••••</dd></dl>",
    "dt/dd with a required marker": f"<dl><dt>App ID <span aria-hidden=true>*</span></dt><dd>{GUID}</dd></dl>",
    "role term/definition": f'<div role=term>App ID</div><div role=definition>{GUID}</div>',
    "row header + cell": f'<table><tr><th scope=row>App ID</th><td>{GUID} <button>Copy</button></td></tr></table>',
    "row of plain cells": f"<table><tr><td>App ID:</td><td><code>{GUID}</code></td></tr></table>",
    "column header + cell": f"<table><thead><tr><th>Name</th><th>App ID</th></tr></thead>"
                            f"<tbody><tr><td>app</td><td>{GUID}</td></tr></tbody></table>",
    "ARIA grid": f'<div role=grid><div role=row><span role=columnheader>App ID</span></div>'
                 f'<div role=row><span role=gridcell>{GUID}</span></div></div>',
    "label for a read-only field": f'<label for=x>App ID</label><input id=x readonly value="{GUID}">',
    "aria-labelledby": f'<span id=l>App ID</span><code aria-labelledby=l>{GUID}</code>',
    "aria-label": f'<output aria-label="App ID">{GUID}</output>',
    "label then value in a card": f'<div class=card><span>App ID</span><code>{GUID}</code><button>Copy</button></div>',
    "strong label in a paragraph": f"<p><strong>App ID:</strong> {GUID}</p>",
    "label and value in nested blocks": f"<div><div><span>App ID</span></div><div><span>{GUID}</span></div></div>",
    "hidden copy first": f'<template><dl><dt>App ID</dt><dd>wrong</dd></dl></template>'
                         f'<dl style="display:none"><dt>App ID</dt><dd>wrong</dd></dl>'
                         f'<dl style="position:absolute;left:-10000px"><dt>App ID</dt><dd>wrong</dd></dl>'
                         f'<dl><dt>App ID</dt><dd>{GUID}</dd></dl>',
}


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


def on(loop, page: Page, html: str, coroutine_of):
    async def run():
        await page.set_content(f"<main>{HIDDEN_MENU}{html}</main>")
        return await coroutine_of(page)
    return loop.run_until_complete(run())


@pytest.mark.parametrize("markup", VALUE_MARKUPS)
def test_value_next_to(markup, loop, page):
    assert on(loop, page, VALUE_MARKUPS[markup], lambda p: value_next_to(p, "App ID", "Application ID")) == GUID


def test_value_next_to_an_absent_label_is_none(loop, page):
    assert on(loop, page, VALUE_MARKUPS["dt/dd"], lambda p: value_next_to(p, "Callback URL")) is None


def test_value_next_to_within_a_scope(loop, page):
    html = (f"<section id=a><dl><dt>App ID</dt><dd>other</dd></dl></section>"
            f"<section id=b><dl><dt>App ID</dt><dd>{GUID}</dd></dl></section>")
    assert on(loop, page, html, lambda p: value_next_to(p.locator("#b"), "App ID")) == GUID


# ---- entries ----------------------------------------------------------------------------------------
CALLBACK = "https://app.terraform.io/auth/1234/callback"
ENTRY_MARKUPS = {
    "cards": "<h1>VCS Providers</h1><a href=/add>Add VCS Provider</a>"
             "<div><div><h3>One</h3><p>Callback URL</p><code>https://t/auth/1/callback</code></div>"
             f"<div><h3>Azure DevOps Services</h3><p>Callback URL</p><code>{CALLBACK}</code>"
             "<a href=/version-control/oc-2/edit>Edit</a></div></div>",
    "a single card": "<h1>VCS Providers</h1><a href=/add>Add VCS Provider</a>"
                     f"<div><div><h3>Azure DevOps Services</h3><dl><dt>Callback URL</dt><dd>{CALLBACK}</dd></dl>"
                     "<a href=/version-control/oc-2/edit>Edit</a></div></div>",
    "table rows": "<h1>VCS Providers</h1><table><tr><th>Name</th><th>Callback URL</th><th></th></tr>"
                  "<tr><td>One</td><td>https://t/auth/1/callback</td><td></td></tr>"
                  f"<tr><td>Azure DevOps Services</td><td>{CALLBACK}</td>"
                  "<td><a href=/version-control/oc-2/edit>Edit</a></td></tr></table>",
    "table with an empty header cell": "<h1>VCS Providers</h1><table>"
                                       "<tr><th>Name</th><th>Callback URL</th><td></td></tr><tr><th scope=row>One</th><td>https://t/auth/1/callback</td><td></td></tr>"
                                       f"<tr><th scope=row>Azure DevOps Services</th><td>{CALLBACK}</td>"
                                       "<td><a href=/version-control/oc-2/edit>Edit</a></td></tr></table>",
    "list items": "<h1>VCS Providers</h1><ul><li><strong>One</strong> Callback URL https://t/auth/1/callback</li>"
                  f"<li><strong>Azure DevOps Services</strong> Callback URL {CALLBACK} "
                  "<a href=/version-control/oc-2/edit>Edit</a></li></ul>",
    "articles with hidden copies": "<h1>VCS Providers</h1><template><article><h3>Azure DevOps Services</h3>"
                                   "Callback URL x</article></template>"
                                   "<article><h3>One</h3>Callback URL https://t/auth/1/callback</article>"
                                   f"<article aria-label='Azure DevOps Services'><h3>Azure DevOps Services</h3>"
                                   f"Callback URL <input readonly value='{CALLBACK}'>"
                                   "<a href=/version-control/oc-2/edit>Edit</a></article>",
}


@pytest.mark.parametrize("markup", ENTRY_MARKUPS)
def test_entry_named(markup, loop, page):
    async def check(p):
        found = await entries(p, ("Callback URL",), ("Add VCS Provider",))
        named = await entry_named(p, "azure devops services", ("OAuth Token ID", "Callback URL"), ("Add VCS Provider",))
        assert named is not None
        view = await describe(named)
        return len(found), view.name, CALLBACK in view.text, [link["href"] for link in view.links]
    count, name, has_callback, hrefs = on(loop, page, ENTRY_MARKUPS[markup], check)
    assert count == (1 if markup == "a single card" else 2)
    assert name == "Azure DevOps Services" and has_callback and "/version-control/oc-2/edit" in hrefs


def test_value_next_to_inside_an_entry_of_a_table(loop, page):
    async def check(p):
        entry = await entry_named(p, "Azure DevOps Services", ("Callback URL",))
        return await value_next_to(entry, "Callback URL")
    assert on(loop, page, ENTRY_MARKUPS["table rows"], check) == CALLBACK


# ---- find: cheap first, shown only, strict, drift with the nearest words -------------------------------
BUTTON_MARKUPS = {
    "button": "<button>Create VCS provider</button>",
    "link styled as a button": "<a href=# class=btn>Create VCS Provider</a>",
    "div with role button": "<div role=button tabindex=0>create vcs provider</div>",
    "input submit": "<form><input type=submit value='Create VCS provider'></form>",
    "hidden copies first": "<template><button>Create VCS provider</button></template>"
                           "<button style=display:none>Create VCS provider</button>"
                           "<button style='position:absolute;left:-10000px'>Create VCS provider</button>"
                           "<form><button type=submit id=real>Create VCS provider</button></form>",
}


@pytest.mark.parametrize("markup", BUTTON_MARKUPS)
def test_find_a_control_by_its_words(markup, loop, page):
    async def check(p):
        found = await find(p, Where("S", "P"), "step", "the button", css("form button[type=submit]"),
                           *control("Create VCS provider"))
        return await found.evaluate("e => e.getBoundingClientRect().left >= 0"), (await found.inner_text()
                                                                                 or await found.input_value())
    shown, words = on(loop, page, BUTTON_MARKUPS[markup], check)
    assert shown and words.lower() == "create vcs provider"


def test_a_hidden_match_of_a_cheap_candidate_never_wins(loop, page):
    """The closed menu's "Sign out" submit button matches the CSS fallback first in the document."""
    async def check(p):
        found = await find(p, Where("S", "P"), "step", "the button", css("form button[type=submit]"),
                           *control("Create VCS provider"), timeout=3000)
        return await found.inner_text()
    html = "<div><button disabled>Create VCS provider</button></div><a href=#>Create VCS provider</a>"
    assert on(loop, page, html, check) == "Create VCS provider"


FIELD_MARKUPS = {
    "label for": "<label for=n>App ID</label><input id=n>",
    "wrapping label with marker": "<label>App ID <span>*</span><input></label>",
    "aria-labelledby": "<span id=t>App ID</span><input aria-labelledby=t>",
    "placeholder only": "<input placeholder='App ID'>",
    "hidden copy in a second form": "<form hidden><label>App ID<input></label></form><input placeholder='App ID'>",
}


@pytest.mark.parametrize("markup", FIELD_MARKUPS)
def test_find_a_field_by_its_label(markup, loop, page):
    async def check(p):
        found = await find(p, Where("S", "P"), "fill", "the App ID field", *text_field("App ID"), timeout=3000)
        await found.fill(GUID)
        return await p.evaluate("() => Array.from(document.querySelectorAll('input')).map(i => i.value)")
    assert on(loop, page, FIELD_MARKUPS[markup], check).count(GUID) == 1


def test_strict_matching_refuses_two_shown_matches(loop, page):
    async def check(p):
        with strict_matching(3000):
            await find(p, Where("Terraform Cloud", "VCS Providers"), "add", "the add button",
                       *control("Add VCS Provider"))
    with pytest.raises(AmbiguousElement, match="found more than once"):
        on(loop, page, "<button>Add VCS Provider</button><div><button>add vcs provider</button></div>", check)


def test_drift_names_the_nearest_words_on_the_page(loop, page):
    async def check(p):
        await find(p, Where("Terraform Cloud", "add VCS provider"), "submit", '"Create VCS provider" button',
                   role("button", "Create VCS provider", "Create VCS Provider"), timeout=1000)
    with pytest.raises(DriftError) as error:
        on(loop, page, "<h2>Azure DevOps Services</h2><button>Sign out</button><button>Create provider</button>", check)
    message = str(error.value)
    assert message.startswith('Terraform Cloud / add VCS provider / submit: could not find "Create VCS provider"')
    assert 'nearest on the page: "Create provider" (button)' in message


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


# ---- the page-side reading (locate.js findFirst) agrees with Playwright's engines ------------------------
AGREE = {
    "named by aria-label, not text": ("<button aria-label='Close dialog'>X</button><button>Close dialog</button>",
                                      role("button", "Close dialog")),
    "link with an image's alt": ("<a href=/x><img alt='Add provider' src=data:,></a>", role("link", "Add provider")),
    "heading of a level": ("<h2>VCS Providers</h2><h1>VCS Providers</h1>",
                           role_matching("heading", re.compile("VCS Providers"), "h1", level=1)),
    "aria-hidden copy first": ("<div aria-hidden=true><button>Connect</button></div><button>Connect</button>",
                               role("button", "Connect")),
    "checkbox by its label": ("<label><input type=checkbox> Code (read)</label>"
                              "<label><input type=checkbox> Code</label>", role("checkbox", "Code")),
    "explicit role over the tag's": ("<button>Cancel</button><a href=# role=button>Save</a><button>Save</button>",
                                     role("button", "Save")),
    "option of a listbox": ("<ul role=listbox><li role=option>GitHub</li>"
                            "<li role=option>Azure DevOps Services</li></ul>", role("option", "Azure DevOps Services")),
    "label by aria-labelledby": ("<span id=l>Client Secret</span><input aria-labelledby=l><input aria-label=Other>",
                                 label("Client Secret")),
    "the deepest text": ("<div><p>Callback URL <b>Callback URL</b></p></div>", text("Callback URL")),
    "text in a listbox only": ("<p>Azure DevOps Services</p><div role=listbox><span>Azure DevOps Services</span></div>",
                               inside('[role="listbox"]', text("Azure DevOps Services"))),
    "an alert with words": ("<div role=alert></div><div role=alert>Registration is closed</div>",
                            having(role("alert"), re.compile("closed"))),
    "placeholder": ("<input placeholder='Name'><input placeholder='App ID'>", text_field("App ID")[1]),
}


@pytest.mark.parametrize("case", AGREE)
def test_the_page_side_reading_finds_what_playwright_finds(case, loop, page):
    html, candidate = AGREE[case]

    async def check(p):
        mine, theirs = await shown_now(p, candidate), await present(p, candidate)
        assert mine is not None and theirs is not None
        return await p.evaluate("([a, b]) => a === b", [await mine.element_handle(), await theirs.element_handle()])
    assert on(loop, page, html, check)


def test_what_the_page_side_reading_misses_playwright_finds(loop, page):
    """A button in a shadow root: locate.js does not look there, Playwright's engines do (within a second)."""
    async def check(p):
        await p.evaluate("""() => { const host = document.createElement('div');
                                    document.querySelector('main').append(host);
                                    host.attachShadow({mode: 'open'}).innerHTML = '<button>Connect</button>'; }""")
        missed = await shown_now(p, role("button", "Connect"))
        found = await find(p, Where("S", "P"), "step", "the button", role("button", "Connect"), timeout=3000)
        return missed, await found.inner_text()
    missed, words = on(loop, page, "<h1>Shadow</h1>", check)
    assert missed is None and words == "Connect"


def test_first_of_answers_which_group_shows(loop, page):
    async def check(p):
        await p.evaluate("""() => setTimeout(() => document.querySelector('main').insertAdjacentHTML(
            'beforeend', '<div role=alert>Name is required</div>'), 300)""")
        key, element = await first_of(p, {"details": (text("App ID"),), "errors": (role("alert"),)}, 5_000)
        return key, await element.inner_text()
    assert on(loop, page, "<h1>Register</h1>", check) == ("errors", "Name is required")


def test_find_each_finds_a_form_in_one_look_and_names_what_is_missing(loop, page):
    async def check(p):
        fields = await find_each(p, Where("S", "P"), "fill", {"App ID field": text_field("App ID"),
                                                              "Name field": text_field("Name")})
        for field, value in zip(fields.values(), ("id", "name"), strict=True):
            await field.fill(value)
        filled = await p.evaluate("() => Array.from(document.querySelectorAll('input')).map(i => i.value)")
        with pytest.raises(DriftError, match="Secret field"):
            await find_each(p, Where("S", "P"), "fill", {"Name field": text_field("Name"),
                                                         "Secret field": text_field("Client Secret")}, timeout=500)
        return filled
    assert on(loop, page, "<label>Name <input></label><label for=a>App ID</label><input id=a>", check) == ["name", "id"]


def test_a_found_element_the_page_renders_again_is_still_the_one_acted_on(loop, page):
    """A framework's re-render replaces the button between find and click: the click reaches the new one."""
    async def check(p):
        button = await find(p, Where("S", "P"), "step", "the button", role("button", "Save"))
        await p.evaluate("""() => { const old = document.querySelector('#save');
            const fresh = document.createElement('button'); fresh.textContent = 'Save';
            fresh.onclick = () => { window.saved = true; }; old.replaceWith(fresh); }""")
        await button.click(timeout=3_000)
        return await p.evaluate("() => window.saved === true")
    assert on(loop, page, "<form onsubmit='return false'><button id=save type=button>Save</button></form>", check)


def test_each_question_reads_the_page_as_it_is_now(loop, page):
    """locate.js stays in the document between questions; what it learnt in one look is not the next's answer."""
    async def check(p):
        before = await value_next_to(p, "App ID")
        await p.evaluate("() => { document.querySelector('dd').textContent = 'changed'; }")
        return before, await value_next_to(p, "App ID")
    assert on(loop, page, VALUE_MARKUPS["dt/dd"], check) == (GUID, "changed")


BLOCK_MARKUPS = {  # markup -> the words of the block around "Applications and services" and "Create new application"
    "sections": "<section><h2>Other</h2><a href=#>Create new organization</a></section>"
                "<section><h2>Applications and services</h2><ul><li><a href=#>app</a></li></ul>"
                "<a href=#>Create new application</a></section>",
    "cards with a hidden copy": "<div class=card style='display:none'><h3>Applications and services</h3>"
                                "<a href=#>Create new application</a></div>"
                                "<div class=card><span role=heading>Applications and services</span>"
                                "<div><button>Create new application</button></div></div>",
}
BLOCK_WORDS = {"sections": "Applications and services app Create new application",
               "cards with a hidden copy": "Applications and services Create new application"}


@pytest.mark.parametrize("markup", BLOCK_MARKUPS)
def test_block_of_is_the_smallest_block_around_what_shows(markup, loop, page):
    async def check(p):
        block = await block_of(p, (role("heading", "Applications and services"), text("Applications and services")),
                               control("Create new application"), timeout=3_000)
        return " ".join((await block.inner_text()).split())
    assert on(loop, page, BLOCK_MARKUPS[markup], check) == BLOCK_WORDS[markup]


def test_wait_enabled_waits_for_every_shown_button(loop, page):
    async def check(p):
        await p.evaluate("() => setTimeout(() => document.querySelectorAll('button')"
                         ".forEach(b => { b.disabled = false; }), 300)")
        await wait_enabled(p, role("button", "Connect"), 3_000)
        await p.evaluate("() => [...document.querySelectorAll('button')].find(b => b.textContent === 'Connect')"
                         ".setAttribute('aria-disabled', 'true')")
        with pytest.raises(PlaywrightTimeout):
            await wait_enabled(p, role("button", "Connect"), 500)
        return True
    assert on(loop, page, "<button disabled>Connect</button><div><button disabled>Connect</button></div>", check)


def test_a_question_inside_a_found_element_the_page_replaced_waits_for_it(loop, page):
    """A tagged element is read from the page directly; while the page has dropped it, the locator's own wait
    takes over (until the element is back, as a re-render brings it)."""
    async def check(p):
        entry = (await entries(p, (r"^\s*Show\s*$",)))[0]
        first = (await describe(entry)).text
        await p.evaluate("""() => { const old = document.querySelector('li'), list = old.parentElement;
            old.remove(); setTimeout(() => list.append(old.cloneNode(true)), 300); }""")
        return first, (await describe(entry)).text
    first, again = on(loop, page, "<ul><li>secret one <button>Show</button></li>"
                                  "<li>secret two <button>Show</button></li></ul>", check)
    assert first.strip() == again.strip() == "secret one"
