"""The run's clock: the machine's, or a fixed day (`VCS_ROBOT_TODAY`).

The day a run believes it is decides the dates it writes to the sites (a token's custom end date, a secret's
description) and the dates its browser's pages show. With a fixed day the clock reads noon UTC of that day
when the settings are loaded and runs on in real time from there, and each browser context gets the same
clock (Playwright's clock API), so images of pages that show dates are the same on any day. Timestamps of
what happened (the journal, the report) stay the machine's.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

NOON = dt.time(12, 0, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class RunClock:
    day: dt.date | None = None  # None: the machine's clock
    started: float = field(default_factory=time.time, compare=False)

    @property
    def fixed(self) -> bool:
        return self.day is not None

    def now(self) -> dt.datetime:
        if self.day is None:
            return dt.datetime.now(dt.timezone.utc)
        return dt.datetime.combine(self.day, NOON) + dt.timedelta(seconds=time.time() - self.started)

    def today(self) -> dt.date:
        return self.now().date()
