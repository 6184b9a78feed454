"""Every heading, label and button word the robot knows is recognised by meaning, not as one exact phrase: the
same words rendered in other case, with punctuation, an article or possessive, a trailing colon, a word of
context before or after, and the label and value in one element, are found as the same control, field, value
and screen. The words are collected from the page objects themselves, so a new word is tested at once.

A test that would pass with exact strings fails here: every variant differs from every word the robot has."""
from __future__ import annotations

import asyncio
import importlib
import pkgutil

from playwright.async_api import async_playwright

import robot.pages
from robot import browser as browsers
from robot.locate import Screen, Where, control, cue, find, screen_of, text_field, value_next_to

# constants of the page objects that are not words a page shows
NOT_WORDS = ("PATHS", "ATTRS", "FORMATS", "SERVICES", "MARKERS", "DEFAULT_SCOPES", "REDIRECT_URI", "SEARCH")


def known_words() -> dict[str, tuple[str, ...]]:
    """Each word tuple of the page objects ("tfc.sign_in.CODE_LABELS" -> its variants)."""
    found: dict[str, tuple[str, ...]] = {}
    for info in pkgutil.walk_packages(robot.pages.__path__, "robot.pages."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (name.isupper() and isinstance(value, tuple) and value and all(isinstance(v, str) for v in value)
                    and not name.endswith(NOT_WORDS) and not any(c in value[0] for c in "{^\\[#%/")):
                found.setdefault(value[0].lower(), value)
    return {words[0]: words for words in found.values()}


WORDS = known_words()


def variants(word: str) -> dict[str, str]:
    return {"case": word.upper(), "colon": word.lower() + ":", "article": "Your " + word,
            "context after": word + " now", "context before": "Please " + word.lower(),
            "hyphens": word.replace(" ", "-") + "."}


def test_the_collection_holds_the_words_of_every_site():
    assert len(WORDS) > 100
    for word in ("Sign in", "one-time code", "App ID", "Callback URL", "Accept", "Reauthorize", "Skip and Finish",
                 "Directory (tenant) ID", "Create VCS provider"):
        assert any(word.lower() in (v.lower() for v in group) for group in WORDS.values()), word


async def _recognised(page, group: tuple[str, ...], shown: str, inline: bool) -> list[str]:
    """What of the four renderings of `shown` the robot does not recognise as `group`'s word."""
    await page.set_content(f"<main><section id=b><button>{shown}</button></section>"
                           f"<section id=f><label for=x>{shown}</label><input id=x></section>"
                           f"<section id=v><dl><dt>{shown}</dt><dd>value-one</dd></dl></section>"
                           f"<section id=l><p>{shown}: value-two</p></section>"
                           f"<section id=h><h2>{shown}</h2></section></main>")
    missed = []
    where = Where("S", "P")
    button = await find(page.locator("#b"), where, "s", "control", *control(*group), timeout=2000)
    if await button.inner_text() != shown:
        missed.append("control")
    field = await find(page.locator("#f"), where, "s", "field", *text_field(*group), timeout=2000)
    if await field.get_attribute("id") != "x":
        missed.append("field")
    if await value_next_to(page.locator("#v"), *group) != "value-one":
        missed.append("value")
    if inline and await value_next_to(page.locator("#l"), *group) != "value-two":
        missed.append("value inline")
    if await screen_of(page, (Screen("it", headings=(cue(*group),)),)) != "it":
        missed.append("heading")
    return missed


def test_every_known_word_is_recognised_in_every_variant():
    async def run() -> list[str]:
        async with async_playwright() as playwright:
            browser = await browsers.launch(playwright)
            try:
                page = await browser.new_page()
                failures = []
                for word, group in WORDS.items():
                    for kind, shown in variants(word).items():
                        try:
                            missed = await _recognised(page, group, shown, inline=":" not in shown)
                        except Exception as error:  # noqa: BLE001 - named below with the variant
                            missed = [type(error).__name__]
                        failures += [f"{word!r} as {shown!r} ({kind}): {m}" for m in missed]
                return failures
            finally:
                await browser.close()
    failures = asyncio.run(run())
    assert not failures, f"{len(failures)} not recognised:\n" + "\n".join(failures[:40])
