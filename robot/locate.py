"""Finding things the way a person does, whatever the HTML: by role, label and visible text.

- `find` waits for the first of several candidates (role, label, placeholder, text, CSS) to show, with
  no sleeping: locate.js reads the page for them (again whenever the page changes) and tags the element
  found, so the action on it needs no role or text engine; each second it finds nothing, Playwright's
  own engines look too. CSS candidates win over the others; a hidden or off-screen match never wins
  over a shown one. When nothing matches it raises `DriftError` naming the site, page, step, element,
  every candidate and the nearest words shown on the page. `first_of` waits for whichever of several
  things shows first, `find_each` finds a form's fields in one look.
- `value_next_to` reads the value shown next to a label: a labelled element, a `dt`/`dd` pair, a row
  header and its cell, a column header and the cell below, or a label followed by its value.
- `entries` finds the rows, items or cards that each hold one thing (a provider, a secret, a token),
  and `describe` reads one.
The page-side work is in robot/data/locate.js, one `evaluate` per question.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import difflib
import hashlib
import json
import re
import secrets
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Locator, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from .errors import AmbiguousElement, DriftError

DEFAULT_TIMEOUT_MS = 15_000
_LIBRARY = resources.files("robot").joinpath("data/locate.js").read_text(encoding="utf-8")
# locate.js is kept in each document (window.__vcsRobotLocate, its version checked), put there by `install`:
# a question sends a few hundred bytes naming its functions; in a document without it (a context not
# installed), the question is asked again carrying the library (26 KB).
_VERSION = hashlib.sha256(_LIBRARY.encode()).hexdigest()[:12]
_EXPORTS = ", ".join(re.findall(r"^function (\w+)", _LIBRARY, re.M))
_MISSING = "__vcs-robot-locate-missing__"
_KEPT = f"const L = window.__vcsRobotLocate; if (!L || L.v !== '{_VERSION}') return '{_MISSING}';"
_INSTALL = f"window.__vcsRobotLocate = (() => {{ {_LIBRARY}; return {{ v: '{_VERSION}', {_EXPORTS} }}; }})();"
_KEEP = f"{_INSTALL} const L = window.__vcsRobotLocate;"
_SHOWN = re.search(r"^const NOT_CONTENT.*?^function shown\(el\) \{.*?^\}$", _LIBRARY, re.S | re.M).group(0)  # type: ignore[union-attr]
_ON_SCREEN = f"(els) => {{ {_SHOWN}; return els.map(shown); }}"
_strict: contextvars.ContextVar[bool] = contextvars.ContextVar("strict", default=False)
_timeout: contextvars.ContextVar[float] = contextvars.ContextVar("timeout", default=DEFAULT_TIMEOUT_MS)
# The roles the robot looks for (a subset of Playwright's ARIA roles).
Role = Literal["alert", "alertdialog", "article", "button", "cell", "checkbox", "columnheader", "combobox",
               "definition", "dialog", "grid", "gridcell", "group", "heading", "link", "list", "listbox", "listitem",
               "menu", "menuitem", "navigation", "option", "radio", "region", "row", "rowheader", "searchbox",
               "status", "switch", "tab", "table", "term", "textbox"]
State = Literal["attached", "detached", "hidden", "visible"]
Scope = Page | Locator


@contextlib.contextmanager
def strict_matching(timeout_ms: float = DEFAULT_TIMEOUT_MS) -> Iterator[None]:
    """Within: an element found by `find` must be shown exactly once, and is waited for at most
    `timeout_ms` (the UI check's mode)."""
    tokens = _strict.set(True), _timeout.set(timeout_ms)
    try:
        yield
    finally:
        _strict.reset(tokens[0])
        _timeout.reset(tokens[1])


def _words(variant: str) -> str:
    """A variant's words as a pattern, spaces relaxed; "/" escaped too (Playwright writes patterns as /.../)."""
    return r"\s+".join(re.escape(word).replace("/", r"\/") for word in variant.split())


def names(*variants: str) -> re.Pattern:
    """An accessible-name pattern matching any variant exactly, case-insensitively, spaces relaxed."""
    alternatives = "|".join(_words(v) for v in variants)
    return re.compile(rf"^\s*(?:{alternatives})\s*$", re.IGNORECASE)


def field_names(*variants: str) -> re.Pattern:
    """A field's label: any variant, tolerating a required marker ("*" or "(required)") after it."""
    alternatives = "|".join(_words(v) for v in variants)
    return re.compile(rf"^\s*(?:{alternatives})\s*:?\s*(?:\*|\(required\))?\s*$", re.IGNORECASE)


# ---- candidates -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One way to find an element: a description for error messages, how to build the locator, its cost
    (0: ids and CSS, evaluated cheaply; 1: accessible-name and label chains), the words it looks for, and
    the same question for locate.js's `findFirst` (`spec`; None: only Playwright's engines can answer it)."""

    description: str
    build: Callable[[Scope], Locator]
    cost: int = 1
    words: tuple[str, ...] = field(default=())
    spec: dict[str, Any] | None = None


def _js(pattern: re.Pattern | None) -> list[str] | None:
    """A regular expression as JavaScript's RegExp takes it: source and flags."""
    if pattern is None:
        return None
    return [pattern.pattern, "".join(f for f, bit in (("i", re.IGNORECASE), ("s", re.DOTALL), ("m", re.MULTILINE))
                                     if pattern.flags & bit)]


