"""robot/locate/finding.py: finding elements by role, label, placeholder, text and CSS (the page-side reading and
Playwright's engines agreeing), shown ones only, strict mode, drift reports; on tables of small markups."""
from __future__ import annotations

import re

import pytest

from robot.errors import AmbiguousElement, DriftError
from robot.locate import (
    Where,
    control,
    css,
    find,
    find_each,
    first_of,
    having,
    inside,
    label,
    present,
    role,
    role_matching,
    shown_now,
    strict_matching,
    text,
    text_field,
    value_next_to,
)
from tests.locate_page import GUID, fixtures, on

loop, page = fixtures()


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
    assert on(loop, page, f"<dl><dt>App ID</dt><dd>{GUID}</dd></dl>", check) == (GUID, "changed")
