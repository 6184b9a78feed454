"""Candidates: the ways one element may be found (role, label, placeholder, text, CSS), each described for
drift reports and asked of the page by locate.js (`spec`) or of Playwright's engines (`build`)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from playwright.async_api import Locator, Page

from .words import field_names, field_phrase, names, phrase

# The roles the robot looks for (a subset of Playwright's ARIA roles).
Role = Literal["alert", "alertdialog", "article", "button", "cell", "checkbox", "columnheader", "combobox",
               "definition", "dialog", "grid", "gridcell", "group", "heading", "link", "list", "listbox", "listitem",
               "menu", "menuitem", "navigation", "option", "radio", "region", "row", "rowheader", "searchbox",
               "status", "switch", "tab", "table", "term", "textbox"]
Scope = Page | Locator


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

    @property
    def loose(self) -> bool:
        """A match with words of context around the wanted ones: taken only when no other candidate shows."""
        return bool(self.spec and self.spec.get("loose"))


def loosely(candidate: Candidate) -> Candidate:
    """`candidate` as a last resort (see Candidate.loose)."""
    return Candidate(f"{candidate.description} (in context)", candidate.build, candidate.cost, candidate.words,
                     {**(candidate.spec or {}), "loose": True})

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


def text_field(*variants: str, signals: tuple[str, ...] = ()) -> tuple[Candidate, ...]:
    """A text field by what names it: the signals it gives browsers and password managers first (CSS of its
    `autocomplete` token or input type: `signals`), then its label (`for`, wrapping, aria-labelledby or
    aria-label) or only a placeholder, by meaning; last, with a word of context around them."""
    exact, around = field_names(*variants), field_phrase(*variants)
    words = "|".join(variants)
    return (*(css(s) for s in signals), label(*variants),
            Candidate(f'placeholder~"{words}"', lambda s: s.get_by_placeholder(exact), words=variants,
                      spec=_spec("placeholder", exact)),
            loosely(Candidate(f'label~"{words}"', lambda s: s.get_by_label(around), words=variants,
                              spec=_spec("label", around))),
            loosely(Candidate(f'placeholder~"{words}"', lambda s: s.get_by_placeholder(around), words=variants,
                              spec=_spec("placeholder", around))))


def control(*variants: str) -> tuple[Candidate, ...]:
    """Something to click named by its words: a button, or a link styled as one; last, with a word of
    context around them ("Sign in now")."""
    around, words = phrase(*variants), "|".join(variants)
    return (role("button", *variants), role("link", *variants),
            loosely(role_matching("button", around, f'role=button name~"{words}"', variants)),
            loosely(role_matching("link", around, f'role=link name~"{words}"', variants)))


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
