"""Progress on the terminal: a live table with each org's state on a TTY, plain lines otherwise."""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table

FINAL = {"connected", "failed"}


class Progress:
    def __init__(self, orgs: list[str], stream: TextIO, done: Sequence[str] = ()):
        self.states = {org: ("connected" if org in done else "waiting") for org in orgs}
        self.stream = stream
        self.started = time.perf_counter()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._live: Live | None = None
        self._lock = threading.Lock()

    def __enter__(self):
        if self.tty:
            self._live = Live(self._render(), console=Console(file=self.stream), refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc):
        if self._live:
            self._live.__exit__(*exc)

    def update(self, org: str, status: str) -> None:
        with self._lock:
            self.states[org] = status
            if self._live:
                self._live.update(self._render())
            elif status in FINAL:
                finished = sum(s in FINAL for s in self.states.values())
                print(f"[{finished}/{len(self.states)}] {org} {status} "
                      f"({time.perf_counter() - self.started:.1f}s)", file=self.stream, flush=True)

    def _render(self) -> Table:
        finished = sum(s in FINAL for s in self.states.values())
        table = Table.grid(padding=(0, 2))
        table.add_row(ProgressBar(total=len(self.states), completed=finished, width=40),
                      f"{finished}/{len(self.states)}  {time.perf_counter() - self.started:.0f}s")
        for org, status in self.states.items():
            if status not in ("waiting", "connected"):
                table.add_row(org, status)
        failed = [o for o, s in self.states.items() if s == "failed"]
        if failed:
            table.add_row("failed", ", ".join(failed))
        return table
