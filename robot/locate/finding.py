"""Finding elements: the first shown match of several candidates, waited for without sleeping; which of
several things a page shows next; drift reports that name the nearest words on the page."""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import difflib
import secrets
from collections.abc import Iterator
from typing import Literal

from playwright.async_api import Locator
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ..errors import AmbiguousElement, DriftError
from .candidates import Candidate, Scope, Where
from .page import DEFAULT_TIMEOUT_MS, ON_SCREEN, ask, first_shown, page_of, plain_url, tagged, union_of
from .waiting import until
from .words import names

State = Literal["attached", "detached", "hidden", "visible"]
_strict: contextvars.ContextVar[bool] = contextvars.ContextVar("strict", default=False)
_timeout: contextvars.ContextVar[float] = contextvars.ContextVar("timeout", default=DEFAULT_TIMEOUT_MS)


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


async def find(scope: Scope, where: Where, step: str, element: str, *candidates: Candidate,
               timeout: float | None = None, state: State = "visible") -> Locator:
    """Waits until a candidate shows and returns its first shown match; raises DriftError when none does.

    The cheap candidates (ids, CSS) win over the others; among those, the first shown in document order
    (candidates name the same element). A hidden or off-screen match never wins over a shown one."""
    timeout = _timeout.get() if timeout is None else timeout
    if state != "visible":
        union = union_of([c.build(scope) for c in candidates])
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
        if await ask(scope, "findEach", {"groups": [[c.spec for c in g] for g in elements.values()], "tag": tag}):
            return {name: tagged(scope, "find", f"{tag}-{i}") for i, name in enumerate(elements)}
    return {name: await find(scope, where, step, name, *group, timeout=timeout) for name, group in elements.items()}


async def checkboxes_to_set(scope: Scope, labels: list[str]) -> tuple[list[int], list[Locator], list[Locator]]:
    """For checking exactly the boxes named `labels` (in `scope`, one look): how many shown boxes each label
    names, the box of each label named once, and the other checked boxes."""
    tag = secrets.token_hex(6)
    found = await ask(scope, "checkboxesToSet", {"labels": labels, "tag": tag})
    wanted = [tagged(scope, "find", f"{tag}-want-{i}") for i, n in enumerate(found["counts"]) if n == 1]
    return found["counts"], wanted, [tagged(scope, "find", f"{tag}-drop-{j}") for j in range(found["drop"])]


async def wait_shown(scope: Scope, *candidates: Candidate, timeout: float = DEFAULT_TIMEOUT_MS) -> Locator:
    """`find` without the drift report: the first shown match of the candidates; PlaywrightTimeout when none
    shows in time (for races of what a page may show next)."""
    if all(c.spec for c in candidates):
        return (await first_of(scope, {"": candidates}, timeout))[1]
    built = [(c, c.build(scope).filter(visible=True)) for c in candidates]
    hit = await _find_by_playwright(built, union_of([loc for _, loc in built]), timeout)
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


SLICE_MS = 1_000
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
            if number := await until(scope, _FIND, arg, min(left, SLICE_MS)):
                return number - 1, tagged(scope, "find", tag)
        for index, group in enumerate(groups):
            for tier in _tiers(group):
                if hit := await first_shown(union_of([c.build(scope).filter(visible=True) for c in tier]),
                                            or_visible=True):
                    return index, hit
    return None


def _tiers(group: tuple[Candidate, ...]) -> list[list[Candidate]]:
    """The candidates in the order they may win: the loose ones only when nothing else shows."""
    return [tier for tier in ([c for c in group if not c.loose], [c for c in group if c.loose]) if tier]


async def _find_by_playwright(built: list[tuple[Candidate, Locator]], union: Locator, timeout: float) -> Locator | None:
    """Playwright's engines only: the cheap candidates looked at once, then the union waited for."""
    cheap = [loc for c, loc in built if c.cost == 0]
    hit = await first_shown(union_of(cheap)) if cheap else None
    if hit is None:
        try:
            await union.first.wait_for(state="visible", timeout=timeout)
        except PlaywrightTimeout:
            return None
        hit = await first_shown(union, or_visible=True)
    return hit


async def _only_one(built: list[tuple[Candidate, Locator]], where: Where, step: str, element: str,
                    scope: Scope) -> None:
    """The check's strict mode: the first candidate that matches must match one shown element."""
    for candidate, loc in built:
        if n := sum(await loc.evaluate_all(ON_SCREEN)):
            if n > 1:
                raise AmbiguousElement(where.site, where.page, step, element,
                                       f"{n} shown matches of {candidate.description}", plain_url(page_of(scope).url))
            return


async def present(scope: Scope, *candidates: Candidate) -> Locator | None:
    """The first match of the candidates shown right now, or None (no waiting, one round trip)."""
    return await first_shown(union_of([c.build(scope).filter(visible=True) for c in candidates]))


async def shown_now(scope: Scope, *candidates: Candidate) -> Locator | None:
    """The first match shown right now by the page-side reading alone (one round trip), or None. A miss is
    no proof of absence (Playwright's engines may find what it misses): for skipping a wait, not deciding."""
    if not all(c.spec for c in candidates):
        return await present(scope, *candidates)
    tag = secrets.token_hex(6)
    if await ask(scope, "findFirst", {"groups": [[c.spec for c in candidates]], "tag": tag}):
        return tagged(scope, "find", tag)
    return None


async def click_or_enter(field: Locator, *candidates: Candidate) -> None:
    """Clicks the first of `candidates` shown now (by their words alone: a word of context could be another
    button's, "Having trouble? Sign in another way"); when none shows, presses Enter in `field`: the form is sent
    as a person sends it, whatever its button says (hosted login pages word their buttons their own way)."""
    button = await shown_now(page_of(field), *(c for c in candidates if not c.loose))
    if button is None:
        await field.press("Enter")
    else:
        await button.click()


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
        shown = await ask(scope, "shownWords", None)
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
        if hit := await first_shown(item):
            await hit.click()
            return option
    await page.keyboard.press("Escape")
    return None