def _spec(kind: str, pattern: re.Pattern | None = None, **more: str) -> dict[str, Any]:
    """A candidate as locate.js reads it: its kind and name pattern, and what else it must hold."""
    return {"kind": kind, "name": _js(pattern), **more}


def inside(selector: str, candidate: Candidate) -> Candidate:
    """`candidate`, only inside an element of CSS `selector`."""
    build = candidate.build
    spec = candidate.spec and {**candidate.spec, "inside": selector}
    return Candidate(f"{selector} {candidate.description}", lambda s: build(s.locator(selector)), candidate.cost,
                     candidate.words, spec)


def having(candidate: Candidate, pattern: re.Pattern) -> Candidate:
    """`candidate`, only where its text matches `pattern` (Playwright's has_text)."""
    build = candidate.build
    spec = candidate.spec and {**candidate.spec, "has": _js(pattern)}
    return Candidate(f"{candidate.description} has~/{pattern.pattern}/", lambda s: build(s).filter(has_text=pattern),
                     candidate.cost, candidate.words, spec)


def role(kind: Role, *variants: str) -> Candidate:
    """An element of ARIA role `kind` named any of `variants` (any name when none is given)."""
    if not variants:
        return Candidate(f"role={kind}", lambda s: s.get_by_role(kind), spec=_spec("role", role=kind))
    return role_matching(kind, names(*variants), f'role={kind} name~"{"|".join(variants)}"', variants)


def role_matching(kind: Role, pattern: re.Pattern, description: str, words: tuple[str, ...] = (),
                  level: int | None = None) -> Candidate:
    """An element of ARIA role `kind` whose accessible name matches `pattern` (a heading: of `level`)."""
    if level is None:
        return Candidate(description, lambda s: s.get_by_role(kind, name=pattern), words=words,
                         spec=_spec("role", pattern, role=kind))
    return Candidate(description, lambda s: s.get_by_role(kind, name=pattern, level=level), words=words,
                     spec={**_spec("role", pattern, role=kind), "level": level})


def label(*variants: str) -> Candidate:
    pattern = field_names(*variants)
    return Candidate(f'label~"{"|".join(variants)}"', lambda s: s.get_by_label(pattern), words=variants,
                     spec=_spec("label", pattern))


def text(*variants: str) -> Candidate:
    return text_matching(names(*variants), f'text~"{"|".join(variants)}"', variants)


def text_matching(pattern: re.Pattern, description: str, words: tuple[str, ...] = ()) -> Candidate:
    """The element whose own text (all of it, with its children's) matches `pattern`."""
    return Candidate(description, lambda s: s.get_by_text(pattern), words=words, spec=_spec("text", pattern))


