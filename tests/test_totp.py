"""robot.totp: fresh codes never reused, with a fake clock (no real waiting)."""
from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import sys
import time

import pyotp
import pytest

from robot import totp as totp_module
from robot.secrets import Secret
from robot.totp import TotpSource

_real_sleep = asyncio.sleep


class FakeClock:
    def __init__(self, start: float):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock(30 * 56_666_667 + 3.0)  # 3 s into a 30 s window

    async def fake_sleep(seconds, *args, **kwargs):
        c.sleeps.append(seconds)
        c.now += max(seconds, 0)
        await _real_sleep(0)

    monkeypatch.setattr(totp_module.asyncio, "sleep", fake_sleep)
    return c


@pytest.fixture
def secret():
    return Secret(pyotp.random_base32(), "totp secret")  # unique per test: the memory is per secret


def run(coro):
    return asyncio.run(coro)


def window(clock_value: float) -> int:
    return int(clock_value // 30)


def test_code_is_the_current_window(clock, secret):
    source = TotpSource(secret, clock=clock)
    code = run(source.fresh_code())
    assert isinstance(code, Secret)
    assert code.reveal() == pyotp.TOTP(secret.reveal()).at(clock.now)
    assert clock.sleeps == []


def test_second_code_waits_for_next_window(clock, secret):
    source = TotpSource(secret, clock=clock)
    first = run(source.fresh_code())
    start = clock.now
    second = run(source.fresh_code())
    assert len(clock.sleeps) == 1
    assert 26.9 < clock.sleeps[0] < 27.2  # 27 s left in the window, plus a margin
    assert window(clock.now) == window(start) + 1
    assert second.reveal() == pyotp.TOTP(secret.reveal()).at(clock.now)
    assert first != second


def test_no_wait_when_the_window_moved_on(clock, secret):
    source = TotpSource(secret, clock=clock)
    run(source.fresh_code())
    clock.now += 30
    run(source.fresh_code())
    assert clock.sleeps == []


def test_never_the_same_window_twice(clock, secret):
    source = TotpSource(secret, clock=clock)
    windows = []
    for step in [0, 1, 5, 29, 0, 31, 0, 0, 12, 60, 0]:
        clock.now += step
        run(source.fresh_code())
        windows.append(window(clock.now))
    assert len(windows) == len(set(windows))
    assert windows == sorted(windows)


def test_concurrent_callers_get_distinct_windows(clock, secret):
    source = TotpSource(secret, clock=clock)
    other = TotpSource(Secret(secret.reveal()), clock=clock)  # same secret, another object

    async def three():
        return await asyncio.gather(source.fresh_code(), other.fresh_code(), source.fresh_code())

    codes = run(three())
    assert len({c.reveal() for c in codes}) == 3
    assert len(clock.sleeps) == 2


def test_ledger_is_private_and_holds_no_secret(clock, secret, tmp_path):
    ledger = tmp_path / "state" / "totp-ledger.json"
    source = TotpSource(secret, ledger=ledger, clock=clock)
    run(source.fresh_code())
    assert ledger.exists()
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    text = ledger.read_text()
    assert secret.reveal() not in text
    data = json.loads(text)
    assert data[source.key] == window(clock.now)


def test_ledger_is_shared_between_runs(clock, secret, tmp_path, monkeypatch):
    ledger = tmp_path / "totp-ledger.json"
    run(TotpSource(secret, ledger=ledger, clock=clock).fresh_code())
    used = window(clock.now)
    # a new process: memory forgotten, only the ledger remains
    monkeypatch.setattr(totp_module, "_last_used", {})
    monkeypatch.setattr(totp_module, "_locks", {})
    again = TotpSource(Secret(secret.reveal()), ledger=ledger, clock=clock)
    assert again.last_used() == used
    run(again.fresh_code())
    assert window(clock.now) == used + 1 and len(clock.sleeps) == 1


def test_ledger_keeps_other_secrets(clock, tmp_path):
    ledger = tmp_path / "totp-ledger.json"
    a = TotpSource(Secret(pyotp.random_base32()), ledger=ledger, clock=clock)
    b = TotpSource(Secret(pyotp.random_base32()), ledger=ledger, clock=clock)
    run(a.fresh_code())
    run(b.fresh_code())
    assert set(json.loads(ledger.read_text())) == {a.key, b.key}
    assert clock.sleeps == []  # different secrets do not wait for each other


def test_corrupt_ledger_is_ignored(clock, secret, tmp_path):
    ledger = tmp_path / "totp-ledger.json"
    ledger.write_text("{not json")
    source = TotpSource(secret, ledger=ledger, clock=clock)
    assert source.last_used() == -1
    run(source.fresh_code())
    assert json.loads(ledger.read_text())[source.key] == window(clock.now)


def test_mark_current_used(clock, secret, tmp_path):
    source = TotpSource(secret, ledger=tmp_path / "l.json", clock=clock)
    source.mark_current_used()  # the site said this window's code was used by someone else
    run(source.fresh_code())
    assert len(clock.sleeps) == 1


def test_ledger_from_the_future_waits(clock, secret, tmp_path):
    # a ledger that recorded the current window (another run a moment ago) forces a wait
    ledger = tmp_path / "l.json"
    source = TotpSource(secret, ledger=ledger, clock=clock)
    ledger.write_text(json.dumps({source.key: window(clock.now)}))
    run(source.fresh_code())
    assert window(clock.now) == window(clock.now - clock.sleeps[0]) + 1


SHARED = pyotp.random_base32()
CLAIMER = """
import asyncio, sys, time
from pathlib import Path
from robot import totp
from robot.secrets import Secret

now = [30 * 56_666_667 + 3.0]  # every process starts in the same window, on its own fake clock
async def sleep(seconds, *args, **kwargs):
    now[0] += max(seconds, 0)
totp.asyncio.sleep = sleep
source = totp.TotpSource(Secret(sys.argv[1]), ledger=Path(sys.argv[2]), clock=lambda: now[0])
while time.time() < float(sys.argv[3]):  # start together
    pass
for _ in range(40):
    asyncio.run(source.fresh_code())
    print(totp._last_used[source.key], flush=True)
"""


def test_processes_sharing_a_ledger_never_take_the_same_window(tmp_path):
    """Shards on one machine signing in with one account: every code window goes to one process only."""
    ledger, start = tmp_path / "totp-ledger.json", time.time() + 1.5
    children = [subprocess.Popen([sys.executable, "-c", CLAIMER, SHARED,
                                  str(ledger), str(start)], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    taken = [int(line) for child in children for line in child.communicate(timeout=60)[0].split()]
    assert all(child.returncode == 0 for child in children)
    assert len(taken) == 160 and len(set(taken)) == 160, "two processes used the same code window"

