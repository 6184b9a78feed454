"""The page-side half: locate.js in every document (`install`), questions asked of it in one round trip
(`run_js`, `ask`), the elements it tags, documents and their readiness, and addresses for messages."""
from __future__ import annotations

import hashlib
import json
import re
import weakref
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Locator, Page

from .candidates import Scope

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
ON_SCREEN = f"(els) => {{ {_SHOWN}; return els.map(shown); }}"


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


def page_of(scope: Scope) -> Page:
    return scope if isinstance(scope, Page) else scope.page


_tag_selectors: weakref.WeakKeyDictionary[Locator, str] = weakref.WeakKeyDictionary()


def tagged(scope: Scope, kind: str, tag: str) -> Locator:
    """The element locate.js tagged `tag` (its attribute data-vcs-robot-`kind`; tags accumulate)."""
    selector = f'[data-vcs-robot-{kind}~="{tag}"]'
    locator = page_of(scope).locator(selector)
    _tag_selectors[locator] = selector  # a question asked inside it finds it in the page (see run_js)
    return locator


async def first_shown(loc: Locator, or_visible: bool = False) -> Locator | None:
    """The first match that is shown on screen (a visible but off-screen copy does not count); with
    `or_visible`, when only such copies match (`loc` filtered visible), the first of them."""
    flags = await loc.evaluate_all(ON_SCREEN)
    first = next((loc.nth(i) for i, ok in enumerate(flags) if ok), None)
    return loc.first if first is None and flags and or_visible else first


def union_of(locators: list[Locator]) -> Locator:
    union = locators[0]
    for loc in locators[1:]:
        union = union.or_(loc)
    return union


async def install(context: BrowserContext) -> None:
    """Puts locate.js in every document of `context` as it loads (an init script): no question then has to
    bring it (a round trip and 26 KB per document otherwise)."""
    await context.add_init_script(script=_INSTALL)


def _script(root: str, body: str, library: str, head: str = "(json)") -> str:
    return f"{head} => {{ {library} const {{ {_EXPORTS} }} = L; newLook(); const input = JSON.parse(json); " \
           f"{root} {body} }}"


_BODY = "const root = document.body || document.documentElement;"
_GONE = "__vcs-robot-element-gone__"


async def run_js(scope: Scope, body: str, arg: Any, timeout: float | None = None) -> Any:
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


async def ask(scope: Scope, function: str, arg: Any) -> Any:
    return await run_js(scope, f"return {function}(root, input);", arg)


async def read(element: Locator, body: str) -> Any:
    """Runs `body` (JavaScript statements returning a value) with `root` the element: one round trip for an
    element the robot found (tagged), two otherwise."""
    return await run_js(element, body, None)


def origin(url: str) -> str:
    """scheme://host:port of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def plain_url(url: str) -> str:
    """A URL for messages: without its query and fragment (codes and states travel there)."""
    return url.split("?")[0].split("#")[0]