def css(selector: str) -> Candidate:
    return Candidate(f"css={selector}", lambda s: s.locator(selector), cost=0, spec=_spec("css", selector=selector))


def text_field(*variants: str) -> tuple[Candidate, ...]:
    """A text field by what names it: its label (`for`, wrapping, aria-labelledby or aria-label), or
    only a placeholder."""
    pattern = field_names(*variants)
    return (label(*variants),
            Candidate(f'placeholder~"{"|".join(variants)}"', lambda s: s.get_by_placeholder(pattern),
                      words=variants, spec=_spec("placeholder", pattern)))


def control(*variants: str) -> tuple[Candidate, ...]:
    """Something to click named by its words: a button, or a link styled as one."""
    return role("button", *variants), role("link", *variants)


def control_matching(pattern: str) -> tuple[Candidate, ...]:
    """A button or link whose name matches a regular expression (case-insensitively): for words that vary,
    such as "Skip for now (14 days until this is required)"."""
    regex = re.compile(pattern, re.IGNORECASE)
    return (role_matching("button", regex, f"role=button name~/{pattern}/"),
            role_matching("link", regex, f"role=link name~/{pattern}/"))


def visible_label(*variants: str) -> Candidate:
    """A field by its label, shown ones only (kept for callers that build locators themselves)."""
    pattern = field_names(*variants)
    return Candidate(f'visible label~"{"|".join(variants)}"', lambda s: s.get_by_label(pattern).filter(visible=True),
                     words=variants, spec=_spec("label", pattern))


def role_alert() -> Candidate:
    return role("alert")


@dataclass(frozen=True)
class Where:
    """Which site, page and step a lookup belongs to (for drift reports)."""

    site: str
    page: str


# ---- documents ----------------------------------------------------------------------------------
_navigations: weakref.WeakKeyDictionary[Page, list[int]] = weakref.WeakKeyDictionary()


_ready: weakref.WeakKeyDictionary[Page, dict[str, int]] = weakref.WeakKeyDictionary()


def is_ready(page: Page, what: str) -> bool:
    """Whether `what` (a page object's readiness) was seen in the page's current document."""
    return _ready.get(page, {}).get(what) == document_of(page)


def mark_ready(page: Page, what: str) -> None:
    _ready.setdefault(page, {})[what] = document_of(page)


def document_of(page: Page) -> int:
    """A number that changes whenever the page's main frame navigates: a page object that has waited for
    a page to be ready need not wait again until it changes."""
    if page not in _navigations:
        count = _navigations[page] = [0]

        def navigated(frame: Any) -> None:
            if frame.parent_frame is None:
                count[0] += 1
        page.on("framenavigated", navigated)
    return _navigations[page][0]


# ---- finding --------------------------------------------------------------------------------------
def page_of(scope: Scope) -> Page:
    return scope if isinstance(scope, Page) else scope.page


_tag_selectors: weakref.WeakKeyDictionary[Locator, str] = weakref.WeakKeyDictionary()


def _tagged(scope: Scope, kind: str, tag: str) -> Locator:
    """The element locate.js tagged `tag` (its attribute data-vcs-robot-`kind`; tags accumulate)."""
    selector = f'[data-vcs-robot-{kind}~="{tag}"]'
    locator = page_of(scope).locator(selector)
    _tag_selectors[locator] = selector  # a question asked inside it finds it in the page (see _run)
    return locator


async def _first_shown(loc: Locator, or_visible: bool = False) -> Locator | None:
    """The first match that is shown on screen (a visible but off-screen copy does not count); with
    `or_visible`, when only such copies match (`loc` filtered visible), the first of them."""
    flags = await loc.evaluate_all(_ON_SCREEN)
    first = next((loc.nth(i) for i, ok in enumerate(flags) if ok), None)
    return loc.first if first is None and flags and or_visible else first


def _union(locators: list[Locator]) -> Locator:
    union = locators[0]
    for loc in locators[1:]:
        union = union.or_(loc)
    return union


