"""Ctrl-C and SIGTERM (a CI runner's cancel, Kubernetes stopping a pod): the first signal stops the run cleanly,
a second ends the process at once.

A command runs inside `stoppable()`, its event loops through `run()`. The first signal is noted (`requested()`),
and the main task of the running loop is cancelled: the flows see CancelledError, their step in flight is
recorded as interrupted, the runner takes no new organization, and the command writes its reports and exits
with `exit_code()` (130 for SIGINT, 143 for SIGTERM). The browser is launched without Playwright's own signal
handlers, so a Ctrl-C sent to the whole process group does not close it under the flows first.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)
_requested: list[int] = []  # the signal that asked to stop, once one did
_running: list[asyncio.Task[Any]] = []  # the main task of each loop running now
_said: list[str] = []


class Stopped(BaseException):
    """A stop request ended the run's main task before it could hand back what it had."""


def requested() -> bool:
    """Whether a signal asked the run to stop."""
    return bool(_requested)


def exit_code() -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + (_requested[0] if _requested else signal.SIGINT)


def say(line: str) -> None:
    """The one line a stopped command prints (stderr)."""
    _said.append(line)
    print(line, file=sys.stderr)


def said() -> bool:
    return bool(_said)


def _on_signal(signum: int, _frame: object) -> None:
    if _requested:  # the second: at once (the journal holds every step so far; the browser's pipe closes)
        os._exit(128 + signum)
    _requested.append(signum)
    for task in list(_running):
        task.get_loop().call_soon_threadsafe(task.cancel)


@contextlib.contextmanager
def raising() -> Iterator[None]:
    """Inside a stoppable command, for code that stops on KeyboardInterrupt (pytest): the first signal is noted
    and raised as KeyboardInterrupt."""
    def on_signal(signum: int, frame: object) -> None:
        first = not _requested
        _on_signal(signum, frame)
        if first:
            raise KeyboardInterrupt

    before = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """The signal handlers of a command's run (main thread only), restored after."""
    before = {s: signal.signal(s, _on_signal) for s in SIGNALS}
    _requested.clear()
    _said.clear()
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, whose main task a stop request cancels: `main` ends early on CancelledError with what it has
    (robot.runner.run_orgs), or lets it through, and then this raises Stopped."""
    async def cancellable() -> T:
        task = asyncio.current_task()
        assert task is not None
        _running.append(task)
        try:
            if _requested:  # asked to stop before the loop started
                task.cancel()
            return await main
        except asyncio.CancelledError:
            if _requested:
                raise Stopped from None
            raise
        finally:
            _running.remove(task)

    return asyncio.run(cancellable())
