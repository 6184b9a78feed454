"""Finding and launching a usable Chromium.

Order: $VCS_ROBOT_CHROMIUM; Playwright's own browsers (`playwright install chromium`); Debian's
`chromium-headless-shell` for headless runs (about 2x faster, half the memory) and `chromium` for
headed runs.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Playwright, async_playwright
from playwright.async_api._context_manager import PlaywrightContextManager

try:  # Playwright's private transport module: without it, only the protection from group signals is lost
    from playwright._impl import transport as _transport
except ImportError:  # pragma: no cover
    _transport = None  # type: ignore[assignment]

DEBIAN_HEADLESS = ("chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell")
DEBIAN_FULL = ("chromium", "chromium-browser", "/usr/lib/chromium/chromium")
# Flags that keep Chromium off the network it cannot reach and quiet at start.
LAUNCH_ARGS = [
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--disable-domain-reliability", "--metrics-recording-only",
    "--font-render-hinting=none", "--force-color-profile=srgb", "--hide-scrollbars",
]


def start() -> PlaywrightContextManager:
    """`async_playwright()`, its driver (node) in a session of its own: a signal sent to the robot's whole process
    group (Ctrl-C in a terminal, a CI runner's SIGTERM) reaches the robot only, which stops its flows and then
    closes the browser itself (robot/interrupt.py). The driver still ends with the robot: its pipe closes."""
    _driver_in_own_session()
    return async_playwright()


class _OwnSession:
    """The `asyncio` Playwright's transport sees: the same, but its subprocesses start a new session."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def create_subprocess_exec(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(*args, start_new_session=True, **kwargs)


def _driver_in_own_session() -> None:
    if _transport is not None and getattr(_transport, "asyncio", None) is asyncio:
        _transport.asyncio = _OwnSession()  # type: ignore[assignment]


def _playwright_bundled(headless: bool) -> bool:
    """True when Playwright's own Chromium for this mode is installed."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    if not root.is_dir():
        return False
    prefixes = ("chromium_headless_shell-", "chromium-") if headless else ("chromium-",)
    return any(p.name.startswith(prefixes) and any(p.iterdir()) for p in root.iterdir() if p.is_dir())


def _which(candidates) -> str | None:
    for name in candidates:
        path = shutil.which(name) or (name if os.path.isfile(name) and os.access(name, os.X_OK) else None)
        if path:
            return path
    return None


def find_executable(headless: bool = True) -> str | None:
    """The Chromium to launch: a path, or None for Playwright's own. Raises when there is none."""
    explicit = os.environ.get("VCS_ROBOT_CHROMIUM")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise FileNotFoundError(f"VCS_ROBOT_CHROMIUM={explicit} is not an executable file")
        return explicit
    if _playwright_bundled(headless):
        return None
    path = _which(DEBIAN_HEADLESS + DEBIAN_FULL) if headless else _which(DEBIAN_FULL)
    if path:
        return path
    raise FileNotFoundError(
        "no Chromium found: run `playwright install chromium`, or on Debian "
        "`apt-get install chromium chromium-headless-shell fonts-liberation`")


async def launch(playwright: Playwright, headless: bool = True, slow_mo: float = 0) -> Browser:
    args = list(LAUNCH_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses its sandbox as root
    # the robot handles Ctrl-C and SIGTERM itself (robot/interrupt.py): a signal to the whole process group must
    # not close the browser under the flows before their steps are recorded as interrupted
    return await playwright.chromium.launch(
        executable_path=find_executable(headless), headless=headless, args=args, slow_mo=slow_mo,
        handle_sigint=False, handle_sigterm=False, handle_sighup=False)


async def connect(playwright: Playwright, endpoint: str) -> Browser:
    """A remote browser started with `playwright launch-server` (or a CDP endpoint for http URLs)."""
    if endpoint.startswith("http"):
        return await playwright.chromium.connect_over_cdp(endpoint)
    return await playwright.chromium.connect(endpoint)


if __name__ == "__main__":
    if "--check" in sys.argv:
        try:
            print(find_executable(True) or "playwright's own chromium")
        except FileNotFoundError as e:
            print(e, file=sys.stderr)
            sys.exit(1)