async def find(scope: Scope, where: Where, step: str, element: str, *candidates: Candidate,
               timeout: float | None = None, state: State = "visible") -> Locator:
    """Waits until a candidate shows and returns its first shown match; raises DriftError when none does.

    The cheap candidates (ids, CSS) win over the others; among those, the first shown in document order
    (candidates name the same element). A hidden or off-screen match never wins over a shown one."""
    timeout = _timeout.get() if timeout is None else timeout
    if state != "visible":
        union = _union([c.build(scope) for c in candidates])
        await union.first.wait_for(state=state, timeout=timeout)
        return union.first
    try:
        hit = await wait_shown(scope, *candidates, timeout=timeout)
    except PlaywrightTimeout:
        raise await drift(scope, where, step, element, [c.description for c in candidates],
                          [w for c in candidates for w in c.words]) from None
    if _strict.get():
        await _only_one([(c, c.build(scope).filter(visible=True)) for c in candidates], where, step, element, scope)
    return hit


async def find_each(scope: Scope, where: Where, step: str, elements: dict[str, tuple[Candidate, ...]],
                    timeout: float | None = None) -> dict[str, Locator]:
    """`find` for the elements of one form at once (keys: the elements' descriptions): one look at the page
    when it shows them all, else each found (and waited for) as `find` does."""
    if all(c.spec for group in elements.values() for c in group):
        tag = secrets.token_hex(6)
        if await _evaluate(scope, "findEach", {"groups": [[c.spec for c in g] for g in elements.values()], "tag": tag}):
            return {name: _tagged(scope, "find", f"{tag}-{i}") for i, name in enumerate(elements)}
    return {name: await find(scope, where, step, name, *group, timeout=timeout) for name, group in elements.items()}


async def checkboxes_to_set(scope: Scope, labels: list[str]) -> tuple[list[int], list[Locator], list[Locator]]:
    """For checking exactly the boxes named `labels` (in `scope`, one look): how many shown boxes each label
    names, the box of each label named once, and the other checked boxes."""
    tag = secrets.token_hex(6)
    found = await _evaluate(scope, "checkboxesToSet", {"labels": labels, "tag": tag})
    wanted = [_tagged(scope, "find", f"{tag}-want-{i}") for i, n in enumerate(found["counts"]) if n == 1]
    return found["counts"], wanted, [_tagged(scope, "find", f"{tag}-drop-{j}") for j in range(found["drop"])]


async def wait_shown(scope: Scope, *candidates: Candidate, timeout: float = DEFAULT_TIMEOUT_MS) -> Locator:
    """`find` without the drift report: the first shown match of the candidates; PlaywrightTimeout when none
    shows in time (for races of what a page may show next)."""
    if all(c.spec for c in candidates):
        return (await first_of(scope, {"": candidates}, timeout))[1]
    built = [(c, c.build(scope).filter(visible=True)) for c in candidates]
    hit = await _find_by_playwright(built, _union([loc for _, loc in built]), timeout)
    if hit is None:
        raise PlaywrightTimeout(f"Timeout {timeout:.0f}ms exceeded waiting for {candidates[0].description}")
    return hit


async def first_of(scope: Scope, groups: dict[str, tuple[Candidate, ...]],
                   timeout: float = DEFAULT_TIMEOUT_MS) -> tuple[str, Locator]:
    """Which of several things a page may show next shows first (the first of `groups` when several show at
    once: one look at the page answers for all), and its element; PlaywrightTimeout when none shows in time.
    Candidates without a page-side question are answered by Playwright's engines, once a second."""
    keys = list(groups)
    hit = await _find_in_page(scope, [groups[key] for key in keys], timeout)
    if hit is None:
        raise PlaywrightTimeout(f"Timeout {timeout:.0f}ms exceeded waiting for any of {', '.join(keys)}")
    return keys[hit[0]], hit[1]


_SLICE_MS = 1_000
_FIND = "(arg, root) => findFirst(root, arg)"


