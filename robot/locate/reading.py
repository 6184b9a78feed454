"""Reading what a page shows, whatever its HTML: the value next to a label, the entries of a list (row,
item, card) and what each shows, the block around parts, readiness of controls."""
from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from .candidates import Candidate, Scope
from .finding import SLICE_MS, present, wait_shown
from .page import DEFAULT_TIMEOUT_MS, ask, page_of, run_js, tagged
from .waiting import until


async def value_next_to(scope: Scope, *labels: str) -> str | None:
    """The value shown next to a label (any of `labels`), or None when no shown label has one."""
    return await ask(scope, "valueNextTo", list(labels))


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
    if not await ask(scope, "tagValue", {"labels": list(labels), "tag": tag}):
        return None
    return tagged(scope, "value", tag)


async def entries(scope: Scope, markers: tuple[str, ...], furniture: tuple[str, ...] = ()) -> list[Locator]:
    """Each entry (row, list item, card, region) of a list: the largest block around one shown marker
    (a regular expression its text matches, e.g. "Callback URL"; the first of `markers` found on the page)
    that holds no other marker and none of the page's `furniture` (regular expressions of headings and
    controls outside the entries). In a table whose column header is the marker, each data row."""
    tag = secrets.token_hex(4)
    count = await ask(scope, "entries", {"markers": list(markers), "furniture": list(furniture), "tag": tag})
    return [tagged(scope, "entry", f"{tag}-{i}") for i in range(count)]


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
    info = await run_js(entry, "return describe(root, input);", list(name_labels))
    return EntryView(info["name"], info["text"], info["values"], info["links"])


async def described_entries(scope: Scope, markers: tuple[str, ...], furniture: tuple[str, ...] = (),
                            name_labels: tuple[str, ...] = ("Name", "Display name")) -> list[tuple[Locator, EntryView]]:
    """`entries` with what each shows (`describe`), read in one look."""
    tag = secrets.token_hex(4)
    views = await ask(scope, "describedEntries", {"markers": list(markers), "furniture": list(furniture),
                                                        "tag": tag, "nameLabels": list(name_labels)})
    return [(tagged(scope, "entry", f"{tag}-{i}"),
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
    return tagged(scope, "block", tag)


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
            if await until(scope, _BLOCK, arg, min(left, SLICE_MS)):
                return tagged(scope, "block", tag)
        parts = [await present(scope, *group) for group in groups]
        if all(parts):
            return await block_around(scope, *[p for p in parts if p])
    raise PlaywrightTimeout(f"Timeout {timeout:.0f}ms exceeded waiting for the block of {groups[0][0].description}")
