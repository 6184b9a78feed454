"""robot/locate/reading.py: the value next to a label, the entries of a list and what each shows, the block
around parts, readiness of controls; on tables of small markups in Chromium."""
from __future__ import annotations

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout

from robot.locate import block_of, control, describe, entries, entry_named, role, text, value_next_to, wait_enabled
from tests.locate_page import GUID, fixtures, on

loop, page = fixtures()


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
    "label and value in one element": f"<ul><li>Name: app</li><li>App ID: {GUID}</li></ul>",
    "label in other words, in one line": f"<p><span>Your app ID: {GUID}</span></p>",
    "label in capitals with a colon": f"<dl><dt>APP ID:</dt><dd>{GUID}</dd></dl>",
    "label with a word of context": f"<dl><dt>Current App ID</dt><dd>{GUID}</dd></dl>",
    "hidden copy first": f'<template><dl><dt>App ID</dt><dd>wrong</dd></dl></template>'
                         f'<dl style="display:none"><dt>App ID</dt><dd>wrong</dd></dl>'
                         f'<dl style="position:absolute;left:-10000px"><dt>App ID</dt><dd>wrong</dd></dl>'
                         f'<dl><dt>App ID</dt><dd>{GUID}</dd></dl>',
}


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
    "a plain list of one, label and value in one element": "<h1>VCS Providers</h1><ul aria-label='VCS Providers'>"
                                                           "<li><span>Azure DevOps Services</span> "
                                                           f"<span>Callback URL: {CALLBACK}</span> "
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
    assert count == (1 if markup.startswith(("a single card", "a plain list of one")) else 2)
    assert name == "Azure DevOps Services" and has_callback and "/version-control/oc-2/edit" in hrefs


def test_value_next_to_inside_an_entry_of_a_table(loop, page):
    async def check(p):
        entry = await entry_named(p, "Azure DevOps Services", ("Callback URL",))
        return await value_next_to(entry, "Callback URL")
    assert on(loop, page, ENTRY_MARKUPS["table rows"], check) == CALLBACK


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
