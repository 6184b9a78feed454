"""Moves Python's clock in every process of a test run (time-machine), for the suite's clock runs:

    VCS_ROBOT_TEST_CLOCK=2031-12-31T23:58:00Z make test

The first process that sees VCS_ROBOT_TEST_CLOCK works out how far that moment is from now and leaves the
distance in VCS_ROBOT_TEST_CLOCK_SHIFT; it and every process it starts (pytest-xdist workers, the `vcs-robot`
commands the tests run) then travel by that distance with the clock ticking, so they all agree on the time.
tests/conftest.py puts this folder on PYTHONPATH, which makes Python import this file at start-up. The
browser's clock is not moved (it is another program): what a page computes from its own clock stays today.
"""
from __future__ import annotations

import datetime as dt
import os
import time

CLOCK, SHIFT = "VCS_ROBOT_TEST_CLOCK", "VCS_ROBOT_TEST_CLOCK_SHIFT"
_started = False


def travel() -> None:
    global _started
    if _started or not os.environ.get(CLOCK):
        return
    import time_machine
    if not os.environ.get(SHIFT):
        moment = dt.datetime.fromisoformat(os.environ[CLOCK].replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        os.environ[SHIFT] = str(moment.timestamp() - time.time())
    time_machine.travel(time.time() + float(os.environ[SHIFT]), tick=True).start()
    _started = True


travel()
