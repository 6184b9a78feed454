"""Screens: the known steps of a multi-step page (sign-in), each recognised by what it shows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.async_api import Page

from .candidates import Scope
from .page import ask
from .waiting import until


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
    return await ask(page, "screenOf", _screens(screens))


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
    return await ask(scope, "errorTexts", selectors)
