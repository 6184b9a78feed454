"""What every flow step gets: the org's task, the two browser tabs, identities, capture and records."""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from robot import interrupt
from robot.capture import Capture, Masks, Part
from robot.errors import DriftError, FinalError, RobotError, TransientError
from robot.identity import Identity
from robot.journal import Journal
from robot.model import OrgResult, OrgTask, Settings, StepRecord

log = logging.getLogger("vcs_robot")


@dataclass
class FlowContext:
    task: OrgTask
    settings: Settings
    tfc_page: Page
    ado_page: Page
    tfc: Identity
    azure: Identity
    capture: Capture
    result: OrgResult
    journal: Journal | None = None
    allow: frozenset[str] = frozenset()  # options the user gave for irreversible acts (flows/safety.py)
    _current: StepRecord | None = None

    @property
    def current_step(self) -> str | None:
        return self._current.name if self._current else None

    def note(self, text: str) -> None:
        """A remark on the current step (what was found, what was reused)."""
        if self._current:
            self._current.notes.append(text)
        log.info("%s: %s: %s", self.task.org, self._current.name if self._current else "-", text)

    def warn(self, text: str) -> None:
        """A warning on the organization (the report shows it): what could not be read or done, while the work
        itself is done."""
        self.result.warnings.append(text)
        self.note(f"warning: {text}")

    def remember(self, **values: Any) -> None:
        """Stores values the next steps and a resumed run need (App ID, callback URL, token id, and when the
        credential ends: journaled as "expires <date>")."""
        for key, value in values.items():
            setattr(self.result, key, value)
        if self.journal and self._current:
            detail = f"{EXPIRES}{values['expires']}" if values.get("expires") else None
            self.journal.record(self.task.org, self._current.name, "progress", detail=detail,
                                **{_JOURNAL_FIELDS[k]: v for k, v in values.items() if k in _JOURNAL_FIELDS})

    async def shot(self, step: str, page: Page, parts: dict[str, Part] | None = None,
                   masks: Masks | None = None) -> None:
        await self.capture.shot(step, page, parts, masks)

    @asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[StepRecord]:
        """Times a docs step and records its start and end in the result and the journal."""
        record = StepRecord(name)
        self.result.steps.append(record)
        self._current = record
        if self.journal:
            self.journal.record(self.task.org, name, "started")
        start = time.perf_counter()
        try:
            try:
                yield record
            except PlaywrightTimeout as timeout:
                raise await explain_timeout(self, timeout) from None
        except BaseException as e:
            if interrupt.requested():  # Ctrl-C or SIGTERM: whatever ends the step then is not the sites' doing
                record.status = "interrupted"
                if self.journal:
                    self.journal.record(self.task.org, name, "interrupted", seconds=time.perf_counter() - start)
                raise
            # a failure; or the flow cancelled because a page broke: the attempt failed here, the step was cut
            record.status = "failed"
            record.error = str(e).splitlines()[0] if str(e) else type(e).__name__
            if self.journal:
                self.journal.record(self.task.org, name, "failed" if isinstance(e, Exception) else "interrupted",
                                    error=record.error, error_kind="final" if isinstance(e, FinalError)
                                    else "transient", seconds=time.perf_counter() - start)
            raise
        finally:
            record.seconds = round(time.perf_counter() - start, 3)
            self._current = None
        record.status = "done"
        if self.journal:
            self.journal.record(self.task.org, name, "done", seconds=record.seconds, detail="; ".join(record.notes))


async def explain_timeout(ctx: FlowContext, timeout: PlaywrightTimeout) -> RobotError:
    """A wait that ended without what the robot expected, named by what shows: a drift error naming the sites'
    pages (their headings and addresses) and the step (final: the page is there, it shows something else), or,
    while a page is still loading, a transient error (a slow load)."""
    lines = str(timeout).splitlines()
    waited = next((line.strip(" -") for line in lines if "waiting for" in line), lines[0] if lines else "")
    shown, loading = [], False
    for page in (ctx.tfc_page, ctx.ado_page):
        with contextlib.suppress(PlaywrightError):
            state, heading = await page.evaluate(_WHAT_SHOWS)
            loading = loading or state == "loading"
            if heading or page.url != "about:blank":
                shown.append(f"{_site(ctx.settings, page.url)} shows {heading or 'no heading'!r} at "
                             f"{page.url.split('?')[0].split('#')[0]}")
    if loading:
        return TransientError(f"{ctx.current_step or 'a step'}: a page was still loading after the wait ({waited})")
    error = DriftError("the sites", "; ".join(shown) or "no page", ctx.current_step or "flow", waited.replace(
        "waiting for ", "") or "what the step expected", ["a wait that ended (timeout)"])
    error.args = (f"{ctx.current_step or 'flow'}: the page the robot expected did not come ({waited}); "
                  + ("; ".join(shown) or "no page is open"),)
    return error


_WHAT_SHOWS = """() => {
  const h = Array.from(document.querySelectorAll('h1, h2, [role=heading]'))
    .find(e => e.offsetParent && e.textContent.trim());
  return [document.readyState, h ? h.textContent.replace(/\\s+/g, ' ').trim().slice(0, 80) : ''];
}"""


def _site(settings: Settings, url: str) -> str:
    """Which site an address belongs to, by the settings' URLs (else its host)."""
    host = urlsplit(url).netloc
    for name, base in (("Terraform Cloud", settings.tfc_url), ("Azure DevOps", settings.azure_devops_url),
                       ("Azure DevOps", settings.azure_devops_org_url), ("Microsoft Entra", settings.entra_url)):
        if urlsplit(base).netloc == host:
            return name
    return host


EXPIRES = "expires "  # journal detail: when the org's credential ends


def journaled_expiry(journal: Journal, org: str) -> str:
    """The end date of `org`'s credential the journal last recorded ("" when none)."""
    ends = [e["detail"][len(EXPIRES):] for e in journal.steps(org) if (e["detail"] or "").startswith(EXPIRES)]
    return ends[-1] if ends else ""


_JOURNAL_FIELDS = {"app_id": "app_id", "callback_url": "callback_url",
                   "oauth_client_id": "client_id", "oauth_token_id": "token_id"}