async def _find_in_page(scope: Scope, groups: list[tuple[Candidate, ...]],
                        timeout: float) -> tuple[int, Locator] | None:
    """The cheap path: locate.js looks for the groups of candidates in the page, again whenever the page
    changes, and tags the element found; the action on it then needs no role or text engine (one round trip
    when the element shows). Each second it has found nothing, Playwright's own engines look too: markup
    the page-side reading misses (shadow DOM, exotic names) costs at most that second. Which group showed
    (its index) and the element."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout / 1000
    tag = secrets.token_hex(6)
    arg = {"groups": [[c.spec for c in group if c.spec] for group in groups], "tag": tag}
    while (left := (deadline - loop.time()) * 1000) > 0:
        with contextlib.suppress(PlaywrightTimeout):
            if number := await until(scope, _FIND, arg, min(left, _SLICE_MS)):
                return number - 1, _tagged(scope, "find", tag)
        for index, group in enumerate(groups):
            if hit := await _first_shown(_union([c.build(scope).filter(visible=True) for c in group]), or_visible=True):
                return index, hit
    return None


async def _find_by_playwright(built: list[tuple[Candidate, Locator]], union: Locator, timeout: float) -> Locator | None:
    """Playwright's engines only: the cheap candidates looked at once, then the union waited for."""
    cheap = [loc for c, loc in built if c.cost == 0]
    hit = await _first_shown(_union(cheap)) if cheap else None
    if hit is None:
        try:
            await union.first.wait_for(state="visible", timeout=timeout)
        except PlaywrightTimeout:
            return None
        hit = await _first_shown(union, or_visible=True)
    return hit


async def _only_one(built: list[tuple[Candidate, Locator]], where: Where, step: str, element: str,
                    scope: Scope) -> None:
    """The check's strict mode: the first candidate that matches must match one shown element."""
    for candidate, loc in built:
        if n := sum(await loc.evaluate_all(_ON_SCREEN)):
            if n > 1:
                raise AmbiguousElement(where.site, where.page, step, element,
                                       f"{n} shown matches of {candidate.description}", plain_url(page_of(scope).url))
            return


async def present(scope: Scope, *candidates: Candidate) -> Locator | None:
    """The first match of the candidates shown right now, or None (no waiting, one round trip)."""
    return await _first_shown(_union([c.build(scope).filter(visible=True) for c in candidates]))


async def shown_now(scope: Scope, *candidates: Candidate) -> Locator | None:
    """The first match shown right now by the page-side reading alone (one round trip), or None. A miss is
    no proof of absence (Playwright's engines may find what it misses): for skipping a wait, not deciding."""
    if not all(c.spec for c in candidates):
        return await present(scope, *candidates)
    tag = secrets.token_hex(6)
    if await _evaluate(scope, "findFirst", {"groups": [[c.spec for c in candidates]], "tag": tag}):
        return _tagged(scope, "find", tag)
    return None


async def drift(scope: Scope, where: Where, step: str, element: str, tried: list[str], wanted: list[str],
                ) -> DriftError:
    """The DriftError for an element not found (`tried`: how it was looked for; `wanted`: the words it
    shows), naming the nearest words shown on the page."""
    error = DriftError(where.site, where.page, step, element, tried, plain_url(page_of(scope).url))
    nearest = await nearest_words(scope, wanted) if wanted else None
    if nearest:
        error.args = (f"{error.args[0]}; nearest on the page: {nearest}",)
        error.nearest = nearest
    return error


async def nearest_words(scope: Scope, wanted: list[str]) -> str | None:
    """The shown words (of a button, link, heading, label...) most like one of `wanted`, with their kind."""
    try:
        shown = await _evaluate(scope, "shownWords", None)
    except Exception:  # noqa: BLE001 - a page gone or navigating: no hint
        return None
    best, score = None, 0.0
    for words, kind in shown:
        for want in wanted:
            ratio = difflib.SequenceMatcher(None, want.lower(), words.lower()).ratio()
            if want.lower() in words.lower() or words.lower() in want.lower():
                ratio = max(ratio, 0.8)
            if ratio > score:
                best, score = f'"{words}" ({kind})', ratio
    return best if score >= 0.6 else None


