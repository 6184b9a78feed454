"""Which organizations this run takes: `--only NAME...` and `--shard K/N` (a stable partition)."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .values import bad

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(spec: str) -> tuple[int, int]:
    """"K/N" -> (k, n) with 1 <= K <= N."""
    match = _SHARD_RE.match(spec or "") if isinstance(spec, str) else None
    if not match:
        raise bad(f'--shard "{spec}" is not K/N: write e.g. --shard 1/4 (this machine takes part 1 of 4)')
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1 or not 1 <= k <= n:
        raise bad(f'--shard "{spec}" is out of range: K must be between 1 and N, e.g. --shard 1/{max(n, 1)}')
    return k, n


def shard_of(org_name: str, n: int) -> int:
    """The shard (1-based) of an organization: sha256 of its lower-cased name mod n; the same everywhere."""
    if n < 1:
        raise ValueError("n must be at least 1")
    digest = hashlib.sha256(org_name.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def _name(org: Any) -> str:
    return org if isinstance(org, str) else org.name


def select_orgs(orgs: Sequence[Any], shard: str | tuple[int, int] | None = None,
                only: Iterable[str] | None = None) -> list:
    """The orgs this run handles: those named by --only (if any), then those of --shard K/N (if any).

    `orgs` are OrgSpecs (or names); the file's order is kept. Unknown --only names are BadInput.
    """
    selected = list(orgs)
    only = [o for o in (only or []) if o is not None]
    if only:
        by_name = {_name(o).lower(): o for o in selected}
        for wanted in only:
            if wanted.lower() not in by_name:
                known = [_name(o) for o in selected]
                shown = ", ".join(known[:10]) + (f", ... ({len(known)} in all)" if len(known) > 10 else "")
                raise bad(f'--only "{wanted}" is not an organization of the file (known: {shown}): '
                           "check the spelling")
        wanted_set = {w.lower() for w in only}
        selected = [o for o in selected if _name(o).lower() in wanted_set]
    if shard is not None:
        k, n = parse_shard(shard) if isinstance(shard, str) else shard
        if n < 1 or not 1 <= k <= n:
            raise bad(f"--shard {k}/{n} is out of range: K must be between 1 and N")
        selected = [o for o in selected if shard_of(_name(o), n) == k]
    return selected
