"""Finding and launching a usable Chromium.

Order: $VCS_ROBOT_CHROMIUM; Playwright's own browsers (`playwright install chromium`); Debian's
`chromium-headless-shell` for headless runs (about 2x faster, half the memory) and `chromium` for
headed runs.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from playwright.async_api import Browser, Playwright

DEBIAN_HEADLESS = ("chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell")
DEBIAN_FULL = ("chromium", "chromium-browser", "/usr/lib/chromium/chromium")
# Flags that keep Chromium off the network it cannot reach and quiet at start.
LAUNCH_ARGS = [
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--disable-domain-reliability", "--metrics-recording-only",
    "--font-render-hinting=none", "--force-color-profile=srgb", "--hide-scrollbars",
]


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
    return await playwright.chromium.launch(
        executable_path=find_executable(headless), headless=headless, args=args, slow_mo=slow_mo)


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
