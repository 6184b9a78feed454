"""Finding elements the way a person does: by role, label and visible text, with known variants.

`find` waits for the first of several candidate locators to appear (no sleeping), returns the one
that matched, and when none does raises `DriftError` naming the site, page, step and every candidate.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from .errors import AmbiguousElement, DriftError

DEFAULT_TIMEOUT_MS = 15_000
_strict: contextvars.ContextVar[bool] = contextvars.ContextVar("strict", default=False)
_timeout: contextvars.ContextVar[float] = contextvars.ContextVar("timeout", default=DEFAULT_TIMEOUT_MS)


@contextlib.contextmanager
def strict_matching(timeout_ms: float = DEFAULT_TIMEOUT_MS) -> Iterator[None]:
    """Within: an element found by `find` must be visible exactly once, and is waited for at most
    `timeout_ms` (the UI check's mode)."""
    tokens = _strict.set(True), _timeout.set(timeout_ms)
    try:
        yield
    finally:
        _strict.reset(tokens[0])
        _timeout.reset(tokens[1])


def names(*variants: str) -> re.Pattern:
    """An accessible-name pattern matching any variant exactly, case-insensitively, spaces relaxed."""
    alternatives = "|".join(r"\s+".join(map(re.escape, v.split())) for v in variants)
    return re.compile(rf"^\s*(?:{alternatives})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """One way to find an element: a description for error messages and how to build the locator."""

    description: str
    build: Callable[[Page | Locator], Locator]


# The roles the robot looks for (a subset of Playwright's ARIA roles).
Role = Literal["alert", "article", "button", "cell", "checkbox", "columnheader", "combobox", "definition", "dialog",
               "grid", "gridcell", "group", "heading", "link", "list", "listbox", "listitem", "menu", "menuitem",
               "navigation", "option", "radio", "region", "row", "rowheader", "tab", "table", "term", "textbox"]
State = Literal["attached", "detached", "hidden", "visible"]


def role(kind: Role, *variants: str) -> Candidate:
    return Candidate(f'role={kind} name~"{"|".join(variants)}"', lambda s: s.get_by_role(kind, name=names(*variants)))


def label(*variants: str) -> Candidate:
    return Candidate(f'label~"{"|".join(variants)}"', lambda s: s.get_by_label(names(*variants)))


def text(*variants: str) -> Candidate:
    return Candidate(f'text~"{"|".join(variants)}"', lambda s: s.get_by_text(names(*variants)))


def css(selector: str) -> Candidate:
    return Candidate(f"css={selector}", lambda s: s.locator(selector))


def visible_label(*variants: str) -> Candidate:
    """A field by its label, visible ones only (a form may keep hidden copies of its fields)."""
    return Candidate(f'visible label~"{"|".join(variants)}"',
                     lambda s: s.get_by_label(names(*variants)).filter(visible=True))


def role_alert() -> Candidate:
    return Candidate("role=alert", lambda s: s.get_by_role("alert"))


@dataclass(frozen=True)
class Where:
    """Which site, page and step a lookup belongs to (for drift reports)."""

    site: str
    page: str


async def find(scope: Page | Locator, where: Where, step: str, element: str, *candidates: Candidate,
               timeout: float | None = None, state: State = "visible") -> Locator:
    """Waits until one candidate matches and returns it; raises DriftError when none does in time."""
    timeout = _timeout.get() if timeout is None else timeout
    built = [c.build(scope) for c in candidates]
    combined = built[0]
    for loc in built[1:]:
        combined = combined.or_(loc)
    try:
        await combined.first.wait_for(state=state, timeout=timeout)
    except PlaywrightTimeout:
        page = scope if isinstance(scope, Page) else scope.page
        raise DriftError(where.site, where.page, step, element, [c.description for c in candidates],
                         plain_url(page.url)) from None
    for candidate, loc in zip(candidates, built):
        if await loc.count():
            if _strict.get() and (n := await loc.filter(visible=True).count()) > 1:
                page = scope if isinstance(scope, Page) else scope.page
                raise AmbiguousElement(where.site, where.page, step, element,
                                       f"{n} visible matches of {candidate.description}", plain_url(page.url))
            return loc.first
    return combined.first


async def present(scope: Page | Locator, *candidates: Candidate) -> Locator | None:
    """The first candidate present right now, or None (no waiting)."""
    for c in candidates:
        loc = c.build(scope)
        if await loc.count():
            return loc.first
    return None


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
