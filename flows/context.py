"""What every flow step gets: the org's task, the two browser tabs, identities, capture and records."""
from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Page

from robot.capture import Capture, Masks, Part
from robot.errors import FinalError
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
        """Stores values the next steps and a resumed run need (App ID, callback URL, token id)."""
        for key, value in values.items():
            setattr(self.result, key, value)
        if self.journal and self._current:
            self.journal.record(self.task.org, self._current.name, "progress",
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
            yield record
        except BaseException as e:
            record.status = "failed"
            record.error = str(e).splitlines()[0] if str(e) else type(e).__name__
            kind = "final" if isinstance(e, FinalError) else "transient"
            if self.journal:
                status = "interrupted" if not isinstance(e, Exception) else "failed"
                self.journal.record(self.task.org, name, status, error=record.error, error_kind=kind,
                                    seconds=time.perf_counter() - start)
            raise
        finally:
            record.seconds = round(time.perf_counter() - start, 3)
            self._current = None
        record.status = "done"
        if self.journal:
            self.journal.record(self.task.org, name, "done", seconds=record.seconds, detail="; ".join(record.notes))


_JOURNAL_FIELDS = {"app_id": "app_id", "callback_url": "callback_url",
                   "oauth_client_id": "client_id", "oauth_token_id": "token_id"}
