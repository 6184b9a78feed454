"""Recording the pages the check walks, for `vcs-robot fidelity` (robot/fidelity.py).

Every lookup a page object makes with `robot.locate.find` names its site, page and step (`Where`, `step`)
and the words it looks for (its candidates). While recording, `find` in each page module is wrapped: after
each lookup (found or not) the page's main region is snapshotted with `locator.aria_snapshot()`. Per
site / page / step the distinct snapshots are kept with the lookups made on them; pages the robot reads
without `find` are added by the walk (`Recorder.page`). Nothing is written until the end of the walk,
and everything is scrubbed first (robot.fidelity.Scrubber), when every private value the walk met is known.
"""
from __future__ import annotations

import contextlib
import importlib
import pkgutil
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

import robot.pages
from robot import fidelity, locate
from robot.locate import Candidate, Scope, Where, page_of

SNAPSHOT_TIMEOUT_MS = 5_000
_ROLE = re.compile(r"^role=(\w+) name~")


@dataclass
class PageRecord:
    site: str
    page: str
    step: str
    url: str = ""
    snapshots: list[str] = field(default_factory=list)
    lookups: list[dict] = field(default_factory=list)


def lookup_of(element: str, candidates: tuple[Candidate, ...], found: bool, snapshot: int) -> dict:
    """What a lookup looked for: the words of its candidates, the roles its role candidates want, and
    whether a label / placeholder or plain-text candidate was among them (then any element showing the
    words counts). Ids and CSS carry no words: they are left out."""
    roles = sorted({m.group(1) for c in candidates if (m := _ROLE.match(c.description))})
    kinds = {c.description.split("~")[0].split()[-1] for c in candidates if c.words}
    words = list(dict.fromkeys(w for c in candidates for w in c.words))
    return {"element": element, "words": words, "roles": roles, "field": bool(kinds & {"label", "placeholder"}),
            "text": "text" in kinds, "found": found, "snapshot": snapshot}


async def main_snapshot(page: Page) -> str | None:
    """The ARIA snapshot of the page's main landmark (the first shown), else of its body."""
    try:
        main = page.get_by_role("main").filter(visible=True)
        region = main.first if await main.count() else page.locator("body")
        return fidelity.normalize(await region.aria_snapshot(timeout=SNAPSHOT_TIMEOUT_MS))
    except PlaywrightError:  # the page is navigating or gone: no snapshot this time
        return None


class Recorder:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], PageRecord] = {}

    async def page(self, page: Page, where: Where, step: str, lookups: tuple[tuple[str, tuple[Candidate, ...]], ...]
                   = (), found: bool = True) -> None:
        """Snapshots `page` as `where` / `step`, with the lookups (element, candidates) made there."""
        text = await main_snapshot(page)
        if text is None:
            return
        record = self.records.setdefault((where.site, where.page, step), PageRecord(where.site, where.page, step))
        record.url = record.url or page.url
        if text not in record.snapshots:
            record.snapshots.append(text)
        index = record.snapshots.index(text)
        for element, candidates in lookups:
            lookup = lookup_of(element, candidates, found, index)
            same = [old for old in record.lookups if (old["element"], old["words"]) == (element, lookup["words"])]
            if not same:
                record.lookups.append(lookup)
            elif not found:  # looked up again and not found this time: that is what counts
                same[0].update(found=False, snapshot=index)

    def _recording(self, real: Callable[..., Awaitable[Any]],
                   lookups: Callable[..., tuple[tuple[str, tuple[Candidate, ...]], ...]]) -> Callable[..., Any]:
        """`real` (find or find_each), recording its page after each call with the lookups its arguments name."""
        async def recorded(scope: Scope, where: Where, step: str, *args: Any, **options: Any) -> Any:
            try:
                hit = await real(scope, where, step, *args, **options)
            except Exception:
                await self.page(page_of(scope), where, step, lookups(*args), found=False)
                raise
            await self.page(page_of(scope), where, step, lookups(*args))
            return hit
        return recorded

    @contextlib.contextmanager
    def hooked(self) -> Iterator[None]:
        """Within: every page module's `find` and `find_each` record its page after each lookup."""
        hooks = {locate.find: self._recording(locate.find, lambda element, *candidates: ((element, candidates),)),
                 locate.find_each: self._recording(locate.find_each, lambda elements: tuple(elements.items()))}
        modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(robot.pages.__path__, "robot.pages.")]
        patched = [(m, name, real) for m in modules for name in ("find", "find_each")
                   if (real := getattr(m, name, None)) in hooks]
        for module, name, real in patched:
            setattr(module, name, hooks[real])
        try:
            yield
        finally:
            for module, name, real in patched:
                setattr(module, name, real)

    def write(self, folder: Path, scrubber: fidelity.Scrubber, meta: dict) -> None:
        """One YAML file per site / page / step, and index.yaml; every text scrubbed first."""
        folder.mkdir(parents=True, exist_ok=True)
        fidelity.clear(folder)
        scrubber.learn([r.url for r in self.records.values()] + [s for r in self.records.values() for s in r.snapshots])
        scrubber.keep(w for r in self.records.values() for lookup in r.lookups for w in lookup["words"])
        pages = []
        for record in self.records.values():
            site, page, step = (scrubber.scrub(v) for v in (record.site, record.page, record.step))
            path = fidelity.page_path(site, page, step)
            data = {"site": site, "page": page, "step": step, "url": scrubber.scrub(record.url),
                    "lookups": [scrubber.scrub_lookup(lk) for lk in record.lookups],
                    "snapshots": [scrubber.scrub(s) for s in record.snapshots]}
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(fidelity.dump_yaml(data), encoding="utf-8")
            pages.append({"file": path, "site": site, "page": page, "step": step})
        index = {fidelity.MARKER: fidelity.FORMAT,
                 "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 **{k: scrubber.scrub(v) if isinstance(v, str) else v for k, v in meta.items()},
                 "pages": pages}
        (folder / fidelity.INDEX).write_text(yaml.safe_dump(index, sort_keys=False, allow_unicode=True),
                                             encoding="utf-8")
