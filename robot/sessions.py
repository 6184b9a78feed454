"""Signed-in browser sessions kept between runs: Playwright storage state, mode 0600 (they are secrets)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from playwright.async_api import StorageState

from .model import Settings


class SessionStore:
    def __init__(self, state_dir: Path):
        self.dir = Path(state_dir) / "sessions"

    def path_for(self, settings: Settings) -> Path:
        """One file per pair of accounts: both sites' cookies live in one browser context."""
        key = "|".join([settings.tfc_url, settings.tfc_username or "", settings.azure_devops_url,
                        settings.azure_username or ""])
        return self.dir / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".json")

    def load(self, settings: Settings) -> StorageState | None:
        path = self.path_for(settings)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def save(self, settings: Settings, state: StorageState) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        path = self.path_for(settings)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(state, f)
        tmp.replace(path)
