"""Signed-in browser sessions kept between runs: Playwright storage state, mode 0600 (they are secrets).

`SessionStore` keeps one file per account pair in the state folder. An exported sessions file (written by
`vcs-robot sign-in --export`) holds the same states for every account pair of a plan in one file, so that
shards on many machines start signed in without each of them signing in (and spending a TOTP code)."""
from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from playwright.async_api import StorageState

from .errors import BadInput
from .model import Settings

EXPORT_FORMAT = "vcs-robot sessions 1"


def pair_key(settings: Settings) -> str:
    """One key per pair of accounts: both sites' cookies live in one browser context."""
    key = "|".join([settings.tfc_url, settings.tfc_username or "", settings.azure_devops_url,
                    settings.azure_username or ""])
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _write_private(path: Path, doc: Any) -> None:
    """Writes JSON readable by its owner only, atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    tmp.replace(path)


class SessionStore:
    def __init__(self, state_dir: Path):
        self.dir = Path(state_dir) / "sessions"

    def path_for(self, settings: Settings) -> Path:
        return self.dir / (pair_key(settings) + ".json")

    def load(self, settings: Settings) -> StorageState | None:
        path = self.path_for(settings)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def save(self, settings: Settings, state: StorageState) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        _write_private(self.path_for(settings), state)


def export_sessions(path: Path, signed_in: list[tuple[Settings, StorageState]]) -> None:
    """Writes the sessions of every account pair to one file (mode 0600): cookies and local storage, the
    account names they belong to, never a password."""
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    _write_private(path, {
        "format": EXPORT_FORMAT, "written": now.isoformat(),
        "sessions": [{"key": pair_key(s), "tfc_url": s.tfc_url, "tfc_username": s.tfc_username,
                      "azure_devops_url": s.azure_devops_url, "azure_username": s.azure_username, "state": state}
                     for s, state in signed_in]})


def read_sessions(path: Path) -> dict[str, StorageState]:
    """The states of an exported sessions file by account pair; a file that is not one is BadInput."""
    fix = "write it with `vcs-robot sign-in ORGS.yaml --export FILE`"
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as e:
        raise BadInput(f"--sessions {path}: cannot read it ({e.strerror}); {fix}") from None
    except ValueError:
        raise BadInput(f"--sessions {path}: not JSON; {fix}") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT or not isinstance(doc.get("sessions"), list):
        raise BadInput(f"--sessions {path}: not a sessions file of vcs-robot; {fix}")
    states = {}
    for n, entry in enumerate(doc["sessions"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) \
                or not isinstance(entry.get("state"), dict):
            raise BadInput(f"--sessions {path}: sessions[{n}]: needs a key and a state; {fix}")
        states[entry["key"]] = entry["state"]
    return states
