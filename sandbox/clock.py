"""The sandbox's clock: the machine's time, or a fixed day (`SandboxOptions.today`).

With a fixed day the clock reads noon UTC of that day when the sandbox starts and runs on in real time from
there, so every date a page shows or checks (secrets' and tokens' end dates, "today" in a date picker) is the
same on any day the sandbox runs. Two-factor codes are about the physical moment (an authenticator app does
not know the sandbox's day): `physical` turns a reading of this clock back into the machine's time for them.
"""
from __future__ import annotations

import datetime as dt
import time

NOON = dt.time(12, 0, tzinfo=dt.timezone.utc)


def noon_of(day: dt.date) -> float:
    return dt.datetime.combine(day, NOON).timestamp()


class Clock:
    """`clock()` is the sandbox's time in seconds since the epoch; `today()` its date (UTC)."""

    def __init__(self, today: dt.date | None = None):
        self.fixed_day = today
        self.offset = noon_of(today) - time.time() if today else 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def physical(self, reading: float) -> float:
        """The machine's time of a reading of this clock (for two-factor codes)."""
        return reading - self.offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self(), dt.timezone.utc)

    def today(self) -> dt.date:
        return self.now().date()