# ---- reading --------------------------------------------------------------------------------------
async def install(context: BrowserContext) -> None:
    """Puts locate.js in every document of `context` as it loads (an init script): no question then has to
    bring it (a round trip and 26 KB per document otherwise)."""
    await context.add_init_script(script=_INSTALL)


def _script(root: str, body: str, library: str, head: str = "(json)") -> str:
    return f"{head} => {{ {library} const {{ {_EXPORTS} }} = L; newLook(); const input = JSON.parse(json); " \
           f"{root} {body} }}"


_BODY = "const root = document.body || document.documentElement;"
_GONE = "__vcs-robot-element-gone__"


async def _run(scope: Scope, body: str, arg: Any, timeout: float | None = None) -> Any:
    """Runs `body` in the page with locate.js's functions at hand, `input` the argument and `root` the element
    searched in (the body for a page), as a new look (nothing remembered from an earlier call).

    One round trip for a page or an element locate.js tagged (found in the page by its tag); two in a
    document that has no locate.js yet (a context without `install`), and for other locators, whose
    evaluate waits for the element first (at most `timeout`; also a tagged element not in the page now).
    The argument travels as one JSON string: Playwright's own serialization of a nested value costs more
    (in Python, the driver and the page) than the question."""
    arg = json.dumps(arg)
    if isinstance(scope, Page):
        return await _with_library(lambda library: scope.evaluate(_script(_BODY, body, library), arg))
    if selector := _tag_selectors.get(scope):
        root = f"const root = document.querySelector({json.dumps(selector)}); if (!root) return '{_GONE}';"
        value = await _with_library(lambda library: scope.page.evaluate(_script(root, body, library), arg))
        if value != _GONE:
            return value
    return await _with_library(
        lambda library: scope.evaluate(_script("", body, library, "(root, json)"), arg, timeout=timeout))


async def _with_library(ask: Callable[[str], Awaitable[Any]]) -> Any:
    """`ask(library)`'s answer: asked with the library kept in the document, again bringing it when missing."""
    for library in (_KEPT, _KEEP):
        if (value := await ask(library)) != _MISSING:
            return value
    raise AssertionError("unreachable: the second script brings locate.js")


async def _evaluate(scope: Scope, function: str, arg: Any) -> Any:
    return await _run(scope, f"return {function}(root, input);", arg)


async def choose_option(control: Locator, *options: str, timeout: float = 5_000) -> str | None:
    """Picks the first of `options` a drop-down offers, whether a native <select> or a combobox that opens
    a list of options; returns the text chosen, or None when none of them is offered."""
    if await control.evaluate("e => e.tagName === 'SELECT'"):
        offered = await control.evaluate("e => Array.from(e.options).map(o => o.label || o.textContent)")
        for option in options:
            pattern = names(option)
            if text := next((t for t in offered if pattern.match(t)), None):
                await control.select_option(label=text)
                return option
        return None
    if await control.get_attribute("aria-expanded") != "true":
        await control.click()
    page = page_of(control)
    shown = page.get_by_role("option").filter(visible=True)
    try:
        await shown.first.wait_for(state="visible", timeout=timeout)
    except PlaywrightTimeout:
        return None
    for option in options:
        item = page.get_by_role("option", name=names(option)).filter(visible=True)
        if hit := await _first_shown(item):
            await hit.click()
            return option
    await page.keyboard.press("Escape")
    return None


async def value_next_to(scope: Scope, *labels: str) -> str | None:
    """The value shown next to a label (any of `labels`), or None when no shown label has one."""
    return await _evaluate(scope, "valueNextTo", list(labels))


