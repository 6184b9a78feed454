"""Playwright traces record what was typed and every response body: scrub secrets out of them.

Traces are taken without screenshots (pixels cannot be scrubbed); every text entry of the zip has
each registered secret value, and every session cookie and authorization header, replaced by a mask.
"""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

from .secrets import MASK, redact

# Session cookies and bearer tokens in recorded headers: as secret as a password while they live.
_SENSITIVE_HEADER = re.compile(
    r'("name":\s*"(?i:cookie|set-cookie|authorization)",\s*"value":\s*")((?:[^"\\]|\\.)*)(")')


_COOKIE_LIST = re.compile(r'"cookies":\s*\[[^\]]*\]')
_COOKIE_VALUE = re.compile(r'("value":\s*")((?:[^"\\]|\\.)*)(")')


def scrub_text(text: str) -> str:
    """Registered secrets, cookie and authorization headers, and cookie lists, masked."""
    text = _SENSITIVE_HEADER.sub(lambda m: m.group(1) + MASK + m.group(3), redact(text))
    return _COOKIE_LIST.sub(lambda m: _COOKIE_VALUE.sub(lambda v: v.group(1) + MASK + v.group(3), m.group(0)), text)


def scrub_zip(path: Path) -> None:
    """Rewrites the zip at `path` with every registered secret value masked in every entry."""
    if not path.exists():
        return
    tmp = path.with_suffix(".scrubbing")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            text = data.decode("utf-8", errors="surrogateescape")
            cleaned = scrub_text(text)
            dst.writestr(item, cleaned.encode("utf-8", errors="surrogateescape") if cleaned != text else data)
    os.replace(tmp, path)
