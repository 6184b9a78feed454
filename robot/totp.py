"""TOTP codes that are never reused.

A site accepts each 30-second code once. The robot remembers, per secret, the last time window it
used (in memory and in a ledger file shared by runs and by processes on one machine, claimed under a
lock), and when that window is taken it waits for the next one: the only wait in the robot that is on
the clock, because the clock is the state.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp

from .secrets import Secret

_locks: dict[str, asyncio.Lock] = {}
_last_used: dict[str, int] = {}


def _key(secret: Secret) -> str:
    return hashlib.sha256(secret.reveal().encode()).hexdigest()[:16]


class TotpSource:
    """Hands out fresh codes for one TOTP secret; callers for the same secret are serialized."""

    def __init__(self, secret: Secret, ledger: Path | None = None, clock=time.time):
        self.secret = secret
        self.ledger = ledger
        self.clock = clock
        self._totp = pyotp.TOTP(secret.reveal())
        self.key = _key(secret)

    def _ledger_counter(self) -> int:
        if not self.ledger or not self.ledger.exists():
            return -1
        try:
            return int(json.loads(self.ledger.read_text()).get(self.key, -1))
        except (ValueError, OSError):
            return -1

    @contextlib.contextmanager
    def _ledger_locked(self) -> Iterator[dict[str, int]]:
        """The ledger's contents under an exclusive lock, written back when the block ends: processes
        sharing a state folder (shards on one machine) read, decide and write one at a time."""
        assert self.ledger is not None
        self.ledger.parent.mkdir(parents=True, exist_ok=True)
        with open(self.ledger.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data: dict[str, int] = {}
            try:
                data = json.loads(self.ledger.read_text())
            except (OSError, ValueError):
                pass
            yield data
            tmp = self.ledger.with_name(f"{self.ledger.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(data))
            tmp.replace(self.ledger)

    def _claim(self, counter: int) -> bool:
        """Takes window `counter` if neither this process nor any other sharing the ledger took it or a later
        one; the check and the record are one step under the ledger's lock."""
        if counter <= _last_used.get(self.key, -1):
            return False
        if self.ledger:
            with self._ledger_locked() as data:
                taken = int(data.get(self.key, -1))
                if counter > taken:
                    data[self.key] = counter
            if counter <= taken:
                _last_used[self.key] = max(taken, _last_used.get(self.key, -1))
                return False
        _last_used[self.key] = counter
        return True

    def _remember(self, counter: int) -> None:
        _last_used[self.key] = max(counter, _last_used.get(self.key, -1))
        if self.ledger:
            with self._ledger_locked() as data:
                data[self.key] = max(counter, int(data.get(self.key, -1)))

    def last_used(self) -> int:
        return max(_last_used.get(self.key, -1), self._ledger_counter())

    def mark_current_used(self) -> None:
        """The site said the code was used already (by someone else): never offer this window again."""
        self._remember(int(self.clock() // self._totp.interval))

    async def fresh_code(self) -> Secret:
        """A code from a window not used before, waiting for the next window when needed."""
        lock = _locks.setdefault(self.key, asyncio.Lock())
        async with lock:
            interval = self._totp.interval
            while True:
                now = self.clock()
                counter = int(now // interval)
                if self._claim(counter):
                    return Secret(self._totp.at(counter * interval), "totp code", register_value=False)
                wait = (counter + 1) * interval - now + 0.05
                await asyncio.sleep(wait)  # allowed-sleep: the next TOTP window is a clock state