async def wait_for_value(page: Page, labels: tuple[str, ...], value: str, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    """Waits until the value shown next to a label is `value`."""
    await until(page, "arg => valueNextTo(document.body, arg.labels) === arg.value",
                {"labels": list(labels), "value": value}, timeout)


async def wait_enabled(scope: Scope, candidate: Candidate, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    """Waits until every shown match of `candidate` is enabled (at once when none shows); PlaywrightTimeout."""
    assert candidate.spec, f"{candidate.description}: no question locate.js can answer"
    await until(scope, """(spec, root) => matchesOf(root, spec).filter(shown)
        .every(e => !e.disabled && e.getAttribute('aria-disabled') !== 'true')""", candidate.spec, timeout)


async def value_element(scope: Scope, *labels: str) -> Locator | None:
    """The element showing the value next to a label (to mask or click), or None."""
    tag = secrets.token_hex(4)
    if not await _evaluate(scope, "tagValue", {"labels": list(labels), "tag": tag}):
        return None
    return _tagged(scope, "value", tag)


async def entries(scope: Scope, markers: tuple[str, ...], furniture: tuple[str, ...] = ()) -> list[Locator]:
    """Each entry (row, list item, card, region) of a list: the largest block around one shown marker
    (a regular expression its text matches, e.g. "Callback URL"; the first of `markers` found on the page)
    that holds no other marker and none of the page's `furniture` (regular expressions of headings and
    controls outside the entries). In a table whose column header is the marker, each data row."""
    tag = secrets.token_hex(4)
    count = await _evaluate(scope, "entries", {"markers": list(markers), "furniture": list(furniture), "tag": tag})
    return [_tagged(scope, "entry", f"{tag}-{i}") for i in range(count)]


async def wait_for_entries(page: Page, markers: tuple[str, ...], furniture: tuple[str, ...], name: str, count: int,
                           has: str = "", has_not: str = "", timeout: float = DEFAULT_TIMEOUT_MS,
                           name_labels: tuple[str, ...] = ("Name", "Display name")) -> None:
    """Waits until the page lists `count` entries named `name` (whose text matches `has`, and not
    `has_not`)."""
    await until(page, "arg => countNamed(document.body, arg) === arg.count",
                {"markers": list(markers), "furniture": list(furniture), "name": name, "count": count, "has": has,
                 "hasNot": has_not, "nameLabels": list(name_labels)}, timeout)


async def wait_for_filtered_list(page: Page, markers: tuple[str, ...], words: str,
                                 timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    """Waits until a list filtered by `words` shows its answer: every entry shows the words and the list
    shows as many entries as it says it found (a list still loading is not an answer)."""
    await until(page, "arg => filteredListShows(document.body, arg)",
                {"markers": list(markers), "furniture": [], "words": words, "nameLabels": []}, timeout)


@dataclass(frozen=True)
class EntryView:
    """What one entry shows: its name (heading, row header or first words), text, field values and links."""

    name: str
    text: str
    values: list[str]
    links: list[dict[str, str]]


async def describe(entry: Locator, name_labels: tuple[str, ...] = ("Name", "Display name")) -> EntryView:
    """What an entry shows; its name is the value next to one of `name_labels`, else its heading, first
    cell or first words."""
    info = await _run(entry, "return describe(root, input);", list(name_labels))
    return EntryView(info["name"], info["text"], info["values"], info["links"])


async def described_entries(scope: Scope, markers: tuple[str, ...], furniture: tuple[str, ...] = (),
                            name_labels: tuple[str, ...] = ("Name", "Display name")) -> list[tuple[Locator, EntryView]]:
    """`entries` with what each shows (`describe`), read in one look."""
    tag = secrets.token_hex(4)
    views = await _evaluate(scope, "describedEntries", {"markers": list(markers), "furniture": list(furniture),
                                                        "tag": tag, "nameLabels": list(name_labels)})
    return [(_tagged(scope, "entry", f"{tag}-{i}"),
             EntryView(v["name"], v["text"], v["values"], v["links"])) for i, v in enumerate(views)]


async def entry_named(scope: Scope, name: str, markers: tuple[str, ...],
                      furniture: tuple[str, ...] = ()) -> Locator | None:
    """The entry whose name is `name` (case-insensitively), or None."""
    for entry, view in await described_entries(scope, markers, furniture):
        if view.name.lower() == name.strip().lower():
            return entry
    return None


async def block_around(scope: Scope, *parts: Locator, timeout: float = DEFAULT_TIMEOUT_MS) -> Locator:
    """The smallest block holding every one of `parts` (their lowest common ancestor), whatever the
    markup: a form, a panel, a card; for framing screenshots."""
    handles = [await part.first.element_handle(timeout=timeout) for part in parts]
    tag = secrets.token_hex(4)
    await page_of(scope).evaluate("""([elements, tag]) => {
        let block = elements[0];
        while (block.parentElement && !elements.every(e => block.contains(e))) block = block.parentElement;
        block.setAttribute('data-vcs-robot-block', `${block.getAttribute('data-vcs-robot-block') || ''} ${tag}`.trim());
    }""", [handles, tag])
    return _tagged(scope, "block", tag)


_BLOCK = "(arg, root) => blockOf(root, arg)"


async def block_of(scope: Scope, *groups: tuple[Candidate, ...], timeout: float = DEFAULT_TIMEOUT_MS) -> Locator:
    """`block_around` the first shown element of each group of candidates, waited for and framed in one look
    (one round trip). Each second the page-side reading misses one, Playwright's engines look too (as `find`
    does); PlaywrightTimeout when a group shows nothing in time."""
    if not all(c.spec for group in groups for c in group):
        return await block_around(scope, *[await wait_shown(scope, *g, timeout=timeout) for g in groups])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout / 1000
    tag = secrets.token_hex(4)
    arg = {"groups": [[c.spec for c in group] for group in groups], "tag": tag}
    while (left := (deadline - loop.time()) * 1000) > 0:
        with contextlib.suppress(PlaywrightTimeout):
            if await until(scope, _BLOCK, arg, min(left, _SLICE_MS)):
                return _tagged(scope, "block", tag)
        parts = [await present(scope, *group) for group in groups]
        if all(parts):
            return await block_around(scope, *[p for p in parts if p])
    raise PlaywrightTimeout(f"Timeout {timeout:.0f}ms exceeded waiting for the block of {groups[0][0].description}")


async def read(element: Locator, body: str) -> Any:
    """Runs `body` (JavaScript statements returning a value) with `root` the element: one round trip for an
    element the robot found (tagged), two otherwise."""
    return await _run(element, body, None)


# ---- screens ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Screen:
    """A known step of a multi-step page, recognised by what it shows (regular expressions, matched
    case-insensitively against shown words): a heading, a text field (by its label, placeholder, name
    or id), a control (button or link), any text, or a shown element of a CSS selector. Any one cue
    is enough; the first screen of a list that shows one wins."""

    name: str
    headings: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    css: tuple[str, ...] = ()


def _screens(screens: tuple[Screen, ...]) -> list[dict[str, Any]]:
    return [dict(name=s.name, headings=list(s.headings), fields=list(s.fields), controls=list(s.controls),
                 texts=list(s.texts), css=list(s.css)) for s in screens]


async def screen_of(page: Page, screens: tuple[Screen, ...]) -> str | None:
    """The name of the screen showing now, or None."""
    return await _evaluate(page, "screenOf", _screens(screens))


async def next_screen(page: Page, screens: tuple[Screen, ...], previous: str | None, errors: str,
                      timeout: float) -> str | None:
    """Waits until the page shows a screen other than `previous`, or an error (CSS `errors`); returns the
    screen's name, or "error"."""
    return await until(page, """arg => {
            if (arg.errors && errorTexts(document.body, arg.errors).length) return 'error';
            const now = screenOf(document.body, arg.screens);
            return now && now !== arg.previous ? now : false; }""",
        {"screens": _screens(screens), "previous": previous, "errors": errors}, timeout)


async def error_texts(scope: Scope, selectors: str) -> list[str]:
    """The shown error messages of the page (elements of `selectors` with text)."""
    return await _evaluate(scope, "errorTexts", selectors)


# ---- waiting --------------------------------------------------------------------------------------
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
                value = await _run(scope, body, {"arg": arg, "token": token, "timeout": left * 1000}, left * 1000)
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


def origin(url: str) -> str:
    """scheme://host:port of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def plain_url(url: str) -> str:
    """A URL for messages: without its query and fragment (codes and states travel there)."""
    return url.split("?")[0].split("#")[0]
